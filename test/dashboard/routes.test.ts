/**
 * The dashboard's HTTP surface against a real server and Postgres: login,
 * cookie, bearer, the 404 when no admin token is configured, the event
 * stream (frames, cleanup, the cap, shutdown) and plans on demand.
 */
import http from 'node:http';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardRoutes, type DashboardDeps, type DashboardFrame } from '../../src/dashboard/index.ts';
import { expectProblem, request } from '../helpers/http.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { insertProducts } from '../helpers/store-fixtures.ts';
import { TEST } from '../helpers/context.ts';

const TOKEN = 'dashboard-admin-token-0123456789';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ env: { ADMIN_TOKEN: TOKEN, DASHBOARD_MAX_STREAMS: '2', DASHBOARD_INTERVAL_MS: '200', SLOW_QUERY_MS: '50' } });
  await insertProducts(app.pool, 20, () => '2025-01-01T00:00:00Z');
});
afterAll(() => app?.close());

const bearer = { authorization: `Bearer ${TOKEN}` };

async function login(): Promise<string> {
  const res = await fetch(`${app.baseUrl}/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: TOKEN }).toString(),
    redirect: 'manual',
  });
  expect(res.status).toBe(303);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

/** Opens the stream and collects events until `until` is satisfied or the timeout passes. */
function openStream(headers: Record<string, string>): Promise<{
  status: number;
  contentType: string | undefined;
  events: { event: string; data: string }[];
  close(): void;
  next(
    predicate: (e: { event: string; data: string }, index: number) => boolean,
    timeoutMs?: number,
  ): Promise<{ event: string; data: string }>;
  body: string;
}> {
  const url = new URL(`${app.baseUrl}/admin/dashboard/stream`);
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      const events: { event: string; data: string }[] = [];
      const waiters: (() => void)[] = [];
      let buffer = '';
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data });
          for (const w of waiters.splice(0)) w();
        }
      });
      resolve({
        status: res.statusCode ?? 0,
        contentType: res.headers['content-type'],
        events,
        get body() {
          return body;
        },
        close: () => req.destroy(),
        next: (predicate, timeoutMs = 5000) =>
          new Promise((done, fail) => {
            const deadline = setTimeout(() => fail(new Error(`no matching event within ${timeoutMs} ms`)), timeoutMs);
            const check = () => {
              const found = events.find(predicate);
              if (found !== undefined) {
                clearTimeout(deadline);
                done(found);
              } else waiters.push(check);
            };
            check();
          }),
      });
    });
    req.on('error', reject);
  });
}

/** Streams closed by an earlier test may take a moment to leave the server's count. */
async function openStreamWhenFree(headers: Record<string, string>): ReturnType<typeof openStream> {
  for (let attempt = 0; ; attempt++) {
    const stream = await openStream(headers);
    if (stream.status !== 503 || attempt >= 30) return stream;
    stream.close();
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('without ADMIN_TOKEN', () => {
  it('registers nothing: every dashboard path is a 404', async () => {
    const server = Fastify();
    await server.register(dashboardRoutes({ config: { admin: { token: undefined } } } as unknown as DashboardDeps));
    for (const [method, url] of [
      ['GET', '/admin/login'],
      ['POST', '/admin/login'],
      ['POST', '/admin/logout'],
      ['GET', '/admin/dashboard'],
      ['GET', '/admin/dashboard/stream'],
      ['GET', '/admin/dashboard/assets/uPlot.iife.min.js'],
    ] as const) {
      expect((await server.inject({ method, url, headers: bearer })).statusCode, `${method} ${url}`).toBe(404);
    }
    await server.close();
  });
});

describe('signing in', () => {
  it('shows the form', async () => {
    const res = await request(`${app.baseUrl}/admin/login`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'.*style-src 'sha256-/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.text).toContain('<form method="post" action="/admin/login">');
  });

  it('answers a wrong token with the form again, an error and 401, and no cookie', async () => {
    const res = await request(`${app.baseUrl}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=wrong',
    });
    expect(res.status).toBe(401);
    expect(res.text).toContain('role="alert"');
    expect(res.text).toContain('<form');
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('sets a signed session cookie (never the token) and redirects to the dashboard', async () => {
    const res = await fetch(`${app.baseUrl}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${encodeURIComponent(TOKEN)}`,
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/dashboard');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^holdfast_admin=v1\.\d+\.[\w-]+\.[\w-]+; Path=\/admin; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect(cookie).not.toContain(TOKEN);
  });

  it('lets the cookie or the bearer token in, and sends everyone else to the form', async () => {
    const cookie = await login();
    const page = await request(`${app.baseUrl}/admin/dashboard`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('/admin/dashboard/assets/uPlot.iife.min.js');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await request(`${app.baseUrl}/admin/dashboard`, { headers: bearer })).status).toBe(200);

    const strangers: Record<string, string>[] = [
      {},
      { cookie: `${cookie}x` },
      { cookie: 'holdfast_admin=v1.9999999999999.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    ];
    for (const headers of strangers) {
      const res = await fetch(`${app.baseUrl}/admin/dashboard`, { headers, redirect: 'manual' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/admin/login');
    }
    const signedIn = await fetch(`${app.baseUrl}/admin/login`, { headers: { cookie }, redirect: 'manual' });
    expect(signedIn.headers.get('location')).toBe('/admin/dashboard');
  });

  it('refuses the stream, plans and assets with 401 without a session', async () => {
    for (const path of ['/admin/dashboard/stream', '/admin/dashboard/plans/abc', '/admin/dashboard/assets/dashboard.js']) {
      const res = await request(`${app.baseUrl}${path}`, { headers: { authorization: 'Bearer wrong' } });
      expectProblem(res, 401, 'UNAUTHORIZED');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    }
  });

  it('logs out by clearing the cookie', async () => {
    const res = await fetch(`${app.baseUrl}/admin/logout`, { method: 'POST', headers: { cookie: await login() }, redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/login');
    expect(res.headers.get('set-cookie')).toMatch(/^holdfast_admin=; Path=\/admin; HttpOnly; SameSite=Strict; Max-Age=0/);
  });
});

describe('session hardening', () => {
  const form = (headers: Record<string, string> = {}, token = TOKEN) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ token }).toString(),
    redirect: 'manual' as const,
  });

  it('refuses cross-site login and logout posts with 403 problem+json; accepts its own origin', async () => {
    for (const headers of [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ] as Record<string, string>[]) {
      const res = await request(`${app.baseUrl}/admin/login`, form(headers));
      expectProblem(res, 403, 'FORBIDDEN');
      expect(res.headers.get('set-cookie')).toBeNull();
      expectProblem(
        await request(`${app.baseUrl}/admin/logout`, { method: 'POST', headers: { ...headers, cookie: await login() } }),
        403,
        'FORBIDDEN',
      );
    }
    const own = await fetch(`${app.baseUrl}/admin/login`, form({ origin: app.baseUrl, 'sec-fetch-site': 'same-origin' }));
    expect(own.status).toBe(303);
    // What Chromium sends for the login page's own form under Referrer-Policy: no-referrer.
    const ownUnderNoReferrer = await fetch(`${app.baseUrl}/admin/login`, form({ origin: 'null', 'sec-fetch-site': 'same-origin' }));
    expect(ownUnderNoReferrer.status).toBe(303);
  });

  it('logout revokes the session: the old cookie no longer opens anything', async () => {
    const cookie = await login();
    expect((await fetch(`${app.baseUrl}/admin/dashboard`, { headers: { cookie }, redirect: 'manual' })).status).toBe(200);
    expect((await fetch(`${app.baseUrl}/admin/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' })).status).toBe(303);
    const after = await fetch(`${app.baseUrl}/admin/dashboard`, { headers: { cookie }, redirect: 'manual' });
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/admin/login');
    expectProblem(await request(`${app.baseUrl}/admin/dashboard/plans/x`, { headers: { cookie } }), 401, 'UNAUTHORIZED');
  });

  it('carries the API’s HSTS on pages, redirects and refusals', async () => {
    for (const res of [
      await fetch(`${app.baseUrl}/admin/login`),
      await fetch(`${app.baseUrl}/admin/dashboard`, { redirect: 'manual' }),
      await fetch(`${app.baseUrl}/admin/dashboard/stream`),
    ]) {
      expect(res.headers.get('strict-transport-security')).toMatch(/^max-age=\d+; includeSubDomains$/);
    }
  });

  it('marks the cookie Secure when a trusted proxy says https, and only then', async () => {
    const proxied = await startTestApp({ env: { ADMIN_TOKEN: TOKEN, TRUST_PROXY: '1' } });
    try {
      const viaHttps = await fetch(`${proxied.baseUrl}/admin/login`, form({ 'x-forwarded-proto': 'https' }));
      expect(viaHttps.headers.get('set-cookie')).toMatch(/; Secure$/);
      const viaHttp = await fetch(`${proxied.baseUrl}/admin/login`, form());
      expect(viaHttp.headers.get('set-cookie')).not.toMatch(/Secure/);
    } finally {
      await proxied.close();
    }
    // Without a trusted proxy the header is the client's own claim and is ignored.
    const direct = await fetch(`${app.baseUrl}/admin/login`, form({ 'x-forwarded-proto': 'https' }));
    expect(direct.headers.get('set-cookie')).not.toMatch(/Secure/);
  });
});

describe('assets', () => {
  it('serves uPlot from node_modules and the page’s own files, with ETags', async () => {
    const cookie = await login();
    for (const [name, type] of [
      ['uPlot.iife.min.js', /^text\/javascript/],
      ['uPlot.min.css', /^text\/css/],
      ['dashboard.js', /^text\/javascript/],
      ['dashboard.css', /^text\/css/],
    ] as const) {
      const res = await request(`${app.baseUrl}/admin/dashboard/assets/${name}`, { headers: { cookie } });
      expect(res.status, name).toBe(200);
      expect(res.headers.get('content-type')).toMatch(type);
      const etag = res.headers.get('etag')!;
      expect((await fetch(`${app.baseUrl}/admin/dashboard/assets/${name}`, { headers: { cookie, 'if-none-match': etag } })).status).toBe(
        304,
      );
    }
    expect((await request(`${app.baseUrl}/admin/dashboard/assets/uPlot.iife.min.js`, { headers: { cookie } })).text).toContain('uPlot');
    expectProblem(await request(`${app.baseUrl}/admin/dashboard/assets/..%2Fsession.ts`, { headers: { cookie } }), 404, 'NOT_FOUND');
  });
});

describe('the event stream', () => {
  it('sends one frame per interval with every number the page draws, and history to late joiners', async () => {
    const first = await openStream(bearer);
    expect(first.status).toBe(200);
    expect(first.contentType).toMatch(/^text\/event-stream/);
    await Promise.all(Array.from({ length: 20 }, () => fetch(`${app.baseUrl}/api/products?limit=5`).then((r) => r.text())));
    const frameEvent = await first.next((e) => e.event === 'frame' && (JSON.parse(e.data) as DashboardFrame).http.totalRequests >= 20);
    const frame = JSON.parse(frameEvent.data) as DashboardFrame;
    expect(frame.state.level).toMatch(/^(ok|degraded|shedding)$/);
    await first.next(
      (e) =>
        e.event === 'frame' && (JSON.parse(e.data) as DashboardFrame).http.routes.some((r) => r.route === 'GET /api/products' && r.rps > 0),
    );
    expect(frame.pool).toMatchObject({ max: 5, limit: 5, min: 1, queueDelayMs: 0, shedPerS: 0 });
    expect(frame.memory.rssMb).toBeGreaterThan(0);
    expect(frame.memory.rssWarnMb).toBe(app.config.pressure.memoryWarnMb);
    expect(frame.eventLoop.delayMaxMs).toBe(app.config.pressure.eventLoopDelayMaxMs);
    expect(frame.slowQueries.length).toBeGreaterThan(0);
    expect(frame.streams).toBe(1);

    const late = await openStream({ cookie: await login() });
    expect(late.body).toMatch(/^retry: 3000\n\nevent: history\ndata: \[/);
    const history = JSON.parse(late.events.find((e) => e.event === 'history')!.data) as DashboardFrame[];
    expect(history.length).toBeGreaterThan(0);
    expect(history[0]).not.toHaveProperty('slowQueries');
    const shared = await late.next((e) => e.event === 'frame');
    expect((JSON.parse(shared.data) as DashboardFrame).streams).toBe(2);
    first.close();
    late.close();
  });

  it('caps concurrent streams with 503 and frees a slot when a client leaves', async () => {
    const a = await openStreamWhenFree(bearer);
    const b = await openStreamWhenFree(bearer);
    await a.next((e) => e.event === 'frame');
    const refused = await request(`${app.baseUrl}/admin/dashboard/stream`, { headers: bearer });
    expectProblem(refused, 503, 'OVERLOADED');
    const seen = b.events.length;
    a.close();
    await b.next((e, i) => i >= seen && e.event === 'frame' && (JSON.parse(e.data) as DashboardFrame).streams === 1);
    const c = await openStream(bearer);
    expect(c.status).toBe(200);
    b.close();
    c.close();
  });

  it('answers HEAD without opening a stream', async () => {
    const res = await fetch(`${app.baseUrl}/admin/dashboard/stream`, { method: 'HEAD', headers: bearer });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const probe = await openStreamWhenFree(bearer);
    const frame = await probe.next((e) => e.event === 'frame');
    expect((JSON.parse(frame.data) as DashboardFrame).streams).toBe(1);
    probe.close();
  });

  it('serves a captured plan on demand', async () => {
    await app.pool.query(TEST, { text: 'SELECT pg_sleep(0.08), count(*) FROM products' });
    await app.profiler.settled();
    const statement = app.profiler.report(50).statements.find((s) => s.fingerprint.startsWith('select pg_sleep'))!;
    expect(statement.plan).not.toBeNull();
    const res = await request(`${app.baseUrl}/admin/dashboard/plans/${statement.id}`, { headers: bearer });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: statement.id, plan: { plan: expect.any(Array) } });
    expectProblem(await request(`${app.baseUrl}/admin/dashboard/plans/0000000000000000`, { headers: bearer }), 404, 'NOT_FOUND');
  });
});

describe('shutdown', () => {
  it('ends open streams so the server closes at once', async () => {
    const own = await startTestApp({ env: { ADMIN_TOKEN: TOKEN, DASHBOARD_INTERVAL_MS: '100' } });
    try {
      const stream = await (async () => {
        const res = await fetch(`${own.baseUrl}/admin/dashboard/stream`, { headers: bearer });
        expect(res.status).toBe(200);
        return res;
      })();
      const started = Date.now();
      await own.server.close();
      expect(Date.now() - started).toBeLessThan(2000);
      await stream.body?.cancel().catch(() => undefined);
    } finally {
      await own.close();
    }
  });
});
