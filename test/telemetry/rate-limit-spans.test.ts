/**
 * The rate limiter's Redis calls as spans (src/guards/rate-limit/
 * redis-store.ts through src/telemetry/redis-spans.ts), received over OTLP
 * from the running service: a sampled request's decisions are EVALSHA
 * client spans under its server span, and so is the database-time charge
 * after its response; an unsampled request builds no span at all; and when
 * Redis stops answering (a throwaway server, paused), the failed call is an
 * error span while the request is still admitted from memory.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GCRA_SCRIPT_NAME } from '../../src/guards/rate-limit/redis-store.ts';
import type { TestApp } from '../helpers/app.ts';
import { eventually } from '../helpers/frozen-pool.ts';
import { request } from '../helpers/http.ts';
import { sharedRedisUrl, startThrowawayRedis, type ThrowawayRedis } from '../helpers/redis-server.ts';
import { insertProduct } from '../helpers/store-fixtures.ts';
import { childrenOf, freshTraceId, traceparent, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';
import { startTracedApp, type TracedApp } from './traced-app.ts';

const redisUrl = await sharedRedisUrl('the rate-limit span tests');
const SPAN_NAME = `EVALSHA ${GCRA_SCRIPT_NAME}`;
/** Limits no suite reaches: these tests are about spans, not refusals. */
const GENEROUS = { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX: '1000000', RATE_LIMIT_WRITE_MAX: '1000000' };

function limiterSpansOf(spans: ReceivedSpan[], server: ReceivedSpan): ReceivedSpan[] {
  return childrenOf(spans, server).filter((s) => s.name === SPAN_NAME);
}

/** Flushes until `condition` holds: the charge after the response ends after the client has its answer. */
async function flushUntil(app: TestApp, receiver: OtlpReceiver, condition: () => boolean): Promise<void> {
  const exported = await eventually(async () => {
    await app.tracing!.flush();
    return condition();
  }, 5_000);
  if (!exported) throw new Error(`not exported: ${JSON.stringify(receiver.spans.map((s) => s.name))}`);
}

async function metric(app: TestApp, name: string): Promise<number> {
  const text = (await request(`${app.baseUrl}/metrics`)).text;
  const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
  if (value === undefined) throw new Error(`${name} is not in /metrics`);
  return Number(value);
}

describe.skipIf(redisUrl === undefined)('rate-limit spans through the service, on the shared Redis', () => {
  let receiver: OtlpReceiver;
  let app: TestApp;
  const port = Number(new URL(redisUrl ?? 'redis://x').port || 6379);

  let traced: TracedApp | undefined;

  beforeAll(async () => {
    traced = await startTracedApp({
      REDIS_URL: redisUrl!,
      REDIS_COMMAND_TIMEOUT_MS: '2000',
      // Every read then runs its statement, so there is database time to charge (a cache hit has none).
      CACHE_ENABLED: 'false',
      ...GENEROUS,
      // The database-time budget too: a check before the request, a charge after it.
      RATE_LIMIT_DB_MS_PER_MINUTE: '1000000',
    });
    ({ app, receiver } = traced);
  });
  afterAll(() => traced?.close());

  it("runs a sampled request's decisions as EVALSHA client spans under its server span, and its charge after it", async () => {
    const id = await insertProduct(app.pool, { name: 'Rate-limit traced' });
    const traceId = freshTraceId();
    const answer = await request(`${app.baseUrl}/api/products/${id}`, { headers: { traceparent: traceparent(traceId, true) } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('ratelimit')).not.toBeNull();

    const server = () => receiver.spans.find((s) => s.traceId === traceId && s.name === 'GET /api/products/:id');
    await flushUntil(app, receiver, () => server() !== undefined && limiterSpansOf(receiver.spans, server()!).length >= 3);
    const spans = limiterSpansOf(receiver.spans, server()!).sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
    // The request's quota and its database-time check before the handler, the charge after the response.
    expect(spans.map((s) => s.attributes['holdfast.rate_limit.policy'])).toEqual(['default', 'db', 'db']);
    for (const span of spans) {
      expect(span).toMatchObject({
        kind: 'SPAN_KIND_CLIENT',
        status: 'STATUS_CODE_UNSET',
        attributes: {
          'db.system.name': 'redis',
          'db.operation.name': 'EVALSHA',
          'db.stored_procedure.name': GCRA_SCRIPT_NAME,
          'db.namespace': '0',
          'server.address': '127.0.0.1',
          'server.port': port,
          'holdfast.redis.keys': 1,
        },
      });
      // Never the key: the prefix and the client it names.
      expect(JSON.stringify(span.attributes)).not.toMatch(/holdfast:rl|ip:/);
    }
    const [quota, budget, charge] = spans as [ReceivedSpan, ReceivedSpan, ReceivedSpan];
    for (const before of [quota, budget]) expect(before.startNs >= server()!.startNs && before.endNs <= server()!.endNs).toBe(true);
    // Started as the server span ended; within 1 ms, as the SDK stamps a span's start with Date.now().
    expect(charge.startNs + 1_000_000n >= server()!.endNs).toBe(true);
  });

  it('builds no span for an unsampled request, though its decision is made in Redis', async () => {
    const id = await insertProduct(app.pool);
    const traceId = freshTraceId();
    const startSpan = vi.spyOn(app.tracing!.tracer, 'startSpan');
    try {
      const answer = await request(`${app.baseUrl}/api/products/${id}`, { headers: { traceparent: traceparent(traceId, false) } });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('ratelimit')).not.toBeNull();
      // Let the charge after the response run too.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(startSpan).not.toHaveBeenCalled();
    } finally {
      startSpan.mockRestore();
    }
    await app.tracing!.flush();
    expect(receiver.spans.filter((s) => s.traceId === traceId)).toEqual([]);
    // Decided in Redis, not in memory: the path that makes spans for sampled requests.
    expect(await metric(app, 'holdfast_rate_limit_fallback')).toBe(0);
    expect(await metric(app, 'holdfast_rate_limit_fallback_decisions_total')).toBe(0);
  });
});

