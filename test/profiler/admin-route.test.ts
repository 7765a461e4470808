/**
 * GET /admin/queries and `npm run queries` against a real server and Postgres.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueriesReport } from '../../src/profiler/admin-route.ts';
import { adminQueriesRoutes } from '../../src/profiler/admin-route.ts';
import { formatQueriesReport } from '../../src/profiler/report-table.ts';
import { expectProblem, request } from '../helpers/http.ts';
import { startProfiledServer, type ProfiledServer } from './harness.ts';
import { TEST } from '../helpers/context.ts';
import { lenientAuthFailures } from '../helpers/auth-failures.ts';

const TOKEN = 'admin-token-for-tests-0123456789';
const run = promisify(execFile);

let s: ProfiledServer;
beforeAll(async () => {
  s = await startProfiledServer(
    { slowQueryMs: 30 },
    async (api, { pool }) => {
      api.get('/work', async () => {
        for (let i = 0; i < 3; i++) await pool.query(TEST, { text: 'SELECT $1::int AS i', values: [i] });
        await pool.query(TEST, { text: 'SELECT pg_sleep(0.04), count(*) FROM customers' });
        return { ok: true };
      });
    },
    { adminToken: TOKEN },
  );
  await fetch(`${s.baseUrl}/api/work`).then((r) => r.text());
  await s.profiler.settled();
});
afterAll(() => s?.close());

const auth = { authorization: `Bearer ${TOKEN}` };

describe('GET /admin/queries', () => {
  it('requires the bearer token', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: `Basic ${TOKEN}` }, { authorization: TOKEN }] as Record<
      string,
      string
    >[]) {
      const answer = await request(`${s.baseUrl}/admin/queries`, { headers });
      expectProblem(answer, 401, 'UNAUTHORIZED');
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(answer.text).not.toContain('pg_sleep');
    }
  });

  it('lists fingerprints by total time with calls, mean, p95, max, rows, wait and plans', async () => {
    const { status, headers, body } = await request<QueriesReport>(`${s.baseUrl}/admin/queries`, { headers: auth });
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    const totals = body.statements.map((st) => st.totalMs);
    expect(totals).toEqual([...totals].sort((a, b) => b - a));

    const repeated = body.statements.find((st) => st.fingerprint === 'select ?::int as i')!;
    expect(repeated).toMatchObject({ calls: 3, rows: 3, errors: 0, plan: null });
    for (const key of ['totalMs', 'meanMs', 'p95Ms', 'maxMs'] as const) expect(repeated[key]).toBeGreaterThan(0);
    expect(repeated.wait).toEqual({ totalMs: expect.any(Number), meanMs: expect.any(Number), maxMs: expect.any(Number) });

    const slow = body.statements.find((st) => st.fingerprint.startsWith('select pg_sleep(?), count(*)'))!;
    expect(slow.slowCalls).toBe(1);
    expect(slow.p95Ms).toBeGreaterThanOrEqual(40);
    expect(slow.plan?.plan).toEqual([expect.objectContaining({ Plan: expect.objectContaining({ 'Node Type': expect.any(String) }) })]);

    expect(body.settings).toEqual(s.profiler.settings);
    expect(body.totals.queries).toBe(s.profiler.queriesTotal);
  });

  it('honours limit and refuses a bad one', async () => {
    const { body } = await request<QueriesReport>(`${s.baseUrl}/admin/queries?limit=1`, { headers: auth });
    expect(body.statements).toHaveLength(1);
    for (const bad of ['0', '501', 'abc', '-1']) {
      expectProblem(await request(`${s.baseUrl}/admin/queries?limit=${bad}`, { headers: auth }), 400, 'VALIDATION_FAILED');
    }
  });

  it('shows pg_stat_statements when it can, and says why not when it cannot', async () => {
    const absent = (await request<QueriesReport>(`${s.baseUrl}/admin/queries`, { headers: auth })).body.pgStatStatements;
    expect(absent).toEqual({ available: false, reason: expect.stringMatching(/not installed/) });

    await s.pool.query(TEST, { text: 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' });
    const installed = (await request<QueriesReport>(`${s.baseUrl}/admin/queries`, { headers: auth })).body.pgStatStatements;
    if (installed.available) {
      // A server with pg_stat_statements in shared_preload_libraries.
      expect(Array.isArray(installed.statements)).toBe(true);
    } else {
      expect(installed.reason).toMatch(/shared_preload_libraries/);
    }
  });

  it('does not profile its own reads', async () => {
    await request(`${s.baseUrl}/admin/queries`, { headers: auth });
    const { body } = await request<QueriesReport>(`${s.baseUrl}/admin/queries?limit=500`, { headers: auth });
    // (The CREATE EXTENSION above was the test's own statement, and is profiled.)
    const own = body.statements.filter(
      (st) => st.command === 'explain' || (st.command === 'select' && /pg_extension|pg_stat_statements/.test(st.fingerprint)),
    );
    expect(own).toEqual([]);
  });
});

describe('GET /admin/queries without ADMIN_TOKEN', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    const unreachable = { query: () => Promise.reject(new Error('must not be called')) };
    const profiler = {
      report: () => {
        throw new Error('must not be called');
      },
    };
    app = Fastify();
    await app.register(adminQueriesRoutes({ profiler, db: unreachable, adminToken: undefined, authFailures: lenientAuthFailures() }));
    await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => app?.close());

  it('answers 404 as if the route did not exist, whatever the credentials', async () => {
    const address = app.server.address() as { port: number };
    for (const headers of [{}, { authorization: 'Bearer anything' }] as Record<string, string>[]) {
      expectProblem(await request(`http://127.0.0.1:${address.port}/admin/queries`, { headers }), 404, 'ROUTE_NOT_FOUND');
    }
  });
});

describe('npm run queries', () => {
  const script = ['tsx', 'scripts/queries.ts'];
  const env = (extra: Record<string, string | undefined>) => {
    const e: Record<string, string | undefined> = { ...process.env, ...extra };
    for (const [k, v] of Object.entries(e)) if (v === undefined) delete e[k];
    return e as NodeJS.ProcessEnv;
  };

  it('prints the table from a running server', async () => {
    const { stdout } = await run('npx', [...script, '--url', s.baseUrl], { env: env({ ADMIN_TOKEN: TOKEN }) });
    expect(stdout).toMatch(/Top \d+ statements by total execution time/);
    expect(stdout).toMatch(/calls\s+total ms\s+mean\s+p95\s+max/);
    expect(stdout).toContain('select ?::int as i');
    expect(stdout).toContain('Plans (EXPLAIN, values redacted):');
    expect(stdout).toMatch(/pg_stat_statements/);
    expect(stdout).not.toContain(TOKEN);
  });

  it('prints JSON with --json', async () => {
    const { stdout } = await run('npx', [...script, '--url', s.baseUrl, '--json', '--limit', '2'], { env: env({ ADMIN_TOKEN: TOKEN }) });
    expect((JSON.parse(stdout) as QueriesReport).statements).toHaveLength(2);
  });

  it('exits 1 on a wrong token and 2 without one', async () => {
    await expect(
      run('npx', [...script, '--url', s.baseUrl], { env: env({ ADMIN_TOKEN: 'wrong-admin-token-0123456789' }) }),
    ).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('401'),
    });
    await expect(run('npx', [...script, '--url', s.baseUrl], { env: env({ ADMIN_TOKEN: undefined }) })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('ADMIN_TOKEN is not set'),
    });
  });
});

describe('formatQueriesReport', () => {
  it('renders an empty report', () => {
    const text = formatQueriesReport({
      generatedAt: '2025-01-01T00:00:00.000Z',
      settings: { slowQueryMs: 100, nPlusOneThreshold: 5, maxFingerprints: 500, explainIntervalS: 60 },
      totals: {
        queries: 0,
        slowQueries: 0,
        nPlusOne: 0,
        fingerprints: 0,
        fingerprintsEvicted: 0,
        plansCaptured: 0,
        planFailures: 0,
        plansDropped: 0,
      },
      statements: [],
      nPlusOne: [],
      pgStatStatements: { available: false, reason: 'extension pg_stat_statements is not installed in this database' },
    });
    expect(text).toContain('(no statements recorded yet)');
    expect(text).toContain('pg_stat_statements: not available');
  });
});
