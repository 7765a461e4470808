import { readFileSync } from 'node:fs';
import { timeVariants, timingTable } from './sql-timing.ts';
const strip = (f: string) => readFileSync(f.replace(/:unnamed$/, ''), 'utf8').replace(/^PREPARE [^\n]*\n/, '').replace(/;\s*$/, '');
const url = process.argv[2]!;
const files = process.argv.slice(3);
const values = [null, Number(process.env.DAYS ?? 30), null, null, Number(process.env.LIMIT ?? 11)];
const variants = files.map((f) => ({ name: f, text: strip(f), values, prepared: !f.endsWith(':unnamed') }));
console.log(timingTable(await timeVariants(url, variants, { rounds: Number(process.env.ROUNDS ?? 9), warmup: 6 })));
