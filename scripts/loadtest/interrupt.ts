/**
 * Ctrl-C for the load tools: the first one asks the run to stop cleanly
 * (finish or cut the current cell, stop what it started, report what was
 * measured); a second one exits at once. Shared by `npm run loadtest` and
 * `npm run bench`, which must both leave no server behind.
 *
 * @example
 * const signal = abortOnSigint('Interrupted; stopping…');
 * await runLoadtest({ ...options, signal });
 */
export function abortOnSigint(message: string): AbortSignal {
  const interrupted = new AbortController();
  process.once('SIGINT', () => {
    console.error(`\n${message}`);
    process.once('SIGINT', () => process.exit(130));
    process.exitCode = 130;
    interrupted.abort();
  });
  return interrupted.signal;
}
