/**
 * The dashboard's pieces without a server: sessions, the cookie, interval
 * percentiles, HTTP rates read from prom-client, the state rule, and the
 * shared feed's one-timer cost model.
 */
import { Histogram, Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readCookie, sessionCookie } from '../../src/dashboard/cookies.ts';
import { createDashboardFeed } from '../../src/dashboard/feed.ts';
import { overallState, type DashboardFrame } from '../../src/dashboard/frame.ts';
import { createHttpRates, HTTP_DURATION_METRIC } from '../../src/dashboard/http-rates.ts';
import { diffCounts, interpolatedQuantile } from '../../src/stats/quantiles.ts';
import type { DashboardSources, FrameSampler } from '../../src/dashboard/sampler.ts';
import { createSessionKeeper, SESSION_TTL_MS } from '../../src/dashboard/session.ts';

describe('sessions', () => {
  const TOKEN = 'admin-token-0123456789';

  it('issues values that verify until they expire, and never contain the token', () => {
    let now = 1_000_000;
    const sessions = createSessionKeeper(TOKEN, { now: () => now });
    const { value, expiresAtMs } = sessions.issue();
    expect(expiresAtMs).toBe(1_000_000 + SESSION_TTL_MS);
    expect(value).not.toContain(TOKEN);
    expect(value).toMatch(/^v1\.\d+\.[\w-]{22}\.[\w-]{43}$/);
    expect(sessions.verify(value)).toBe(expiresAtMs);
    now = expiresAtMs - 1;
    expect(sessions.verify(value)).toBe(expiresAtMs);
    now = expiresAtMs;
    expect(sessions.verify(value)).toBeUndefined();
  });

  it('refuses tampered values, other tokens’ sessions and garbage', () => {
    const sessions = createSessionKeeper(TOKEN);
    const { value } = sessions.issue();
    const [v, expires, nonce, mac] = value.split('.') as [string, string, string, string];
    expect(sessions.verify(`${v}.${Number(expires) + 1000}.${nonce}.${mac}`)).toBeUndefined();
    expect(sessions.verify(`${v}.${expires}.${'A'.repeat(22)}.${mac}`)).toBeUndefined();
    expect(sessions.verify(`${v}.${expires}.${nonce}.${'A'.repeat(43)}`)).toBeUndefined();
    expect(createSessionKeeper('another-token').verify(value)).toBeUndefined();
    for (const junk of [undefined, '', 'v1', TOKEN, `${value}x`, value.replace('v1', 'v2')]) expect(sessions.verify(junk)).toBeUndefined();
  });

  it('revokes one authentic session on logout and leaves the others alone', () => {
    const sessions = createSessionKeeper(TOKEN);
    const ended = sessions.issue().value;
    const other = sessions.issue();
    sessions.revoke(ended);
    expect(sessions.verify(ended)).toBeUndefined();
    expect(sessions.verify(other.value)).toBe(other.expiresAtMs);
    // Junk and forgeries are ignored: they change nothing and throw nothing.
    for (const junk of [undefined, '', 'v1.1.x.y', `${other.value.slice(0, -2)}AA`]) sessions.revoke(junk);
    expect(sessions.verify(other.value)).toBe(other.expiresAtMs);
  });

  it('recognises the token and nothing else', () => {
    const sessions = createSessionKeeper(TOKEN);
    expect(sessions.isToken(TOKEN)).toBe(true);
    for (const wrong of [undefined, '', `${TOKEN} `, TOKEN.slice(1), 'x']) expect(sessions.isToken(wrong)).toBe(false);
  });
});

describe('the session cookie', () => {
  it('is HttpOnly, SameSite=Strict, scoped to /admin, Secure only over https', () => {
    expect(sessionCookie('v', { maxAgeS: 43200, secure: false })).toBe(
      'holdfast_admin=v; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=43200',
    );
    expect(sessionCookie('', { maxAgeS: 0, secure: true })).toBe(
      'holdfast_admin=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0; Secure',
    );
  });

  it('is found among other cookies', () => {
    expect(readCookie('a=1; holdfast_admin=v1.2.3; b=2', 'holdfast_admin')).toBe('v1.2.3');
    expect(readCookie('xholdfast_admin=1', 'holdfast_admin')).toBeUndefined();
    expect(readCookie(undefined, 'holdfast_admin')).toBeUndefined();
  });
});

describe('interval percentiles', () => {
  it('interpolates within the bucket, as histogram_quantile does', () => {
    expect(interpolatedQuantile([1, 2, 5], [0, 10, 0, 0], 0.5)).toBe(1.5);
    expect(interpolatedQuantile([1, 2, 5], [100, 0, 0, 0], 0.99)).toBeCloseTo(0.99);
    expect(interpolatedQuantile([1, 2, 5], [98, 0, 2, 0], 0.99)).toBeCloseTo(3.5);
  });

  it('reads the +Inf bucket as the largest bound, and nothing as undefined', () => {
    expect(interpolatedQuantile([1, 2, 5], [0, 0, 0, 3], 0.99)).toBe(5);
    expect(interpolatedQuantile([1, 2, 5], [0, 0, 0, 0], 0.99)).toBeUndefined();
  });

  it('diffs counters without going negative', () => {
    expect(diffCounts([3, 5, 1], [1, 5, 0])).toEqual([2, 0, 1]);
    expect(diffCounts([1, 1], [4, 0])).toEqual([0, 1]);
    expect(diffCounts([1, 2], undefined)).toEqual([1, 2]);
  });
});

