/**
 * Promise: under memory pressure the service sheds API work with
 * 503 OVERLOADED and Retry-After instead of falling over, stops shedding
 * when the pressure is gone, and keeps answering health (200) throughout,
 * so a load balancer never pulls an instance that is protecting itself.
 *
 * Pressure is made by thresholds, not by allocating: MEMORY_CRITICAL_MB is
 * set below the process's RSS, so shedding engages at the first sample, and
 * `app.pressure.setThresholds` raises and lowers it at run time.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeOutcome, durationOf, fire, startLoad, stopAllLoads, tally, waitFor, type Outcome } from './helpers/load.ts';
import { metricValue, scrape, seedStore, startStack, type Stack, type Store } from './helpers/stack.ts';

const SAMPLE_MS = 100;
const CRITICAL = { memoryWarnMb: 1, memoryCriticalMb: 2 };
const CALM = { memoryWarnMb: 1_000_000, memoryCriticalMb: 2_000_000 };
/** Well within a load balancer's usual health-check timeout, with room for a busy runner. */
const HEALTH_BOUND_MS = 5000;
/** Shedding ends after 3 calm samples; this allows for a runner that delays timers. */
const RELEASE_BOUND_MS = 3000;

let stack: Stack;
let store: Store;

beforeAll(async () => {
  stack = await startStack({
    MEMORY_SAMPLE_MS: String(SAMPLE_MS),
    MEMORY_WARN_MB: String(CRITICAL.memoryWarnMb),
    MEMORY_CRITICAL_MB: String(CRITICAL.memoryCriticalMb),
  });
  store = await seedStore(stack, { products: 10, customers: 1, stock: 1000 });
}, 120_000);

afterEach(stopAllLoads);
afterAll(() => stack?.close());

describe('memory pressure', () => {
  it('sheds with 503 OVERLOADED while critical, releases when it eases, and health answers 200 throughout', async () => {
    const base = stack.base;
    // A first request, so a cold client's first connection is not timed as the service's answer.
    expect((await fire({ label: 'health', url: `${base}/api/health` })).status).toBe(200);
    const origin = performance.now();
    const api = startLoad({
      concurrency: 20,
      maxDurationMs: 60_000,
      next: (n) =>
        n % 3 === 0
          ? { label: 'list', url: `${base}/api/products?limit=10` }
          : { label: 'product', url: `${base}/api/products/${store.products[n % store.products.length]}` },
    });
    const health = startLoad({
      concurrency: 4,
      maxDurationMs: 60_000,
      pauseMs: 20,
      next: () => ({ label: 'health', url: `${base}/api/health` }),
    });
    const since = (t: number, status: number) => () => api.outcomes.filter((o) => o.startedAt > t && o.status === status).length >= 20;
    // When the first answer showing the new state arrived. A request sent after
    // that reached the server after the transition; the client's send order
    // alone says nothing about arrival order (a request may wait for a socket).
    const firstAnswer = (t: number, status: number) =>
      Math.min(...api.outcomes.filter((o) => o.startedAt > t && o.status === status).map((o) => o.endedAt));

    // Critical from the first sample: shedding.
    await waitFor('shedding at start', since(origin, 503), 20_000);
    // Raised at run time: shedding stops.
    const raised = performance.now();
    stack.app.pressure.setThresholds(CALM);
    await waitFor('shedding released', since(raised, 200), 20_000);
    const released = firstAnswer(raised, 200);
    // Lowered again: shedding engages again…
    const lowered = performance.now();
    stack.app.pressure.setThresholds(CRITICAL);
    await waitFor('shedding again', since(lowered, 503), 20_000);
    const reengaged = firstAnswer(lowered, 503);
    // …and releases again.
    const raisedAgain = performance.now();
    stack.app.pressure.setThresholds(CALM);
    await waitFor('released again', since(raisedAgain, 200), 20_000);
    const releasedAgain = firstAnswer(raisedAgain, 200);
    const outcomes = await api.stop();
    const healthAnswers = await health.stop();
    const show = (list: readonly Outcome[]) => list.map((o) => describeOutcome(o, origin));

    // API: served, or shed with the problem a client can act on; nothing else.
    const shed = outcomes.filter((o) => o.status === 503);
    expect(show(outcomes.filter((o) => o.status !== 200 && o.status !== 503)), tally(outcomes)).toEqual([]);
    expect(show(shed.filter((o) => o.code !== 'OVERLOADED' || !(Number(o.retryAfter) >= 1)))).toEqual([]);

    // Shedding engages and releases as a state, not request by request: sent
    // after one answer showed the state, and answered before the next change,
    // a request gets that state's answer.
    const between = (from: number, to: number) => outcomes.filter((o) => o.startedAt >= from && o.endedAt <= to);
    expect(show(between(origin, raised).filter((o) => o.status !== 503))).toEqual([]);
    expect(show(between(released, lowered).filter((o) => o.status !== 200))).toEqual([]);
    expect(show(between(reengaged, raisedAgain).filter((o) => o.status !== 503))).toEqual([]);
    expect(show(between(releasedAgain, Infinity).filter((o) => o.status !== 200))).toEqual([]);
    expect(released - raised).toBeLessThan(RELEASE_BOUND_MS);
    expect(releasedAgain - raisedAgain).toBeLessThan(RELEASE_BOUND_MS);
    expect(reengaged - lowered).toBeLessThan(RELEASE_BOUND_MS);

    // Health: 200 every time, quickly, reporting the pressure it is under.
    expect(healthAnswers.length).toBeGreaterThan(20);
    expect(show(healthAnswers.filter((o) => o.status !== 200 || durationOf(o) > HEALTH_BOUND_MS))).toEqual([]);
    const states = new Set(healthAnswers.map((o) => o.body.pressure.state as string));
    expect([...states].sort()).toEqual(['critical', 'ok']);
    expect(healthAnswers.filter((o) => o.body.pressure.state === 'critical').every((o) => o.body.status === 'degraded')).toBe(true);

    // Metrics and logs show it: every shed request counted, each transition logged once.
    const text = await scrape(base);
    expect(metricValue(text, 'holdfast_pressure_shed_requests_total')).toBe(shed.length);
    expect(metricValue(text, 'holdfast_pressure_state{state="ok"}')).toBe(1);
    const messages = stack.logs.lines.map((l) => String(l.msg));
    expect(messages.filter((m) => m === 'pressure critical: shedding load')).toHaveLength(2);
    expect(messages.filter((m) => m === 'pressure back to ok: shedding stopped')).toHaveLength(2);
  }, 90_000);
});
