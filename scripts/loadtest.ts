/**
 * `npm run loadtest`: the original report's "Full Test", made real. Starts
 * Holdfast (or targets --url), drives it level by level with autocannon,
 * attributes each level's limit from /metrics, and writes the table, JSON
 * and an HTML report to reports/. See docs/LOADTEST.md.
 *
 * Exit codes: 0 done (whatever the numbers), 1 the run failed, 2 bad flags.
 */
import { readEnvironment, readSetting } from '../src/config/index.ts';
import { parseLoadtestArgs, USAGE } from './loadtest/args.ts';
import { runLoadtest, type LoadtestOptions } from './loadtest/run.ts';
import { abortOnSigint } from './loadtest/interrupt.ts';

let options: LoadtestOptions | 'help';
try {
  options = parseLoadtestArgs(process.argv.slice(2), { DATABASE_URL: readSetting('DATABASE_URL', readEnvironment()) });
} catch (err) {
  console.error(`${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (options === 'help') {
  console.log(USAGE);
  process.exit(0);
}

// Ctrl-C: cut the level short, report what was measured, stop the server
// this run started; a second Ctrl-C exits at once.
const interrupted = abortOnSigint('Interrupted; stopping…');

try {
  await runLoadtest({ ...options, signal: interrupted });
} catch (err) {
  console.error(`Load test failed: ${(err as Error).message}`);
  process.exitCode = 1;
}
