import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { compile } from '../scripts/build/compile.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { TSX_LOADER } from './helpers/tsx.ts';

// The real process, as `npm start` runs it, against a test database.

interface Running {
  child: ChildProcess;
  url: string;
  lines: Record<string, unknown>[];
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
const databases: TestDatabase[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const db of databases.splice(0)) await db.drop();
});

/** Node's arguments for the sources under tsx; the compiled build passes its own. */
function fromSources(): string[] {
  return ['--import', TSX_LOADER, resolve('src/main.ts')];
}

async function startProcess(env: Record<string, string>, args: string[] = fromSources()): Promise<Running> {
  const db = await createTestDatabase({ migrate: false });
  databases.push(db);
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH, DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const lines: Record<string, unknown>[] = [];
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no 'holdfast listening' line; got ${JSON.stringify(lines)}`)), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        lines.push(parsed);
        if (parsed.msg === 'holdfast listening') {
          clearTimeout(timer);
          done(String(parsed.url));
        }
      } catch {
        lines.push({ raw: line });
      }
    });
    void exited.then((code) => fail(new Error(`exited with ${code} before listening`)));
  });
  return { child, url, lines, exited };
}

describe('the holdfast process', () => {
  it('serves /api/health with the default pool (min 5, max 40), after logging the pool line', async () => {
    const app = await startProcess({});
    const body = (await (await fetch(`${app.url}/api/health`)).json()) as { status: string; pool: Record<string, number> };
    expect(body.status).toBe('ok');
    expect(body.pool).toMatchObject({ min: 5, max: 40, size: 5 });
    expect(app.lines.some((l) => l.msg === 'pool ready: min 5, max 40, timeout 30s, recycle 3600s')).toBe(true);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  });

  it('takes DB_POOL_MAX from the environment', async () => {
    const app = await startProcess({ DB_POOL_MAX: '17' });
    const body = (await (await fetch(`${app.url}/api/health`)).json()) as { pool: Record<string, number> };
    expect(body.pool.max).toBe(17);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  });

  it('on SIGTERM finishes in-flight requests, then exits 0; a relayed duplicate signal does not force it', async () => {
    const app = await startProcess({});
    // Warm the store, then put a burst of real work in flight.
    await fetch(`${app.url}/api/products?limit=100`);
    const inflight = Array.from({ length: 50 }, () =>
      fetch(`${app.url}/api/products?limit=100`).then(
        async (res) => ({ status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() }),
        (err: unknown) => ({ status: 0, retryAfter: null, body: String(err) }),
      ),
    );
    await new Promise((r) => setTimeout(r, 5));
    app.child.kill('SIGTERM');
    app.child.kill('SIGTERM'); // as npm/tsx relaying the same stop request
    const results = await Promise.all(inflight);
    expect(await app.exited).toBe(0);
    for (const r of results) {
      // Served in full, or refused deliberately, or never connected: never a 5xx crash or a cut response.
      if (r.status === 0) expect(r.body).toMatch(/fetch failed|ECONNREFUSED|other side closed/i);
      else if (r.status === 503) expect(r.retryAfter).not.toBeNull();
      else expect(r.status).toBe(200);
    }
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    expect(app.lines.some((l) => l.msg === 'holdfast stopped')).toBe(true);
  });
});

describe('the compiled process (npm start runs npm run build first)', () => {
  const outDir = resolve(`.build-test-${process.pid}`);
  afterAll(() => rm(outDir, { recursive: true, force: true }));

  it('builds with its run-time files beside the modules, then migrates, serves and stops', async () => {
    await compile({ outDir });
    for (const file of ['src/main.js', 'src/db/migrations/sql/001_store.sql', 'src/dashboard/public/index.html']) {
      expect(existsSync(join(outDir, file)), file).toBe(true);
    }
    const app = await startProcess({ SEED_DEMO: 'true' }, [join(outDir, 'src/main.js')]);
    const health = await fetch(`${app.url}/api/health`);
    expect(health.status).toBe(200);
    const page = (await (await fetch(`${app.url}/api/products?limit=2`)).json()) as { items: unknown[] };
    expect(page.items.length).toBeGreaterThan(0);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  }, 60_000);
});
