/**
 * Redis command spans (src/telemetry/redis-spans.ts), received over OTLP
 * from the running service with the cache in the shared test Redis: a
 * product read's lookup runs the read and write scripts under its `cache
 * lookup` span, an order's invalidation runs under the order's server span.
 * Attributes name the server and the script, never a key or a value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productEntry } from '../../src/cache/catalog-keys.ts';
import { redisServerAttributes } from '../../src/telemetry/redis-spans.ts';
import type { TestApp } from '../helpers/app.ts';
import { postJson, request } from '../helpers/http.ts';
import { sharedRedisUrl } from '../helpers/redis-server.ts';
import { insertCustomer, insertProduct } from '../helpers/store-fixtures.ts';
import { childrenOf, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';
import { startTracedApp, type TracedApp } from './traced-app.ts';

const redisUrl = await sharedRedisUrl('the Redis span tests');

describe('redisServerAttributes', () => {
  it('names host, port and database index, never the credentials', () => {
    const attributes = redisServerAttributes('redis://user:s3cret-pass@cache.internal:6380/2');
    expect(attributes).toEqual({ 'server.address': 'cache.internal', 'server.port': 6380, 'db.namespace': '2' });
    expect(JSON.stringify(attributes)).not.toContain('s3cret');
    expect(redisServerAttributes('redis://127.0.0.1')).toEqual({ 'server.address': '127.0.0.1', 'server.port': 6379, 'db.namespace': '0' });
  });
});

describe.skipIf(redisUrl === undefined)('redis spans through the service', () => {
  let receiver: OtlpReceiver;
  let app: TestApp;
  const port = Number(new URL(redisUrl ?? 'redis://x').port || 6379);

  let traced: TracedApp | undefined;

  beforeAll(async () => {
    traced = await startTracedApp({ CACHE_ENABLED: 'true', REDIS_URL: redisUrl!, REDIS_COMMAND_TIMEOUT_MS: '2000' });
    ({ app, receiver } = traced);
    const deadline = Date.now() + 5_000;
    while (app.cache.stats.mode !== 'redis' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(app.cache.stats.mode).toBe('redis');
  });
  afterAll(() => traced?.close());

  function expectRedisSpan(span: ReceivedSpan | undefined, script: string): void {
    expect(span).toBeDefined();
    expect(span!).toMatchObject({
      kind: 'SPAN_KIND_CLIENT',
      status: 'STATUS_CODE_UNSET',
      attributes: {
        'db.system.name': 'redis',
        'db.operation.name': 'EVALSHA',
        'db.stored_procedure.name': script,
        'server.address': '127.0.0.1',
        'server.port': port,
      },
    });
    // No key (the shared prefix, the product's id) and no value among the attributes.
    expect(JSON.stringify(span!.attributes)).not.toContain('holdfast:cache');
  }

  it("runs a product read's Redis commands as client spans under its cache lookup", async () => {
    const id = await insertProduct(app.pool, { name: 'Redis traced' });
    // The shared Redis may hold this id from another suite's database: a new tag version makes this read a miss.
    await app.cache.invalidateTags(productEntry(id).tags);
    expect((await request(`${app.baseUrl}/api/products/${id}`)).status).toBe(200);
    await app.tracing!.flush();

    const server = receiver.spans.find((s) => s.name === 'GET /api/products/:id' && s.parentSpanId === '');
    expect(server, JSON.stringify(receiver.spans.map((s) => s.name))).toBeDefined();
    const lookup = childrenOf(receiver.spans, server!).find((s) => s.name === 'cache lookup');
    expect(lookup?.attributes).toMatchObject({ 'holdfast.cache.store': 'redis', 'holdfast.cache.outcome': 'miss' });
    const commands = childrenOf(receiver.spans, lookup!);
    expect(commands.map((s) => s.name)).toEqual(['EVALSHA holdfastCacheRead', 'EVALSHA holdfastCacheWrite']);
    expectRedisSpan(commands[0], 'holdfastCacheRead');
    expectRedisSpan(commands[1], 'holdfastCacheWrite');
    expect(JSON.stringify(commands.map((s) => s.attributes))).not.toContain(`product:${id}`);
    for (const c of commands) expect(c.startNs >= lookup!.startNs && c.endNs <= server!.endNs).toBe(true);
  });

  it("runs an order's invalidation as a client span under the order's server span", async () => {
    const productId = await insertProduct(app.pool, { stock: 10 });
    const customerId = await insertCustomer(app.pool);
    const order = await postJson(`${app.baseUrl}/api/orders`, { customerId, items: [{ productId, quantity: 1 }] });
    expect(order.status).toBe(201);
    await app.tracing!.flush();

    const server = receiver.spans.find((s) => s.name === 'POST /api/orders');
    expect(server, JSON.stringify(receiver.spans.map((s) => s.name))).toBeDefined();
    const invalidation = childrenOf(receiver.spans, server!).find((s) => s.name === 'EVALSHA holdfastCacheInvalidate');
    expectRedisSpan(invalidation, 'holdfastCacheInvalidate');
  });
});