describe('rate-limit spans when Redis stops answering', () => {
  let receiver: OtlpReceiver;
  let redis: ThrowawayRedis;
  let app: TestApp;
  let traced: TracedApp | undefined;

  beforeAll(async () => {
    redis = await startThrowawayRedis();
    traced = await startTracedApp({
      REDIS_URL: redis.url,
      REDIS_COMMAND_TIMEOUT_MS: '300',
      // Only the limiter on this Redis, so a request waits on nothing else there.
      CACHE_ENABLED: 'false',
      ...GENEROUS,
    });
    ({ app, receiver } = traced);
  });
  afterAll(async () => {
    redis?.resume();
    await traced?.close();
    await redis?.stop();
  });

  it('ends the failed call as an error span and admits the request from memory; later decisions make no call', async () => {
    expect(await metric(app, 'holdfast_rate_limit_fallback')).toBe(0);
    redis.pause();
    const failed = freshTraceId();
    const degraded = freshTraceId();
    try {
      const first = await request(`${app.baseUrl}/api/products/987654321`, { headers: { traceparent: traceparent(failed, true) } });
      expect(first.status).toBe(404);
      expect(first.headers.get('ratelimit')).not.toBeNull();
      const second = await request(`${app.baseUrl}/api/products/987654321`, { headers: { traceparent: traceparent(degraded, true) } });
      expect(second.status).toBe(404);
      expect(await metric(app, 'holdfast_rate_limit_fallback')).toBe(1);
    } finally {
      redis.resume();
    }
    await app.tracing!.flush();

    const server = (traceId: string) => receiver.spans.find((s) => s.traceId === traceId && s.name === 'GET /api/products/:id');
    expect(server(failed), JSON.stringify(receiver.spans.map((s) => s.name))).toBeDefined();
    const calls = limiterSpansOf(receiver.spans, server(failed)!);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.status).toBe('STATUS_CODE_ERROR');
    // The command's bound or the client's own timeout, whichever fired first.
    expect(['DeadlineError', 'Error']).toContain(calls[0]!.attributes['error.type']);
    // Degraded: the decision is made in memory without a Redis call, so there is no span of one.
    expect(server(degraded)).toBeDefined();
    expect(limiterSpansOf(receiver.spans, server(degraded)!)).toEqual([]);
  });
});
