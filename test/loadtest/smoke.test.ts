/**
 * `npm run loadtest -- --levels 10 --duration 2s`, end to end, as a function
 * call: a real Holdfast child on a seeded test database. Asserts that the
 * outputs exist and parse, never timings (the machine is shared).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/config/redact.ts';
import { parseMix } from '../../scripts/loadtest/mix.ts';
import type { LoadtestReport } from '../../scripts/loadtest/report-types.ts';
import { runLoadtest } from '../../scripts/loadtest/run.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let db: TestDatabase;
let out: string;

beforeAll(async () => {
  db = await createTestDatabase();
  out = await mkdtemp(join(tmpdir(), 'holdfast-loadtest-smoke-'));
});

afterAll(async () => {
  await db?.drop();
  if (out !== undefined) await rm(out, { recursive: true, force: true });
});

describe('loadtest smoke', () => {
  it('runs one level and writes JSON, markdown and HTML that parse', async () => {
    const printed: string[] = [];
    const { report, files } = await runLoadtest({
      databaseUrl: db.url,
      levels: [10],
      durationMs: 2000,
      mix: parseMix('health=1,product=4,list=2,orders=2'),
      seed: { products: 500, customers: 100, orders: 500 },
      outDir: out,
      progress: false,
      // A small pool: test files run in parallel against one server.
      serverEnv: { DB_POOL_MIN: '1', DB_POOL_MAX: '4' },
      print: (text) => printed.push(text),
    });

    const json = JSON.parse(await readFile(files.json, 'utf8')) as LoadtestReport;
    expect(json).toEqual(JSON.parse(JSON.stringify(report)));
    expect(json.levels).toHaveLength(1);
    const level = json.levels[0]!;
    expect(level.users).toBe(10);
    expect(level.client.requests).toBeGreaterThan(0);
    expect(level.client.status2xx).toBeGreaterThan(0);
    expect(level.client.timeouts + level.client.socketErrors).toBe(0);
    expect(['pool wait', 'query time', 'event loop', 'rate limit', 'memory', 'none', 'unknown']).toContain(level.bottleneck);
    expect(level.server.rssMb).toBeGreaterThan(0);
    expect(json.target.spawned).toBe(true);
    expect(json.target.database).toBe(redactUrl(db.url));

    const md = await readFile(files.markdown, 'utf8');
    expect(md).toMatch(/^\| 10 users \| [\d.]+% \| [\d,]+ \|/m);
    const html = await readFile(files.html, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(printed.join('\n')).toContain('| Load Level | Success | req/s |');
  }, 120_000);
});
