import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig, readEnvironment } from '../../src/config/index.ts';
import { TSX_LOADER } from '../helpers/tsx.ts';

function problemsOf(env: Record<string, string>): { variable: string; value: string | undefined; message: string }[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('defaults come from the original report', () => {
    const config = loadConfig({});
    expect(config.pool).toMatchObject({ min: 5, max: 40, acquireTimeoutMs: 30_000, recycleMs: 3_600_000, getMode: 'wait' });
    expect(config.server.port).toBe(5001);
    expect(config.database.url).toBeUndefined();
    expect(config.database.dataDir).toBe('./data');
  });

  it('reads the dashboard settings, defaulting to 20 streams and a 1 s interval', () => {
    expect(loadConfig({}).dashboard).toEqual({ maxStreams: 20, intervalMs: 1000 });
    expect(loadConfig({ DASHBOARD_MAX_STREAMS: '3', DASHBOARD_INTERVAL_MS: '250' }).dashboard).toEqual({ maxStreams: 3, intervalMs: 250 });
  });

  it('reads overrides and converts units', () => {
    const config = loadConfig({ DB_POOL_MAX: '17', DB_POOL_TIMEOUT: '2', DB_POOL_IDLE_TIMEOUT: '9', DB_POOL_GETMODE: 'NOWAIT' });
    expect(config.pool.max).toBe(17);
    expect(config.pool.acquireTimeoutMs).toBe(2000);
    expect(config.pool.idleTimeoutMs).toBe(9000);
    expect(config.pool.getMode).toBe('nowait');
  });

  it('reads the batched reads and heap growth settings, with their defaults and bounds', () => {
    const defaults = loadConfig({});
    expect(defaults.database.batchReads).toEqual({ enabled: true, max: 64 });
    expect(defaults.heapGrowingPercent).toBe(50);
    const set = loadConfig({ DB_BATCH_READS: 'false', DB_BATCH_MAX: '16', HEAP_GROWING_PERCENT: '0' });
    expect(set.database.batchReads).toEqual({ enabled: false, max: 16 });
    expect(set.heapGrowingPercent).toBe(0);
    expect(
      problemsOf({ DB_BATCH_MAX: '1', HEAP_GROWING_PERCENT: '-5' })
        .map((p) => p.variable)
        .sort(),
    ).toEqual(['DB_BATCH_MAX', 'HEAP_GROWING_PERCENT']);
  });

  it('reads the slow-client and connection settings, with their defaults and bounds', () => {
    expect(loadConfig({}).server).toMatchObject({
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 72_000,
      maxConnections: 0,
      exposeWorker: false,
    });
    const set = loadConfig({
      HTTP_REQUEST_TIMEOUT_MS: '5000',
      HTTP_HEADERS_TIMEOUT_MS: '5000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000',
      HTTP_MAX_CONNECTIONS: '100',
      HTTP_EXPOSE_WORKER: 'true',
    });
    expect(set.server).toMatchObject({
      requestTimeoutMs: 5000,
      headersTimeoutMs: 5000,
      keepAliveTimeoutMs: 65_000,
      maxConnections: 100,
      exposeWorker: true,
    });
    expect(
      problemsOf({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '50', HTTP_MAX_CONNECTIONS: '-1' })
        .map((p) => p.variable)
        .sort(),
    ).toEqual(['HTTP_KEEP_ALIVE_TIMEOUT_MS', 'HTTP_MAX_CONNECTIONS']);
    // 0 would turn the bound off, which is the finding itself.
    expect(problemsOf({ HTTP_REQUEST_TIMEOUT_MS: '0' }).map((p) => p.variable)).toContain('HTTP_REQUEST_TIMEOUT_MS');
    expect(problemsOf({ HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_HEADERS_TIMEOUT_MS: '2000' })).toEqual([
      { variable: 'HTTP_HEADERS_TIMEOUT_MS', value: '2000', message: 'must not exceed HTTP_REQUEST_TIMEOUT_MS (1000)' },
    ]);
  });

  it('reads the OpenTelemetry metrics settings: off by default, a 60 s interval, and their bounds', () => {
    expect(loadConfig({}).telemetry).toMatchObject({ metricsExporter: 'none', metricsEndpoint: undefined, metricExportIntervalMs: 60_000 });
    const set = loadConfig({
      OTEL_METRICS_EXPORTER: 'OTLP',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://collector.example:4318/custom/metrics',
      OTEL_METRIC_EXPORT_INTERVAL: '15000',
    });
    expect(set.telemetry).toMatchObject({
      metricsExporter: 'otlp',
      metricsEndpoint: 'https://collector.example:4318/custom/metrics',
      metricExportIntervalMs: 15_000,
    });
    expect(
      problemsOf({
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'collector:4318',
        OTEL_METRIC_EXPORT_INTERVAL: '99',
      })
        .map((p) => [p.variable, p.message])
        .sort(),
    ).toEqual([
      ['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', expect.stringContaining('http:// or https://')],
      ['OTEL_METRICS_EXPORTER', 'must be one of none, otlp'],
      ['OTEL_METRIC_EXPORT_INTERVAL', 'must be a whole number ≥ 100'],
    ]);
  });

  it('is frozen, deeply', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.pool)).toBe(true);
    expect(() => {
      (config.pool as { max: number }).max = 1;
    }).toThrow(TypeError);
  });

  it.each([
    ['DB_POOL_MAX', 'abc', 'whole number'],
    ['DB_POOL_MIN', '-1', 'whole number ≥ 0'],
    ['DB_POOL_TIMEOUT', '1.5', 'whole number'],
    ['PORT', '70000', 'from 0 to 65535'],
    ['DB_POOL_GETMODE', 'sometimes', 'one of wait, nowait'],
    ['LOG_LEVEL', 'loud', 'one of'],
    ['SEED_DEMO', 'maybe', 'one of'],
    ['DATABASE_URL', 'mysql://x@y/z', 'postgres://'],
    ['DASHBOARD_MAX_STREAMS', '0', 'whole number ≥ 1'],
    ['DASHBOARD_INTERVAL_MS', '99', 'whole number ≥ 100'],
  ])('rejects %s=%s, saying what is allowed', (variable, value, allowed) => {
    const problems = problemsOf({ [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.variable).toBe(variable);
    expect(problems[0]!.value).toBe(value);
    expect(problems[0]!.message).toContain(allowed);
  });

  it('rejects a max of 0', () => {
    const problems = problemsOf({ DB_POOL_MIN: '0', DB_POOL_MAX: '0' });
    expect(problems).toEqual([{ variable: 'DB_POOL_MAX', value: '0', message: 'must be a whole number ≥ 1' }]);
  });

  it('names every bad variable at once, and both sides of min > max', () => {
    const problems = problemsOf({ DB_POOL_MIN: '50', DB_POOL_MAX: '10', DB_POOL_GETMODE: 'x', PORT: 'y' });
    expect(problems.map((p) => p.variable).sort()).toEqual(['DB_POOL_GETMODE', 'DB_POOL_MAX', 'DB_POOL_MIN', 'PORT']);
  });

  it('never shows the database password, in errors or in dumps', () => {
    const problems = problemsOf({ DATABASE_URL: 'postgres://app:hunter2@db/x', DB_POOL_MAX: 'x' });
    expect(JSON.stringify(problems)).not.toContain('hunter2');
    const config = loadConfig({ DATABASE_URL: 'postgres://app:hunter2@db:5432/shop', CURSOR_SECRET: 'topsecret-cursor-0123' });
    const dump = JSON.stringify(describeConfig(config));
    expect(dump).not.toContain('hunter2');
    expect(dump).not.toContain('topsecret');
    expect(dump).toContain('"authFailuresPerMinute":10');
    expect(dump).toContain('db:5432/shop');
  });
});

