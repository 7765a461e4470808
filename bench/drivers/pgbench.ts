/**
 * pgbench on the product-by-id statement: contender (d), the database's own
 * limit on this machine, with nothing but libpq between the client and
 * Postgres. Prepared statements (`-M prepared`), like Holdfast's; latency
 * percentiles come from a 10% sample of its per-transaction log.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriverResult } from './types.ts';
import { runToEnd } from '../../scripts/process/run-to-end.ts';

/** @example const spec: PgbenchSpec = { databaseUrl, clients: 32, threads: 2, durationMs: 10_000, products: 100_000 }; */
export interface PgbenchSpec {
  databaseUrl: string;
  clients: number;
  threads: number;
  durationMs: number;
  /** Highest product id. */
  products: number;
  binary?: string;
}

/**
 * The custom script: a random id, then Holdfast's product lookup. The
 * timestamp is selected raw rather than through Holdfast's `to_char(…,
 * 'HH24:MI:SS…')`: pgbench takes every `:name` in a statement for one of
 * its variables and has no way to escape one.
 *
 * @example
 * pgbenchScript(100_000); // '\\set id random(1, 100000)\nSELECT … WHERE id = :id;\n'
 */
export function pgbenchScript(products: number): string {
  return `\\set id random(1, ${products})\nSELECT id, sku, name, category, price_cents, stock, created_at FROM products WHERE id = :id;\n`;
}

/**
 * @example
 * parsePgbenchOutput('tps = 80370.1 (without initial connection time)\nnumber of transactions actually processed: 803701\n…');
 */
export function parsePgbenchOutput(output: string, latenciesMs: number[], durationS: number): DriverResult {
  const num = (re: RegExp) => {
    const m = re.exec(output);
    return m === null ? undefined : Number(m[1]);
  };
  const tps = num(/^tps = ([\d.]+)/m);
  if (tps === undefined) throw new Error(`pgbench printed no tps:\n${output.slice(-2000)}`);
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!);
  return {
    requests: num(/number of transactions actually processed: (\d+)/) ?? 0,
    durationS,
    reqPerSec: Math.round(tps * 10) / 10,
    p50Ms: sorted.length === 0 ? (num(/^latency average = ([\d.]+) ms/m) ?? 0) : at(0.5),
    p99Ms: at(0.99),
    timeouts: 0,
    socketErrors: 0,
    non2xx: num(/number of failed transactions: (\d+)/) ?? 0,
  };
}

/**
 * Runs pgbench once; the password travels in PGPASSWORD, never on the command line.
 *
 * @example
 * const result = await runPgbench({ databaseUrl, clients: 100, threads: 2, durationMs: 10_000, products: 100_000 });
 */
export async function runPgbench(spec: PgbenchSpec): Promise<DriverResult> {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-bench-pgbench-'));
  try {
    const script = join(dir, 'select.sql');
    await writeFile(script, pgbenchScript(spec.products));
    const url = new URL(spec.databaseUrl);
    const seconds = Math.max(1, Math.round(spec.durationMs / 1000));
    const args = [
      '-n',
      '-M',
      'prepared',
      '-c',
      String(spec.clients),
      '-j',
      String(Math.min(spec.threads, spec.clients)),
      '-T',
      String(seconds),
      '-f',
      script,
      '--log',
      '--sampling-rate=0.1',
      `--log-prefix=${join(dir, 'log')}`,
      '-h',
      url.hostname,
      '-p',
      url.port || '5432',
      '-U',
      decodeURIComponent(url.username || 'postgres'),
      decodeURIComponent(url.pathname.slice(1)),
    ];
    const env: Record<string, string> = url.password === '' ? {} : { PGPASSWORD: decodeURIComponent(url.password) };
    const output = await runToEnd(spec.binary ?? 'pgbench', args, spec.durationMs + 60_000, env);
    const latencies: number[] = [];
    for (const file of (await readdir(dir)).filter((f) => f.startsWith('log'))) {
      for (const line of (await readFile(join(dir, file), 'utf8')).split('\n')) {
        const us = Number(line.split(' ')[2]);
        if (Number.isFinite(us) && line !== '') latencies.push(us / 1000);
      }
    }
    return parsePgbenchOutput(output, latencies, seconds);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
