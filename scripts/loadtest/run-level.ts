/**
 * Drives one load level with autocannon, programmatically: a fixed number
 * of connections for a duration (or, for `--ab`, a fixed number of
 * requests), each request with a fresh path from the picker, and autocannon's
 * own progress bar on stderr.
 */
import autocannon from 'autocannon';
import { ClientTally, hasRetryAfter } from './client-tally.ts';
import type { ClientSample } from './types.ts';

/**
 * @example
 * const options: LevelOptions = { baseUrl: 'http://127.0.0.1:5001', connections: 100, durationMs: 10_000, nextPath: () => '/api/health' };
 */
export interface LevelOptions {
  baseUrl: string;
  connections: number;
  /** How long to run; ignored when `amount` is set. */
  durationMs?: number;
  /** Exactly this many requests, then stop (ab's `-n`). */
  amount?: number;
  nextPath: () => string;
  /** Seconds before autocannon counts a request as timed out. Default 10. */
  timeoutS?: number;
  /** Progress bar label; no bar when undefined or stderr is not a terminal. */
  progressLabel?: string | undefined;
  /** Ends the level early (Ctrl-C); what was measured so far is returned. */
  signal?: AbortSignal | undefined;
}

/**
 * Runs the level and returns what the client saw.
 *
 * @example
 * const sample = await runLevel({ baseUrl, connections: 50, durationMs: 10_000, nextPath: picker, progressLabel: '50 users' });
 */
export async function runLevel(options: LevelOptions): Promise<ClientSample> {
  const tally = new ClientTally();
  const { nextPath } = options;
  const length =
    options.amount === undefined ? { duration: Math.max(1, (options.durationMs ?? 10_000) / 1000) } : { amount: options.amount };
  const started = performance.now();
  const { instance, done } = start({
    url: options.baseUrl,
    connections: options.connections,
    ...length,
    timeout: options.timeoutS ?? 10,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({ ...request, path: nextPath() }),
        onResponse: (status, _body, _context, headers) => {
          if (status === 503) tally.unavailable(hasRetryAfter(headers));
        },
      },
    ],
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => tally.response(statusCode, responseTime));
  if (options.progressLabel !== undefined && process.stderr.isTTY === true) {
    autocannon.track(instance, {
      renderProgressBar: true,
      renderResultsTable: false,
      renderLatencyTable: false,
      progressBarString: `  ${options.progressLabel} [:bar] :percent`,
    });
  }
  const stop = () => instance.stop();
  options.signal?.addEventListener('abort', stop, { once: true });
  const result = await done.finally(() => options.signal?.removeEventListener('abort', stop));
  // Measured here rather than autocannon's `duration`, which is rounded to 10 ms: ab mode runs for well under a second.
  const durationS = Math.round(performance.now() - started) / 1000;
  return tally.toSample({ connections: options.connections, durationS, timeouts: result.timeouts, errors: result.errors });
}

/** autocannon with a callback (errors reach the promise instead of an unhandled rejection), and its instance for listeners. */
function start(options: autocannon.Options): { instance: autocannon.Instance; done: Promise<autocannon.Result> } {
  let instance: autocannon.Instance | undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(options, (err: unknown, result: autocannon.Result) =>
      err ? reject(err instanceof Error ? err : new Error('autocannon failed', { cause: err })) : resolve(result),
    );
  });
  return { instance: instance!, done };
}
