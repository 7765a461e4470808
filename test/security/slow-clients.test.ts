/**
 * Slow and abrupt clients (issue 13, findings 1 and 7a), on raw sockets: a
 * request must arrive whole within HTTP_REQUEST_TIMEOUT_MS, headers within
 * HTTP_HEADERS_TIMEOUT_MS, an idle keep-alive socket closes after
 * HTTP_KEEP_ALIVE_TIMEOUT_MS, an answer sent before the body arrived is
 * followed by a bounded read-and-discard and a clean close, the process
 * holds at most HTTP_MAX_CONNECTIONS sockets, and a client's abort is
 * counted, not logged as a bug. The bounds are small here so that nothing
 * waits long; the defaults are argued in docs/SECURITY.md.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { request } from '../helpers/http.ts';
import { API_KEYS_ENV, KEYS } from './helpers.ts';
import { firstAnswer, openConnection, type RawConnection } from './slow-client.ts';

const REQUEST_MS = 800;
const HEADERS_MS = 400;
const KEEP_ALIVE_MS = 300;
const ADMIN_TOKEN = 'adm_5e4d3c2b1a0f9e8d7c6b';

const head = (method: string, path: string, headers: Record<string, string | number>) =>
  `${method} ${path} HTTP/1.1\r\nHost: holdfast\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

/** One scrape: the sample value of each series named (0 when absent). */
async function metrics(app: TestApp, ...names: string[]): Promise<number[]> {
  const lines = (await request(`${app.baseUrl}/metrics`)).text.split('\n');
  return names.map((name) => Number(lines.find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? 0));
}

const errorLines = (app: TestApp) => app.logs.lines.filter((l) => Number(l.level) >= 50);

/** The server's end of each test connection, by the client's port: whether the server has let go of it. */
function serverSides(app: TestApp): (conn: RawConnection) => Promise<'open' | 'destroyed'> {
  const sockets = new Map<number, Socket>();
  app.server.server.on('connection', (socket: Socket) => sockets.set(socket.remotePort!, socket));
  return async (conn) => {
    await new Promise((r) => setImmediate(r));
    return sockets.get(conn.socket.localPort!)?.destroyed === false ? 'open' : 'destroyed';
  };
}

