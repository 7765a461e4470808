/**
 * A request's deadline and its cancellation signal: parsing the client's
 * and the proxy's timeout headers, the remaining budget, and the errors a
 * wait raises when the budget runs out or the client leaves.
 *
 * Why a monotonic deadline (performance.now() scale) and not a Date: a wall
 * clock step (NTP) must not lengthen or cut short a request's budget.
 * Why one AbortSignal for both "deadline passed" and "client gone": every
 * wait below (acquire, statement, batch, cache) then has one thing to watch;
 * the signal's reason says which it was, for the error and the metrics.
 *
 * @example
 * const budgetMs = requestBudgetMs(request.headers, 10_000); // throws 400 BAD_REQUEST_TIMEOUT
 * const ctx = requestContext(request.id, route, { deadline: performance.now() + budgetMs, signal });
 * remainingMs(ctx); // ≤ budgetMs
 */
import { AppError } from '../errors/app-error.ts';

/** The reason a request's signal is aborted with when its client closed the connection. */
export const CLIENT_GONE = 'client closed the connection';

/**
 * Requests abandoned by their client, by the stage they were in when it
 * left: waiting for a connection, running a statement, or anywhere else
 * (handler, cache, writing the answer). Read by /metrics.
 */
export const abandoned = { queue: 0, statement: 0, after: 0 };

/** Retry-After of a DEADLINE_EXCEEDED: the client asked for a budget we could not meet now. */
const RETRY = { retryAfterSeconds: 1 };

/** A header's timeout in ms, or undefined when absent; throws 400 BAD_REQUEST_TIMEOUT when malformed. */
function headerMs(value: string | string[] | undefined, scale: number, name: string): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  // Decimal only: no exponent, no sign, no hex, so "1e9" or "-1" never become a budget.
  if (text === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(text)) {
    throw new AppError('BAD_REQUEST_TIMEOUT', `${name} must be a non-negative decimal number`, { field: `header.${name}` });
  }
  return Number(text) * scale;
}

/**
 * The request's budget in ms: the server's `defaultMs`, shortened (never
 * lengthened) by `Request-Timeout` (seconds, decimal) and
 * `x-envoy-expected-rq-timeout-ms` (ms).
 *
 * @example
 * requestBudgetMs({ 'request-timeout': '0.2' }, 10_000); // 200
 */
export function requestBudgetMs(headers: Record<string, string | string[] | undefined>, defaultMs: number): number {
  const client = headerMs(headers['request-timeout'], 1000, 'request-timeout');
  const proxy = headerMs(headers['x-envoy-expected-rq-timeout-ms'], 1, 'x-envoy-expected-rq-timeout-ms');
  return Math.min(defaultMs, client ?? Infinity, proxy ?? Infinity);
}

/** Milliseconds left before `deadline` (performance.now() scale); Infinity for none. */
export function remainingMs(bound: { readonly deadline: number }): number {
  return bound.deadline - performance.now();
}

/** True when the signal was aborted because its client left (not because time ran out). */
export function clientGone(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason === CLIENT_GONE;
}

/** 503 DEADLINE_EXCEEDED, for `what` (e.g. 'waiting for a connection'). */
export function deadlineExceeded(what: string): AppError {
  return new AppError('DEADLINE_EXCEEDED', `the request's deadline passed while ${what}`, RETRY);
}

/**
 * The error a wait ends with when its signal fires: DEADLINE_EXCEEDED either
 * way (a client that left never reads it; no response is written to it).
 */
export function abortedError(signal: AbortSignal, what: string): AppError {
  const error = deadlineExceeded(what);
  if (clientGone(signal)) error.extras.abandoned = true;
  return error;
}

/**
 * A signal aborted once every one of `signals` is (a batch abandoned only
 * when all its members are), with the last member's reason.
 *
 * @example
 * const batch = allAborted([a.signal, b.signal]);
 */
export function allAborted(signals: readonly AbortSignal[]): AbortSignal {
  const controller = new AbortController();
  let live = signals.length;
  for (const signal of signals) {
    const onAbort = (): void => {
      if (--live === 0) controller.abort(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  return controller.signal;
}

/**
 * The request's signal: aborted with CLIENT_GONE by `leave`, or with a
 * TimeoutError when the budget runs out (an unref'd timer, cleared by `done`).
 *
 * @example
 * const { signal, leave, done } = requestSignal(200);
 * reply.raw.on('close', () => (reply.raw.writableFinished ? done() : leave()));
 */
export function requestSignal(budgetMs: number): { signal: AbortSignal; leave(): void; done(): void } {
  const controller = new AbortController();
  const timer = Number.isFinite(budgetMs)
    ? setTimeout(() => controller.abort(new DOMException('deadline passed', 'TimeoutError')), Math.max(budgetMs, 0))
    : undefined;
  timer?.unref();
  return {
    signal: controller.signal,
    leave: () => {
      clearTimeout(timer);
      if (controller.signal.aborted) return;
      // The queue and the statement count themselves in their abort listeners, which run synchronously here.
      const before = abandoned.queue + abandoned.statement;
      controller.abort(CLIENT_GONE);
      if (abandoned.queue + abandoned.statement === before) abandoned.after++;
    },
    done: () => clearTimeout(timer),
  };
}
