/**
 * `--ab`: the original report's full test, `ab -n 1000 -c 100
 * http://localhost:5001/api/health`, reproduced with autocannon (exactly
 * `amount` requests at `concurrency`) and printed the way ab prints, so the
 * numbers can be set beside the original's "Expected: >90% success rate".
 *
 * As in ab, "Failed requests" are requests that got no complete answer
 * (connection errors and timeouts); non-2xx answers are counted apart.
 */
import type { ClientSample } from './types.ts';

/** @example const run: AbRun = { url: 'http://127.0.0.1:5001/api/health', concurrency: 100, elapsedS: 0.41 }; */
export interface AbRun {
  /** Full URL of the first request (host, port and path are shown as ab shows them). */
  url: string;
  concurrency: number;
  elapsedS: number;
}

/**
 * @example
 * console.log(formatAb(sample, { url: 'http://127.0.0.1:5001/api/health', concurrency: 100, elapsedS: 0.41 }));
 * // Concurrency Level:      100 … Requests per second:    2439.02 [#/sec] (mean)
 */
export function formatAb(sample: ClientSample, run: AbRun): string {
  const url = new URL(run.url);
  const complete = sample.responses;
  const failed = sample.timeouts + sample.socketErrors;
  const rps = run.elapsedS > 0 ? complete / run.elapsedS : 0;
  const field = (name: string, value: string) => `${`${name}:`.padEnd(24)}${value}`;
  const lines = [
    field('Server Hostname', url.hostname),
    field('Server Port', url.port || '80'),
    '',
    field('Document Path', `${url.pathname}${url.search}`),
    '',
    field('Concurrency Level', String(run.concurrency)),
    field('Time taken for tests', `${run.elapsedS.toFixed(3)} seconds`),
    field('Complete requests', String(complete)),
    field('Failed requests', `${failed}${failed > 0 ? ` (timeouts: ${sample.timeouts}, socket errors: ${sample.socketErrors})` : ''}`),
  ];
  lines.push(
    // ab omits this line when it is 0; it is always shown here, as the number the original's test was about.
    field('Non-2xx responses', String(sample.responses - sample.status2xx)),
    field('Requests per second', `${rps.toFixed(2)} [#/sec] (mean)`),
    field('Time per request', `${complete > 0 ? ((run.concurrency * run.elapsedS * 1000) / complete).toFixed(3) : '0.000'} [ms] (mean)`),
    field(
      'Time per request',
      `${complete > 0 ? ((run.elapsedS * 1000) / complete).toFixed(3) : '0.000'} [ms] (mean, across all concurrent requests)`,
    ),
    '',
    'Percentage of the requests served within a certain time (ms)',
    `  50%  ${Math.round(sample.latency.p50).toString().padStart(6)}`,
    `  95%  ${Math.round(sample.latency.p95).toString().padStart(6)}`,
    `  99%  ${Math.round(sample.latency.p99).toString().padStart(6)}`,
    ` 100%  ${Math.round(sample.latency.max).toString().padStart(6)} (longest request)`,
    '',
    `Success rate: ${((sample.status2xx / Math.max(1, sample.requests)) * 100).toFixed(1)}% (the original expected > 90%)`,
  );
  return lines.join('\n');
}
