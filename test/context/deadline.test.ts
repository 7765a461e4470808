import { describe, expect, it } from 'vitest';
import { batchContext, backgroundContext, requestContext } from '../../src/context/context.ts';
import { CLIENT_GONE, allAborted, requestBudgetMs } from '../../src/context/deadline.ts';
import { isAppError } from '../../src/errors/app-error.ts';

describe('requestBudgetMs', () => {
  it('lets Request-Timeout (seconds) and the envoy header (ms) shorten the budget, never lengthen it', () => {
    expect(requestBudgetMs({}, 10_000)).toBe(10_000);
    expect(requestBudgetMs({ 'request-timeout': '0.2' }, 10_000)).toBe(200);
    expect(requestBudgetMs({ 'request-timeout': '60' }, 10_000)).toBe(10_000);
    expect(requestBudgetMs({ 'x-envoy-expected-rq-timeout-ms': '150' }, 10_000)).toBe(150);
    expect(requestBudgetMs({ 'request-timeout': '0.5', 'x-envoy-expected-rq-timeout-ms': '300' }, 10_000)).toBe(300);
  });

  it.each(['-1', '1e3', 'abc', '0x10', '', '1.'])('refuses %j with 400 BAD_REQUEST_TIMEOUT', (value) => {
    let error: unknown;
    try {
      requestBudgetMs({ 'request-timeout': value }, 10_000);
    } catch (err) {
      error = err;
    }
    expect(isAppError(error, 'BAD_REQUEST_TIMEOUT')).toBe(true);
  });
});

describe('contexts', () => {
  it('background work has no deadline and is never aborted', () => {
    const ctx = backgroundContext('job');
    expect(ctx.deadline).toBe(Infinity);
    expect(ctx.signal.aborted).toBe(false);
  });

  it('a batch runs until its latest deadline and is abandoned only when all its members are', () => {
    const a = new AbortController();
    const b = new AbortController();
    const batch = batchContext([
      requestContext('a', 'R', { deadline: 100, signal: a.signal }),
      requestContext('b', 'R', { deadline: 300, signal: b.signal }),
    ]);
    expect(batch.deadline).toBe(300);
    a.abort(CLIENT_GONE);
    expect(batch.signal.aborted).toBe(false);
    b.abort(CLIENT_GONE);
    expect(batch.signal.aborted).toBe(true);
  });

  it('allAborted of already-aborted signals is aborted', () => {
    expect(allAborted([AbortSignal.abort(CLIENT_GONE)]).aborted).toBe(true);
  });
});
