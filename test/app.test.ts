import http from 'node:http';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { closeServer } from '../src/app.ts';
import { captureLogs } from './helpers/logs.ts';

/** A server whose one route answers only when `finish` is called; the request is in flight until then. */
async function serverWithHeldRequest() {
  const server = Fastify();
  let finish!: () => void;
  const held = new Promise<void>((resolve) => (finish = resolve));
  let arrived!: () => void;
  const arrival = new Promise<void>((resolve) => (arrived = resolve));
  server.get('/held', async () => {
    arrived();
    await held;
    return { ok: true };
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.server.address() as { port: number };
  const response = new Promise<string>((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/held' }, (res) => resolve(`status ${res.statusCode}`))
      .on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
  });
  await arrival;
  return { server, finish, response };
}

describe('closeServer', () => {
  it('waits for an in-flight request that finishes within the timeout', async () => {
    const { logger, lines } = captureLogs();
    const { server, finish, response } = await serverWithHeldRequest();
    const closing = closeServer(server, 5000, logger);
    finish();
    await closing;
    expect(await response).toBe('status 200');
    expect(lines.some((l) => String(l.msg).includes('did not finish in time'))).toBe(false);
  });

  it('cuts a request still in flight at the timeout, and returns', async () => {
    const { logger, lines } = captureLogs();
    const { server, finish, response } = await serverWithHeldRequest();
    await closeServer(server, 100, logger);
    expect(await response).toBe('error ECONNRESET');
    expect(lines.some((l) => String(l.msg).includes('did not finish in time'))).toBe(true);
    finish();
  });
});
