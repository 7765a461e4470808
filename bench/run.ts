/**
 * `npm run bench`: Holdfast side by side with the bare Fastify + pg floor,
 * a naive Express translation of the original, pgbench and a constant
 * Fastify, in one run on one machine, with the targets checked.
 * See docs/LOADTEST.md.
 *
 * Exit codes: 0 done (missed targets are reported, not failed), 1 the run failed, 2 bad flags.
 */
import { parseBenchArgs, BENCH_USAGE, type BenchOptions } from './args.ts';
import { runBench } from './bench.ts';
import { abortOnSigint } from '../scripts/loadtest/interrupt.ts';

let options: BenchOptions | 'help';
try {
  options = parseBenchArgs(process.argv.slice(2));
} catch (err) {
  console.error(`${(err as Error).message}\n\n${BENCH_USAGE}`);
  process.exit(2);
}
if (options === 'help') {
  console.log(BENCH_USAGE);
  process.exit(0);
}

// Ctrl-C: finish the current cell, stop the contender, write what was measured; twice exits at once.
const interrupted = abortOnSigint('Interrupted; finishing the current cell…');

try {
  await runBench(options, (line) => console.log(line), interrupted);
} catch (err) {
  console.error(`Bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
}