describe('operator secrets and the proxy setting', () => {
  it('refuses tokens and secrets shorter than 16 characters, naming each and never showing it', () => {
    const problems = problemsOf({ ADMIN_TOKEN: 'a', METRICS_TOKEN: 'b', CURSOR_SECRET: 'c', API_KEYS: 'app:short' });
    expect(problems.map((p) => p.variable).sort()).toEqual(['ADMIN_TOKEN', 'API_KEYS', 'CURSOR_SECRET', 'METRICS_TOKEN']);
    for (const p of problems) expect(p.value).toBe('<redacted>');
    expect(problems.find((p) => p.variable === 'ADMIN_TOKEN')?.message).toMatch(/at least 16 characters/);
    const ok = loadConfig({ ADMIN_TOKEN: 'a'.repeat(16), METRICS_TOKEN: 'b'.repeat(16), CURSOR_SECRET: 'c'.repeat(16) });
    expect(ok.admin.token).toBe('a'.repeat(16));
  });

  it('refuses TRUST_PROXY=true, explaining the two forms; takes a hop count or addresses', () => {
    const [problem] = problemsOf({ TRUST_PROXY: 'TRUE' });
    expect(problem?.variable).toBe('TRUST_PROXY');
    expect(problem?.message).toMatch(/number of proxies.*addresses\/CIDRs/);
    expect(loadConfig({ TRUST_PROXY: '1' }).server.trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.0.2.1' }).server.trustProxy).toBe('10.0.0.0/8, 192.0.2.1');
    expect(loadConfig({}).server.trustProxy).toBe(false);
  });

  it('reads ADMIN_AUTH_FAILURES_PER_MINUTE: default 10, from 1 to 10000', () => {
    expect(loadConfig({}).admin.authFailuresPerMinute).toBe(10);
    expect(loadConfig({ ADMIN_AUTH_FAILURES_PER_MINUTE: '3' }).admin.authFailuresPerMinute).toBe(3);
    expect(problemsOf({ ADMIN_AUTH_FAILURES_PER_MINUTE: '0' }).map((p) => p.variable)).toEqual(['ADMIN_AUTH_FAILURES_PER_MINUTE']);
  });
});

describe('readEnvironment', () => {
  it('reads .env and lets the environment win over it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'holdfast-env-'));
    try {
      const file = join(dir, '.env');
      await writeFile(file, 'DB_POOL_MAX=12\nDB_POOL_MIN=3\n# comment\n');
      const env = readEnvironment({ env: { DB_POOL_MAX: '17' }, envFile: file });
      expect(env.DB_POOL_MAX).toBe('17');
      expect(env.DB_POOL_MIN).toBe('3');
      expect(loadConfig(env).pool).toMatchObject({ min: 3, max: 17 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('works without a .env file', () => {
    const env = readEnvironment({ env: { PORT: '1234' }, envFile: '/nonexistent/.env' });
    expect(loadConfig(env).server.port).toBe(1234);
  });
});

describe('the process with bad configuration', () => {
  it('exits 2 before starting anything, naming both variables', async () => {
    const main = resolve('src/main.ts');
    // Run from an empty directory so no .env is read; tsx is loaded by path for the same reason.
    const result = await promisify(execFile)(process.execPath, ['--import', TSX_LOADER, main], {
      env: { PATH: process.env.PATH, DB_POOL_MIN: '50', DB_POOL_MAX: '10', DATA_DIR: '/nonexistent-should-not-be-created' },
      cwd: tmpdir(),
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('DB_POOL_MIN="50"');
    expect(result.stderr).toContain('DB_POOL_MAX="10"');
    await expect(readFile('/nonexistent-should-not-be-created')).rejects.toThrow();
  });

  it('exits 2 on a short admin token, naming it without showing it', async () => {
    const result = await promisify(execFile)(process.execPath, ['--import', TSX_LOADER, resolve('src/main.ts')], {
      env: { PATH: process.env.PATH, ADMIN_TOKEN: 'a', DATA_DIR: '/nonexistent-should-not-be-created' },
      cwd: tmpdir(),
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ADMIN_TOKEN="<redacted>": must be at least 16 characters/);
  });
});
