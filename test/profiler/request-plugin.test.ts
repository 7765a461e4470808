/**
 * Per-request accounting over real sockets: every statement charged to the
 * request's context (hooks, handler, bodies, timers, parallel work) is
 * counted for that request and no other, and Server-Timing says so.
 */
import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyRequest } from 'fastify';
import { contextOf } from '../../src/http/context.ts';
import { parseServerTiming, startProfiledServer, type ProfiledServer } from './harness.ts';

let s: ProfiledServer;
const explainsAtResponse: number[] = [];
const countExplains = () => s.events.filter((e) => e.statement.text.startsWith('EXPLAIN')).length;

beforeAll(async () => {
  s = await startProfiledServer({ slowQueryMs: 30 }, async (api, { pool }) => {
    const one = (request: FastifyRequest, tag: string) => pool.query(contextOf(request), { text: `SELECT $1::text AS tag`, values: [tag] });
    api.get('/none', async () => ({ ok: true }));
    api.get('/three', async (request) => {
      await one(request, 'a');
      await one(request, 'b');
      await one(request, 'c');
      return { ok: true };
    });
    api.get('/sleepy', async (request) => {
      await pool.query(contextOf(request), { text: 'SELECT pg_sleep(0.03)' });
      await pool.query(contextOf(request), { text: 'SELECT pg_sleep(0.03)' });
      return { ok: true };
    });
    api.get('/parallel', async (request) => {
      await Promise.all([one(request, 'a'), one(request, 'b'), one(request, 'c'), one(request, 'd')]);
      return { ok: true };
    });
    api.get('/deferred', async (request) => {
      await sleep(5);
      await one(request, 'after a timer');
      await new Promise((resolve) => setImmediate(resolve));
      await one(request, 'after setImmediate');
      await new Promise<void>((resolve) => process.nextTick(resolve));
      await one(request, 'after nextTick');
      return { ok: true };
    });
    api.post('/body', async (request) => {
      const { tags } = request.body as { tags: string[] };
      for (const tag of tags) await one(request, tag);
      return { ok: true };
    });
    api.get(
      '/guarded',
      {
        preHandler: async (request) => {
          await one(request, 'guard');
        },
      },
      async (request) => {
        await one(request, 'handler');
        return { ok: true };
      },
    );
    api.get('/n/:n', async (request) => {
      const n = Number((request.params as { n: string }).n);
      await sleep(Math.random() * 10);
      for (let i = 0; i < n; i++) {
        await one(request, `q${i}`);
        await sleep(Math.random() * 3);
      }
      return { n };
    });
    api.get('/fails', async (request) => {
      await one(request, 'before the failure');
      throw new Error('boom');
    });
    api.get('/timed', async (request, reply) => {
      reply.header('server-timing', 'cache;desc="miss"');
      await one(request, 'x');
      return { ok: true };
    });
    api.get('/whoami', async (request) => {
      const ctx = contextOf(request);
      return { route: ctx.route, requestId: ctx.id, accountRequestId: ctx.accounts[0]?.requestId };
    });
    api.get('/slow-read', async (request) => {
      await pool.query(contextOf(request), { text: 'SELECT pg_sleep(0.04), $1::int AS n', values: [7] });
      return { ok: true };
    });
    api.addHook('onResponse', async (request) => {
      if (request.url === '/api/slow-read') explainsAtResponse.push(countExplains());
    });
  });
});
afterAll(() => s?.close());

async function timing(path: string, init?: RequestInit) {
  const started = performance.now();
  const res = await fetch(`${s.baseUrl}${path}`, init);
  await res.text();
  return { res, elapsedMs: performance.now() - started, ...parseServerTiming(res.headers.get('server-timing')) };
}

describe('Server-Timing', () => {
  it('counts the queries of a route that runs a known number of them', async () => {
    expect((await timing('/api/none')).queries).toBe(0);
    expect((await timing('/api/three')).queries).toBe(3);
    expect((await timing('/api/three')).res.headers.get('server-timing')).toMatch(/^db;dur=[\d.]+;desc="3 queries", db-wait;dur=[\d.]+$/);
  });

  it('reports a plausible duration: at least the time slept, at most the wall time', async () => {
    const t = await timing('/api/sleepy');
    expect(t.queries).toBe(2);
    expect(t.dbMs).toBeGreaterThanOrEqual(60);
    expect(t.dbMs).toBeLessThanOrEqual(t.elapsedMs);
  });

  it('is sent on error answers too, and joins a Server-Timing the route set itself', async () => {
    const failed = await timing('/api/fails');
    expect(failed.res.status).toBe(500);
    expect(failed.queries).toBe(1);
    const joined = (await timing('/api/timed')).res.headers.get('server-timing');
    expect(joined).toMatch(/^cache;desc="miss", db;dur=[\d.]+;desc="1 query"/);
  });

  it('is only sent under the prefix', async () => {
    const res = await fetch(`${s.baseUrl}/admin/queries`);
    expect(res.headers.get('server-timing')).toBeNull();
  });
});

describe('the context on the request, with Fastify 5', () => {
  it('counts parallel queries, and queries after timers, setImmediate and nextTick', async () => {
    expect((await timing('/api/parallel')).queries).toBe(4);
    expect((await timing('/api/deferred')).queries).toBe(3);
  });

  it('is there after body parsing', async () => {
    const t = await timing('/api/body', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tags: ['a', 'b'] }),
    });
    expect(t.res.status).toBe(200);
    expect(t.queries).toBe(2);
  });

  it('is there when the body arrives after the headers, in pieces', async () => {
    const body = JSON.stringify({ tags: ['a', 'b', 'c'] });
    const header = await new Promise<string | undefined>((resolve, reject) => {
      const req = httpRequest(
        `${s.baseUrl}/api/body`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.headers['server-timing'] as string | undefined));
        },
      );
      req.on('error', reject);
      req.flushHeaders();
      void (async () => {
        await sleep(30);
        req.write(body.slice(0, 10));
        await sleep(30);
        req.end(body.slice(10));
      })();
    });
    expect(parseServerTiming(header ?? null).queries).toBe(3);
  });

  it('includes queries run by preHandler hooks', async () => {
    expect((await timing('/api/guarded')).queries).toBe(2);
  });

  it('names the route pattern and the request id', async () => {
    const res = await fetch(`${s.baseUrl}/api/whoami`, { headers: { 'x-request-id': 'abc-123' } });
    const body = (await res.json()) as { route: string; requestId: string; accountRequestId: string };
    expect(body.route).toBe('GET /api/whoami');
    expect(body.requestId).toMatch(/^req-/); // the harness keeps Fastify's own ids
    expect(body.accountRequestId).toBe(body.requestId);
  });

  it('keeps concurrent requests apart', async () => {
    const counts = Array.from({ length: 24 }, (_, i) => i % 7);
    const results = await Promise.all(counts.map((n) => timing(`/api/n/${n}`)));
    expect(results.map((r) => r.queries)).toEqual(counts);
  });
});

describe('plan capture from a request', () => {
  it('runs the EXPLAIN after the response and does not charge it to the request', async () => {
    await s.profiler.settled();
    const before = countExplains();
    const t = await timing('/api/slow-read');
    expect(t.queries).toBe(1);
    expect(explainsAtResponse.at(-1)).toBe(before); // nothing explained before the response was out
    await s.profiler.settled();
    expect(countExplains()).toBe(before + 1);
    const slow = s.profiler.report(100).statements.find((st) => st.fingerprint.startsWith('select pg_sleep(?), ?::int'));
    expect(slow?.plan).not.toBeNull();
  });
});
