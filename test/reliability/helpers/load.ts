/**
 * Concurrent load for the fault suites: a fixed number of workers, each
 * sending one request after another until stopped or out of time, and a
 * record of every answer with when it started and ended, so a test can ask
 * what the service said during a fault, how long each request took, and
 * when it recovered.
 *
 * Every request carries its own abort timer, far beyond any promise under
 * test: a request that hangs is recorded as a failure with its duration
 * instead of hanging the suite until vitest's timeout says nothing useful.
 */

/** One request to send. */
export interface Shot {
  /** Groups answers in reports and assertions, e.g. 'product', 'order'. */
  label: string;
  url: string;
  init?: RequestInit;
}

/** What came back, with times from `performance.now()`. */
export interface Outcome {
  /** What was sent, to send it again (a retry with the same Idempotency-Key). */
  shot: Shot;
  label: string;
  method: string;
  url: string;
  /** 0 when no HTTP answer arrived (connection refused or cut, or aborted). */
  status: number;
  /** `code` of a problem+json answer. */
  code: string | undefined;
  retryAfter: string | null;
  body: any;
  headers: Headers | undefined;
  startedAt: number;
  endedAt: number;
  /** Why there was no answer, when status is 0. */
  error?: string;
}

/** Generous on purpose: a bound for hangs, not a promise. Assertions carry the promises. */
const DEFAULT_REQUEST_TIMEOUT_MS = 20_000;

/**
 * Sends one request and records its answer; never throws.
 *
 * @example
 * const outcome = await fire({ label: 'ready', url: `${base}/api/ready` });
 */
export async function fire(shot: Shot, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<Outcome> {
  const startedAt = performance.now();
  const method = shot.init?.method ?? 'GET';
  try {
    const res = await fetch(shot.url, { ...shot.init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body: any = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') body = JSON.parse(text);
    return {
      shot,
      label: shot.label,
      method,
      url: shot.url,
      status: res.status,
      code: typeof body === 'object' && body !== null && typeof body.code === 'string' ? body.code : undefined,
      retryAfter: res.headers.get('retry-after'),
      body,
      headers: res.headers,
      startedAt,
      endedAt: performance.now(),
    };
  } catch (err) {
    return {
      shot,
      label: shot.label,
      method,
      url: shot.url,
      status: 0,
      code: undefined,
      retryAfter: null,
      body: undefined,
      headers: undefined,
      startedAt,
      endedAt: performance.now(),
      error: describeFetchError(err),
    };
  }
}

/** A running load; `stop()` waits for the requests in flight and returns every outcome. */
export interface Load {
  /** Outcomes so far (grows while the load runs). */
  readonly outcomes: readonly Outcome[];
  /** Requests sent and not yet answered. */
  readonly inFlight: number;
  /** When the oldest request still in flight was sent (`performance.now()`), if any. */
  oldestInFlight(): number | undefined;
  stop(): Promise<Outcome[]>;
}

export interface LoadOptions {
  /** Requests in flight at once. */
  concurrency: number;
  /** The load stops by itself after this long, whatever the test does. */
  maxDurationMs: number;
  /** The n-th request (0-based, across workers). */
  next(n: number): Shot;
  requestTimeoutMs?: number;
  /** Pause between one worker's requests, for pollers (readiness, metrics). Default 0. */
  pauseMs?: number;
}

/**
 * @example
 * const load = startLoad({ concurrency: 30, maxDurationMs: 15_000, next: (n) => ({ label: 'product', url: `${base}/api/products/${ids[n % ids.length]}` }) });
 * // … cause a fault …
 * const outcomes = await load.stop();
 */
export function startLoad(options: LoadOptions): Load {
  const outcomes: Outcome[] = [];
  const deadline = performance.now() + options.maxDurationMs;
  let stopped = false;
  let n = 0;
  const sentAt = new Set<{ at: number }>();

  async function worker(): Promise<void> {
    while (!stopped && performance.now() < deadline) {
      const shot = options.next(n++);
      const sending = { at: performance.now() };
      sentAt.add(sending);
      const outcome = await fire(shot, options.requestTimeoutMs);
      sentAt.delete(sending);
      outcomes.push(outcome);
      // Nothing listening (the service stopped, or a test failed and closed it): don't spin.
      const rest = outcome.status === 0 ? Math.max(options.pauseMs ?? 0, 50) : (options.pauseMs ?? 0);
      if (rest > 0) await pause(rest);
    }
  }

  const workers = Array.from({ length: options.concurrency }, () => worker());
  const load: Load = {
    outcomes,
    get inFlight() {
      return sentAt.size;
    },
    oldestInFlight() {
      let oldest: number | undefined;
      for (const { at } of sentAt) if (oldest === undefined || at < oldest) oldest = at;
      return oldest;
    },
    async stop() {
      stopped = true;
      running.delete(load);
      await Promise.all(workers);
      return outcomes;
    },
  };
  running.add(load);
  return load;
}

const running = new Set<Load>();

/**
 * Stops every load still running, so a test that failed half-way does not
 * leave workers sending requests into the next test.
 *
 * @example
 * afterEach(stopAllLoads);
 */
export async function stopAllLoads(): Promise<void> {
  await Promise.all([...running].map((load) => load.stop()));
}

/**
 * Counts outcomes by label, status and code, for assertion messages that
 * say what the service actually answered.
 *
 * @example
 * expect(bad, tally(outcomes)).toEqual([]);
 */
export function tally(outcomes: readonly Outcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) {
    const key = `${o.method} ${o.label} ${o.status}${o.code === undefined ? '' : ` ${o.code}`}${o.error === undefined ? '' : ` (${o.error})`}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .map(([k, v]) => `${k}: ${v}`)
    .sort()
    .join('\n');
}

/** Milliseconds the request took. */
export function durationOf(outcome: Outcome): number {
  return outcome.endedAt - outcome.startedAt;
}

/**
 * One line per outcome, for the few that break a rule.
 *
 * @example
 * expect(slow.map(describeOutcome)).toEqual([]);
 */
export function describeOutcome(outcome: Outcome, origin = 0): string {
  const at = Math.round(outcome.startedAt - origin);
  const took = Math.round(durationOf(outcome));
  const detail = outcome.error ?? outcome.code ?? '';
  return `${outcome.method} ${outcome.url.replace(/^https?:\/\/[^/]+/, '')} @${at}ms took ${took}ms → ${outcome.status} ${detail}`.trim();
}

/** Sleeps; timers in tests are for pacing, never for asserting. */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `check` until it returns true or `timeoutMs` passes; resolves with
 * the time it took, or throws naming `what`.
 *
 * @example
 * await waitFor('cache back on Redis', () => app.cacheMode() === 'redis', 10_000);
 */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await pause(everyMs);
  }
}

function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timeout';
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? err.message;
}