describe('HTTP rates from the Prometheus histogram', () => {
  function histogram() {
    const registry = new Registry();
    const duration = new Histogram({
      name: HTTP_DURATION_METRIC,
      help: 'test',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.001, 0.005, 0.01, 0.1],
      registers: [registry],
    });
    return { registry, duration };
  }

  it('reports only what happened since the previous read, by route and status class', async () => {
    const { registry, duration } = histogram();
    const rates = createHttpRates(registry);
    duration.observe({ method: 'GET', route: '/api/products', status_code: 200 }, 0.002);
    const baseline = await rates.read();
    expect(baseline).toMatchObject({ requests: 0, totalRequests: 1, routes: [] });

    for (let i = 0; i < 99; i++) duration.observe({ method: 'GET', route: '/api/products', status_code: 200 }, 0.0005);
    duration.observe({ method: 'GET', route: '/api/products', status_code: 200 }, 0.05);
    duration.observe({ method: 'POST', route: '/api/orders', status_code: 429 }, 0.0005);
    duration.observe({ method: 'POST', route: '/api/orders', status_code: 503 }, 0.0005);
    duration.observe({ method: 'POST', route: '/api/orders', status_code: 500 }, 0.0005);
    const interval = await rates.read();
    expect(interval).toMatchObject({ requests: 103, limited: 1, unavailable: 1, errors: 1, totalRequests: 104 });
    expect(interval.routes.map((r) => [r.route, r.requests])).toEqual([
      ['GET /api/products', 100],
      ['POST /api/orders', 3],
    ]);
    expect(interval.routes[0]!.p99Ms).toBeLessThanOrEqual(1);

    expect(await rates.read()).toMatchObject({ requests: 0, p99Ms: undefined, routes: [] });
  });

  it('reads nothing from a registry without the histogram', async () => {
    expect(await createHttpRates(new Registry()).read()).toMatchObject({ requests: 0, totalRequests: 0 });
  });
});

describe('the state banner', () => {
  const calm = {
    pressureState: 'ok',
    pressureReasons: [],
    poolSize: 5,
    poolMin: 5,
    waiting: 0,
    timeouts: 0,
    unavailable: 0,
    errors: 0,
  } as const;

  it('is ok, degraded or shedding', () => {
    expect(overallState(calm)).toEqual({ level: 'ok', reasons: [] });
    expect(overallState({ ...calm, waiting: 3 })).toEqual({ level: 'degraded', reasons: ['3 requests waiting for a connection'] });
    expect(overallState({ ...calm, pressureState: 'warning', pressureReasons: ['rss 600.0 MB ≥ 512.0 MB'] }).level).toBe('degraded');
    expect(overallState({ ...calm, unavailable: 2 }).level).toBe('degraded');
    expect(overallState({ ...calm, pressureState: 'critical', pressureReasons: ['rss'] })).toEqual({ level: 'shedding', reasons: ['rss'] });
  });
});

describe('the shared feed', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function fakeSampler() {
    let n = 0;
    const sampler: FrameSampler & { samples: () => number; resets: number } = {
      resets: 0,
      reset() {
        sampler.resets++;
      },
      async sample(streams: number) {
        n++;
        return { t: n, streams, slowQueries: [{ id: 'x' }] } as unknown as DashboardFrame;
      },
      samples: () => n,
    };
    return sampler;
  }
  const noSources = {} as DashboardSources;

  it('samples once per interval for any number of subscribers, and only while someone listens', async () => {
    vi.useFakeTimers();
    const sampler = fakeSampler();
    const feed = createDashboardFeed(noSources, { sampler, intervalMs: 1000 });
    await vi.advanceTimersByTimeAsync(5000);
    expect(sampler.samples()).toBe(0);

    const received: string[][] = [[], [], []];
    const unsubscribe = received.map((chunks) => feed.subscribe((chunk) => chunks.push(chunk)));
    expect(feed.subscribers).toBe(3);
    await vi.advanceTimersByTimeAsync(3000);
    // One baseline, then one per second, shared by all three.
    expect(sampler.samples()).toBe(4);
    expect(received.map((c) => c.length)).toEqual([3, 3, 3]);
    expect(received[0]![0]).toBe(received[2]![0]);
    expect(received[0]![0]).toMatch(/^event: frame\ndata: \{.*\}\n\n$/);

    // History: the frames so far, without their statement tables.
    expect(feed.history()).toMatch(/^event: history\ndata: \[\{"t":2,"streams":3\},\{"t":3,"streams":3\},\{"t":4,"streams":3\}\]\n\n$/);

    for (const off of unsubscribe) off();
    expect(feed.subscribers).toBe(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(sampler.samples()).toBe(4);
    expect(feed.history()).toBe('');

    feed.subscribe(() => undefined);
    expect(sampler.resets).toBe(2);
    feed.close();
    expect(feed.subscribers).toBe(0);
  });

  it('keeps at most historySize frames', async () => {
    vi.useFakeTimers();
    const feed = createDashboardFeed(noSources, { sampler: fakeSampler(), intervalMs: 100, historySize: 3 });
    feed.subscribe(() => undefined);
    await vi.advanceTimersByTimeAsync(1000);
    expect(JSON.parse(feed.history().split('data: ')[1]!)).toHaveLength(3);
    feed.close();
  });

  it('survives a failing sample and reports it', async () => {
    vi.useFakeTimers();
    const errors: unknown[] = [];
    const sampler: FrameSampler = { reset() {}, sample: () => Promise.reject(new Error('boom')) };
    const feed = createDashboardFeed(noSources, { sampler, intervalMs: 100, onError: (err) => errors.push(err) });
    const chunks: string[] = [];
    feed.subscribe((c) => chunks.push(c));
    await vi.advanceTimersByTimeAsync(1000);
    expect(chunks).toEqual([]);
    expect(errors).toHaveLength(1); // at most once a minute
    feed.close();
  });
});
