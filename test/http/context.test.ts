/**
 * contextOf over real sockets: inside the profiled scope the request gets
 * the accounted context its onRequest hook opened, the same one on every
 * ask and the one the profiler is told has finished; outside it, a context
 * charged to no one.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../../src/context/context.ts';
import { contextOf } from '../../src/http/context.ts';
import { createCursorCodec } from '../../src/http/cursor.ts';
import { createConsistencyTokens, parseLsn } from '../../src/db/replicas/consistency-token.ts';
import { queryProfilerPlugin } from '../../src/profiler/request-plugin.ts';

let app: FastifyInstance;
let baseUrl: string;
const finished: Context[] = [];
const seen: Context[] = [];

interface Seen {
  id: string;
  route: string;
  accounts: number;
  same: boolean;
  requestId: string;
}

beforeAll(async () => {
  app = Fastify();
  app.get('/admin/outside', async (request) => {
    const ctx = contextOf(request);
    return { id: ctx.id, route: ctx.route, accounts: ctx.accounts.length, same: contextOf(request) === ctx, requestId: request.id };
  });
  await app.register(
    async function api(scope) {
      await scope.register(queryProfilerPlugin({ requestFinished: (ctx) => finished.push(ctx) }));
      scope.get('/items/:id', async (request) => {
        const ctx = contextOf(request);
        seen.push(ctx);
        return { id: ctx.id, route: ctx.route, accounts: ctx.accounts.length, same: contextOf(request) === ctx, requestId: request.id };
      });
    },
    { prefix: '/api' },
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});
afterAll(() => app?.close());

describe('contextOf', () => {
  it('gives a profiled route the accounted context its hook opened, named by request id and route pattern', async () => {
    const body = (await (await fetch(`${baseUrl}/api/items/7?x=1`)).json()) as Seen;
    expect(body).toMatchObject({ route: 'GET /api/items/:id', accounts: 1, same: true });
    expect(body.id).toBe(body.requestId);
    await expect.poll(() => finished.length).toBe(1);
    expect(finished[0]).toBe(seen[0]);
  });

  it('gives a route outside the profiled scope a context charged to no one', async () => {
    const body = (await (await fetch(`${baseUrl}/admin/outside`)).json()) as Seen;
    expect(body).toMatchObject({ route: 'GET /admin/outside', accounts: 0, same: true });
    expect(body.id).toBe(body.requestId);
  });
});

describe('the Consistency-Token on the context', () => {
  const tokens = createConsistencyTokens(createCursorCodec('c'.repeat(32)));
  let withReplicas: FastifyInstance;
  let replicasUrl: string;

  beforeAll(async () => {
    withReplicas = Fastify();
    await withReplicas.register(queryProfilerPlugin({ requestFinished: () => undefined }, { consistency: tokens }));
    withReplicas.get('/lsn', async (request) => ({ consistency: String(contextOf(request).consistency) }));
    await withReplicas.listen({ host: '127.0.0.1', port: 0 });
    const address = withReplicas.server.address();
    replicasUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });
  afterAll(() => withReplicas?.close());

  it('with replicas, carries the verified LSN; a forged token is refused 400; no header, no LSN', async () => {
    const token = tokens.issue(parseLsn('1/A0'));
    const read = async (headers: Record<string, string>) => fetch(`${replicasUrl}/lsn`, { headers });
    expect(await (await read({ 'consistency-token': token })).json()).toEqual({ consistency: String(parseLsn('1/A0')) });
    expect(await (await read({})).json()).toEqual({ consistency: 'undefined' });
    const forged = createConsistencyTokens(createCursorCodec('f'.repeat(32))).issue(parseLsn('1/A0'));
    expect((await read({ 'consistency-token': forged })).status).toBe(400);
  });

  it('without replicas, the header is ignored', async () => {
    const token = tokens.issue(parseLsn('1/A0'));
    await fetch(`${baseUrl}/api/items/8`, { headers: { 'consistency-token': token } });
    expect(seen.at(-1)!.consistency).toBeUndefined();
    expect((await fetch(`${baseUrl}/api/items/9`, { headers: { 'consistency-token': 'forged' } })).status).toBe(200);
  });
});