/** Polls `check` until it holds or `withinMs` passed; returns whether it held. */
async function eventually(check: () => Promise<boolean>, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

describe('slow clients', () => {
  let app: TestApp;
  let serverSide: ReturnType<typeof serverSides>;
  beforeAll(async () => {
    app = await startTestApp({
      env: {
        API_KEYS: API_KEYS_ENV,
        ADMIN_TOKEN,
        BODY_LIMIT_BYTES: '4096',
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
        HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_MS),
      },
    });
    serverSide = serverSides(app);
  });
  afterAll(() => app?.close());

  it.each([
    [
      'POST /api/orders, authenticated',
      'POST',
      '/api/orders',
      { authorization: `Bearer ${KEYS.writer}`, 'content-type': 'application/json' },
    ],
    ['POST /admin/login', 'POST', '/admin/login', { 'content-type': 'application/x-www-form-urlencoded' }],
  ])(
    '%s: a body still arriving after HTTP_REQUEST_TIMEOUT_MS gets 408 REQUEST_TIMEOUT and the socket closes',
    async (_name, method, path, headers) => {
      const conn = await openConnection(app.baseUrl);
      await conn.write(head(method, path, { ...headers, 'content-length': 200 }));
      void conn.dribble('x'.repeat(200), 50);
      const closed = await conn.closed(REQUEST_MS + 2000);
      expect(closed.how).not.toBe('timeout');
      expect(closed.afterMs).toBeGreaterThanOrEqual(REQUEST_MS - 50);
      const answer = firstAnswer(conn.received());
      expect(answer.status).toBe(408);
      expect(answer.headers).toContain('content-type: application/problem+json');
      expect(answer.body?.code).toBe('REQUEST_TIMEOUT');
      expect(errorLines(app)).toEqual([]);
    },
  );

  it('headers still arriving after HTTP_HEADERS_TIMEOUT_MS get 408 and the socket closes', async () => {
    const conn = await openConnection(app.baseUrl);
    await conn.write('GET /api/products HTTP/1.1\r\nHost: holdfast\r\n');
    void conn.dribble(`X-Slow: ${'a'.repeat(100)}\r\n`, 50);
    const closed = await conn.closed(HEADERS_MS + 2000);
    expect(closed.how).not.toBe('timeout');
    expect(closed.afterMs).toBeLessThan(REQUEST_MS);
    const answer = firstAnswer(conn.received());
    expect(answer.status).toBe(408);
    expect(answer.body?.code).toBe('REQUEST_TIMEOUT');
    const [timeouts, aborts] = await metrics(app, 'holdfast_http_request_timeouts_total', 'holdfast_http_client_aborts_total');
    expect(timeouts).toBeGreaterThanOrEqual(1);
    // The requests cut off for their timeout are not the clients' aborts.
    expect(aborts).toBe(0);
  });

  it('a connection that never sends a byte is closed after the headers bound', async () => {
    const conn = await openConnection(app.baseUrl);
    const closed = await conn.closed(HEADERS_MS + 2000);
    expect(closed.how).not.toBe('timeout');
  });

  it('an idle keep-alive connection closes after HTTP_KEEP_ALIVE_TIMEOUT_MS', async () => {
    const conn = await openConnection(app.baseUrl);
    await conn.write(head('GET', '/api/health', {}));
    await conn.waitFor('"status"', 2000);
    expect(firstAnswer(conn.received()).status).toBe(200);
    // Node adds one second to the advertised keep-alive before it closes.
    const closed = await conn.closed(KEEP_ALIVE_MS + 3000);
    expect(closed.how).toBe('end');
  });

  it.each([
    ['401 (no key)', 'POST', '/api/orders', { 'content-type': 'application/json' }, 401],
    ['415 (not JSON)', 'POST', '/api/orders', { authorization: `Bearer ${KEYS.writer}`, 'content-type': 'text/plain' }, 415],
    ['200 (GET with a body)', 'GET', '/api/health', {}, 200],
  ])(
    'an answer sent before the body arrived (%s): the rest is read and discarded, then the socket closes cleanly',
    async (_name, method, path, headers, status) => {
      const conn = await openConnection(app.baseUrl);
      await conn.write(head(method, path, { ...headers, 'content-length': 300 }) + 'x'.repeat(100));
      await conn.waitFor('\r\n\r\n', 2000);
      const answer = firstAnswer(conn.received());
      expect(answer.status).toBe(status);
      expect(answer.headers).toContain('connection: close');
      // Not closed under the client's feet while its body is still coming …
      await new Promise((r) => setTimeout(r, 150));
      expect(await serverSide(conn)).toBe('open');
      expect(await conn.write('x'.repeat(100))).toBe(true);
      await new Promise((r) => setTimeout(r, 150));
      expect(await serverSide(conn)).toBe('open');
      // … and let go of once it has all arrived, with no reset on the way.
      expect(await conn.write('x'.repeat(100))).toBe(true);
      expect(await eventually(async () => (await serverSide(conn)) === 'destroyed', 1000)).toBe(true);
      expect(conn.wasReset()).toBe(false);
      expect(conn.received().match(/HTTP\/1\.1 /g)).toHaveLength(1);
    },
  );

  it('the discarded rest is bounded in bytes (BODY_LIMIT_BYTES)', async () => {
    const conn = await openConnection(app.baseUrl);
    await conn.write(head('POST', '/api/orders', { 'content-type': 'application/json', 'content-length': 1_000_000 }));
    await conn.waitFor('\r\n\r\n', 2000);
    expect(firstAnswer(conn.received()).status).toBe(401);
    await conn.write('x'.repeat(2048));
    await new Promise((r) => setTimeout(r, 100));
    expect(await serverSide(conn)).toBe('open');
    for (let i = 0; i < 4; i++) await conn.write('x'.repeat(1024));
    expect(await eventually(async () => (await serverSide(conn)) === 'destroyed', 500)).toBe(true);
  });

  it('the discarded rest is bounded in time (HTTP_REQUEST_TIMEOUT_MS from the request start), with no second answer', async () => {
    const conn = await openConnection(app.baseUrl);
    const startedAt = Date.now();
    await conn.write(head('POST', '/api/orders', { 'content-type': 'application/json', 'content-length': 300 }));
    await conn.waitFor('\r\n\r\n', 2000);
    void conn.dribble('x'.repeat(300), 50);
    expect(await eventually(async () => (await serverSide(conn)) === 'destroyed', REQUEST_MS + 2000)).toBe(true);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(conn.received().match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });
});

describe('HTTP_MAX_CONNECTIONS', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { HTTP_MAX_CONNECTIONS: '3' } });
  });
  afterAll(() => app?.close());

  it('refuses connections past the cap at once, and counts them in /metrics', async () => {
    const server = app.server.server;
    const open = () => new Promise<number>((resolve) => server.getConnections((_err, count) => resolve(count)));
    const held = await Promise.all([1, 2, 3].map(() => openConnection(app.baseUrl)));
    try {
      const extra = await openConnection(app.baseUrl);
      const closed = await extra.closed(1000);
      expect(closed.how).not.toBe('timeout');
      expect(extra.received()).toBe('');
      // Room for the scrape.
      held.pop()!.socket.destroy();
      expect(await eventually(async () => (await open()) < 3, 1000)).toBe(true);
      // Dropped: the extra one; open: the two still held and the scrape itself.
      expect(await metrics(app, 'holdfast_http_connections_dropped_total', 'holdfast_http_connections_open')).toEqual([1, 3]);
    } finally {
      for (const conn of held) conn.socket.destroy();
    }
  });
});

describe('a client that aborts mid-body', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { API_KEYS: API_KEYS_ENV } });
  });
  afterAll(() => app?.close());

  it('is counted in /metrics and not logged as an error', async () => {
    const conn = await openConnection(app.baseUrl);
    await conn.write(
      head('POST', '/api/orders', { authorization: `Bearer ${KEYS.writer}`, 'content-type': 'application/json', 'content-length': 200 }) +
        '{"customerId":',
    );
    await new Promise((r) => setTimeout(r, 100));
    conn.socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(await metrics(app, 'holdfast_http_client_aborts_total')).toEqual([1]);
    expect(errorLines(app)).toEqual([]);
  });
});
