import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig, readSetting } from '../../src/config/index.ts';
import { loadSettings } from '../../src/config/loader.ts';
import { int, optional, text } from '../../src/config/kinds.ts';
import { DEFAULT_PRIORITY_TABLE } from '../../src/context/priority.ts';
import { SETTINGS, type SettingName, type SettingRow } from '../../src/config/settings.ts';

/** Every default of the zod schema this table replaced (src/config/schema.ts at 0518217), as written in the environment. */
const PREVIOUS_DEFAULTS: Record<string, string | undefined> = {
  HOST: '0.0.0.0',
  PORT: '5001',
  LOG_LEVEL: 'info',
  SHUTDOWN_TIMEOUT_MS: '10000',
  BODY_LIMIT_BYTES: '1048576',
  DATABASE_URL: undefined,
  DATA_DIR: './data',
  EMBEDDED_PG_PORT: '54329',
  DB_STATEMENT_TIMEOUT_MS: '10000',
  DB_POOL_MIN: '5',
  DB_POOL_MAX: '40',
  DB_POOL_TIMEOUT: '30',
  DB_POOL_RECYCLE: '3600',
  DB_POOL_IDLE_TIMEOUT: '300',
  DB_POOL_QUEUE_MAX: '1000',
  DB_POOL_GETMODE: 'wait',
  DB_POOL_LEAK_MS: '30000',
  DB_POOL_VALIDATE_IDLE_MS: '5000',
  DB_ADAPTIVE_LIMIT: 'true',
  DB_ADAPTIVE_LIMIT_MIN: '2',
  DB_BATCH_READS: 'true',
  DB_BATCH_MAX: '64',
  SEED_DEMO: 'true',
  CURSOR_SECRET: undefined,
  TRUST_PROXY: 'false',
  REDIS_URL: undefined,
  REDIS_COMMAND_TIMEOUT_MS: '100',
  RATE_LIMIT_ENABLED: 'true',
  RATE_LIMIT_MAX: '100',
  RATE_LIMIT_WINDOW_S: '60',
  RATE_LIMIT_WRITE_MAX: '20',
  RATE_LIMIT_ALLOW: '',
  MEMORY_SAMPLE_MS: '1000',
  HEAP_GROWING_PERCENT: '50',
  MEMORY_WARN_MB: '512',
  MEMORY_CRITICAL_MB: '1024',
  HEAP_WARN_FRACTION: '0.8',
  HEAP_CRITICAL_FRACTION: '0.92',
  EVENT_LOOP_DELAY_WARN_MS: '200',
  EVENT_LOOP_DELAY_MAX_MS: '1000',
  HEAP_SNAPSHOT_DIR: undefined,
  HEAP_SNAPSHOT_MIN_INTERVAL_S: '3600',
  SLOW_QUERY_MS: '100',
  N_PLUS_ONE_THRESHOLD: '5',
  PROFILER_MAX_FINGERPRINTS: '500',
  EXPLAIN_SAMPLE_INTERVAL_S: '60',
  CACHE_ENABLED: 'true',
  CACHE_MAX_BYTES: '67108864',
  CACHE_TTL_PRODUCT_S: '30',
  CACHE_TTL_LIST_S: '10',
  CACHE_TTL_REPORT_S: '60',
  API_KEYS: '',
  CORS_ORIGINS: '',
  WEB_CONCURRENCY: '1',
  DB_PREPARED_STATEMENTS: 'true',
  DB_CONNECTION_HEADROOM: '10',
  METRICS_TOKEN: undefined,
  ADMIN_TOKEN: undefined,
  DASHBOARD_MAX_STREAMS: '20',
  DASHBOARD_INTERVAL_MS: '1000',
};

/** Settings added since, by the security issue (#13), with their defaults. */
const ADDED_DEFAULTS: Record<string, string | undefined> = {
  DATABASE_REPLICA_URLS: '',
  DB_REPLICA_POOL_MAX: '20',
  DB_REPLICA_MAX_LAG_MS: '5000',
  DB_REPLICA_LAG_SAMPLE_MS: '1000',
  DB_REPLICA_TOKEN_WAIT_MS: '100',
  HTTP_REQUEST_TIMEOUT_MS: '30000',
  REQUEST_TIMEOUT_MS: '10000',
  HTTP_HEADERS_TIMEOUT_MS: '10000',
  HTTP_KEEP_ALIVE_TIMEOUT_MS: '72000',
  HTTP_MAX_CONNECTIONS: '0',
  HTTP_EXPOSE_WORKER: 'false',
  ADMIN_AUTH_FAILURES_PER_MINUTE: '10',
  IDEMPOTENCY_TTL_S: '86400',
  RATE_LIMIT_DB_MS_PER_MINUTE: '0',
  OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined,
  OTEL_EXPORTER_OTLP_HEADERS: undefined,
  OTEL_SERVICE_NAME: 'holdfast',
  OTEL_TRACES_SAMPLER: 'parentbased_always_on',
  OTEL_TRACES_SAMPLER_ARG: '1',
  DB_TRACE_COMMENTS: 'true',
  // issue 15: cache admission
  CACHE_ADMISSION_THRESHOLD: '3',
  // issue 15: overload control
  POOL_CODEL_ENABLED: 'true',
  POOL_CODEL_TARGET_MS: '50',
  POOL_CODEL_INTERVAL_MS: '500',
  POOL_HIGH_RESERVE: '0.2',
  ROUTE_PRIORITIES: DEFAULT_PRIORITY_TABLE,
  DB_RETRY_BUDGET_RATIO: '0.1',
  DB_RETRY_BUDGET_WINDOW_S: '10',
  // issue 16: the pool's metrics over OTLP
  OTEL_METRICS_EXPORTER: 'none',
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: undefined,
  OTEL_METRIC_EXPORT_INTERVAL: '60000',
  // issue 14: the host probe of slow statements
  DB_HOST_PROBE: 'true',
};

/** Whole-number bounds of the previous schema: [variable, min, max (undefined: 2^31 - 1)]. */
const PREVIOUS_INT_BOUNDS: [SettingName, number, number | undefined][] = [
  ['PORT', 0, 65535],
  ['SHUTDOWN_TIMEOUT_MS', 0, undefined],
  ['BODY_LIMIT_BYTES', 1, undefined],
  ['EMBEDDED_PG_PORT', 1, 65535],
  ['DB_STATEMENT_TIMEOUT_MS', 0, undefined],
  ['DB_POOL_MIN', 0, undefined],
  ['DB_POOL_MAX', 1, undefined],
  ['DB_POOL_TIMEOUT', 0, undefined],
  ['DB_POOL_RECYCLE', 1, undefined],
  ['DB_POOL_IDLE_TIMEOUT', 1, undefined],
  ['DB_POOL_QUEUE_MAX', 0, undefined],
  ['DB_POOL_LEAK_MS', 0, undefined],
  ['DB_POOL_VALIDATE_IDLE_MS', 0, undefined],
  ['DB_ADAPTIVE_LIMIT_MIN', 1, undefined],
  ['DB_BATCH_MAX', 2, 1000],
  ['REDIS_COMMAND_TIMEOUT_MS', 1, 60_000],
  ['RATE_LIMIT_MAX', 1, undefined],
  ['RATE_LIMIT_WINDOW_S', 1, 86_400],
  ['RATE_LIMIT_WRITE_MAX', 1, undefined],
  ['MEMORY_SAMPLE_MS', 10, undefined],
  ['HEAP_GROWING_PERCENT', 0, 1000],
  ['MEMORY_WARN_MB', 1, undefined],
  ['MEMORY_CRITICAL_MB', 1, undefined],
  ['EVENT_LOOP_DELAY_WARN_MS', 1, undefined],
  ['EVENT_LOOP_DELAY_MAX_MS', 1, undefined],
  ['HEAP_SNAPSHOT_MIN_INTERVAL_S', 0, undefined],
  ['SLOW_QUERY_MS', 0, undefined],
  ['N_PLUS_ONE_THRESHOLD', 1, undefined],
  ['PROFILER_MAX_FINGERPRINTS', 10, undefined],
  ['EXPLAIN_SAMPLE_INTERVAL_S', 0, undefined],
  ['CACHE_MAX_BYTES', 1024, undefined],
  ['CACHE_TTL_PRODUCT_S', 1, undefined],
  ['CACHE_TTL_LIST_S', 1, undefined],
  ['CACHE_TTL_REPORT_S', 1, undefined],
  ['WEB_CONCURRENCY', 1, 64],
  ['DB_CONNECTION_HEADROOM', 0, undefined],
  ['DASHBOARD_MAX_STREAMS', 1, undefined],
  ['DASHBOARD_INTERVAL_MS', 100, undefined],
];

const rows = SETTINGS as readonly SettingRow[];

function problemsOf(load: () => unknown): { variable: string; value: string | undefined; message: string }[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('the settings table', () => {
  it('has exactly the previous settings and the added ones, with their defaults', () => {
    const expected = { ...PREVIOUS_DEFAULTS, ...ADDED_DEFAULTS };
    expect(rows.map((r) => r.env).sort()).toEqual(Object.keys(expected).sort());
    expect(Object.fromEntries(rows.map((r) => [r.env, r.default]))).toEqual(expected);
  });

  it('keeps the previous whole-number bounds', () => {
    for (const [name, min, max] of PREVIOUS_INT_BOUNDS) {
      expect(() => readSetting(name, { [name]: String(min) }), `${name}=${min}`).not.toThrow();
      expect(() => readSetting(name, { [name]: String(min - 1) }), `${name}=${min - 1}`).toThrow(ConfigError);
      expect(() => readSetting(name, { [name]: String(max ?? 2_147_483_647) }), `${name} at max`).not.toThrow();
      expect(() => readSetting(name, { [name]: String((max ?? 2_147_483_647) + 1) }), `${name} above max`).toThrow(ConfigError);
    }
  });

  it('builds the same Config as before from an empty environment', () => {
    const { cursorSecret, ...config } = loadConfig({});
    expect(cursorSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(config).toEqual({
      server: {
        host: '0.0.0.0',
        port: 5001,
        bodyLimitBytes: 1_048_576,
        shutdownTimeoutMs: 10_000,
        trustProxy: false,
        requestTimeoutMs: 30_000,
        deadlineMs: 10_000,
        headersTimeoutMs: 10_000,
        keepAliveTimeoutMs: 72_000,
        maxConnections: 0,
        exposeWorker: false,
      },
      redis: { url: undefined, commandTimeoutMs: 100 },
      rateLimit: { enabled: true, max: 100, windowSeconds: 60, writeMax: 20, allow: [], dbMsPerMinute: 0 },
      heapGrowingPercent: 50,
      pressure: {
        sampleMs: 1000,
        memoryWarnMb: 512,
        memoryCriticalMb: 1024,
        heapWarnFraction: 0.8,
        heapCriticalFraction: 0.92,
        eventLoopDelayWarnMs: 200,
        eventLoopDelayMaxMs: 1000,
        heapSnapshotDir: undefined,
        heapSnapshotMinIntervalS: 3600,
      },
      profiler: { slowQueryMs: 100, nPlusOneThreshold: 5, maxFingerprints: 500, explainIntervalS: 60 },
      cache: { enabled: true, maxBytes: 67_108_864, admissionThreshold: 3, ttl: { productS: 30, listS: 10, reportS: 60 } },
      metrics: { token: undefined },
      apiKeys: [],
      corsOrigins: [],
      webConcurrency: 1,
      admin: { token: undefined, authFailuresPerMinute: 10 },
      dashboard: { maxStreams: 20, intervalMs: 1000 },
      telemetry: {
        otlpEndpoint: undefined,
        tracesEndpoint: undefined,
        otlpHeaders: undefined,
        serviceName: 'holdfast',
        sampler: 'parentbased_always_on',
        samplerArg: 1,
        metricsExporter: 'none',
        metricsEndpoint: undefined,
        metricExportIntervalMs: 60_000,
        sqlComments: true,
      },
      log: { level: 'info' },
      database: {
        url: undefined,
        dataDir: './data',
        embeddedPort: 54329,
        statementTimeoutMs: 10_000,
        hostProbe: true,
        preparedStatements: true,
        connectionHeadroom: 10,
        batchReads: { enabled: true, max: 64 },
        replicas: { urls: [], poolMax: 20, maxLagMs: 5000, sampleMs: 1000, tokenWaitMs: 100 },
      },
      pool: {
        min: 5,
        max: 40,
        acquireTimeoutMs: 30_000,
        recycleMs: 3_600_000,
        idleTimeoutMs: 300_000,
        queueMax: 1000,
        getMode: 'wait',
        leakMs: 30_000,
        validateAfterIdleMs: 5000,
        adaptive: true,
        adaptiveMin: 2,
      },
      seedDemo: true,
      idempotencyTtlSeconds: 86_400,
      overload: {
        codel: { enabled: true, targetMs: 50, intervalMs: 500 },
        highReserve: 0.2,
        priorities: expect.arrayContaining([{ route: 'POST /api/orders', priority: 'high' }]),
        retryBudget: { ratio: 0.1, windowMs: 10_000 },
      },
    });
  });

  it('reads the overload settings, refusing a bad priority table and a target above its interval', () => {
    const config = loadConfig({ ROUTE_PRIORITIES: ' GET /api/x=LOW , POST *=high ', POOL_HIGH_RESERVE: '0' });
    expect(config.overload.priorities).toEqual([
      { route: 'GET /api/x', priority: 'low' },
      { route: 'POST *', priority: 'high' },
    ]);
    expect(config.overload.highReserve).toBe(0);
    expect(problemsOf(() => loadConfig({ ROUTE_PRIORITIES: 'GET /api/x=urgent' }))[0]?.variable).toBe('ROUTE_PRIORITIES');
    expect(problemsOf(() => loadConfig({ ROUTE_PRIORITIES: 'low' }))[0]?.variable).toBe('ROUTE_PRIORITIES');
    expect(problemsOf(() => loadConfig({ POOL_HIGH_RESERVE: '1.5' }))[0]?.variable).toBe('POOL_HIGH_RESERVE');
    expect(problemsOf(() => loadConfig({ DB_RETRY_BUDGET_RATIO: '0' }))[0]?.variable).toBe('DB_RETRY_BUDGET_RATIO');
    expect(problemsOf(() => loadConfig({ POOL_CODEL_TARGET_MS: '200', POOL_CODEL_INTERVAL_MS: '100' }))[0]?.message).toMatch(
      /POOL_CODEL_INTERVAL_MS/,
    );
  });

  it('parses the non-numeric kinds as before', () => {
    const config = loadConfig({
      TRUST_PROXY: ' 2 ',
      RATE_LIMIT_ALLOW: '10.0.0.0/8, ,key',
      CORS_ORIGINS: 'https://a.example,https://b.example',
      LOG_LEVEL: 'WARN',
      SEED_DEMO: 'no',
      API_KEYS: 'w:abcdefghijklmnop, r:ABCDEFGHIJKLMNOP:read',
      HEAP_WARN_FRACTION: '1.0',
      HEAP_CRITICAL_FRACTION: '1',
      DB_ADAPTIVE_LIMIT_MIN: '9',
      DB_POOL_MAX: '6',
    });
    expect(config.server.trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.1,10.0.0.2' }).server.trustProxy).toBe('10.0.0.1,10.0.0.2');
    expect(config.rateLimit.allow).toEqual(['10.0.0.0/8', 'key']);
    expect(config.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.log.level).toBe('warn');
    expect(config.seedDemo).toBe(false);
    expect(config.apiKeys.map((k) => [k.name, k.scope, k.sha256.length])).toEqual([
      ['w', 'write', 64],
      ['r', 'read', 64],
    ]);
    expect(config.pressure.heapWarnFraction).toBe(1);
    expect(config.pool.adaptiveMin).toBe(6); // capped at DB_POOL_MAX
    expect(
      problemsOf(() => loadConfig({ HEAP_WARN_FRACTION: '0', TRUST_PROXY: ' ', API_KEYS: 'x:short', REDIS_URL: 'http://r', HOST: '' })).map(
        (p) => p.variable,
      ),
    ).toEqual(['HOST', 'HEAP_WARN_FRACTION', 'TRUST_PROXY', 'REDIS_URL', 'API_KEYS']);
  });

  it('never shows a secret setting in errors or dumps', () => {
    const secrets = {
      CURSOR_SECRET: 'cursor-secret-1-abcdef',
      METRICS_TOKEN: 'metrics-secret-2-abcdef',
      ADMIN_TOKEN: 'admin-secret-3-abcdef',
      API_KEYS: 'ops:api-key-secret-4abcdef',
    };
    const dump = JSON.stringify(
      describeConfig(
        loadConfig({ ...secrets, REDIS_URL: 'redis://u:redis-pass-5@r:6379', RATE_LIMIT_ALLOW: '10.0.0.1,api-key-secret-4abcdef' }),
      ),
    );
    for (const secret of [...Object.values(secrets), 'redis-pass-5', 'api-key-secret-4abcdef']) expect(dump).not.toContain(secret);
    expect(dump).toContain('"ops"');
    expect(dump).toContain('10.0.0.1');
    expect(dump).toContain('<1 API keys>');
    const problems = problemsOf(() =>
      loadConfig({ API_KEYS: 'bad name:api-key-secret-4', REDIS_URL: 'http://u:redis-pass-5@r', DB_POOL_MAX: 'x' }),
    );
    expect(JSON.stringify(problems)).not.toMatch(/api-key-secret|redis-pass/);
    expect(problems.find((p) => p.variable === 'API_KEYS')?.value).toBe('<redacted>');
  });
});

describe('deprecated aliases', () => {
  const table: SettingRow[] = [
    { env: 'NEW_LIMIT', path: 'limit', kind: int({ min: 1 }), default: '5', group: 'server', help: '', aliases: ['OLD_LIMIT'] },
    { env: 'NAME', path: 'name', kind: optional(text()), group: 'server', help: '' },
  ];

  it('reads the old name, with a warning naming the new one', () => {
    const warnings: string[] = [];
    expect(loadSettings(table, { OLD_LIMIT: '7' }, { warn: (m) => warnings.push(m) })).toEqual({ limit: 7, name: undefined });
    expect(warnings).toEqual(['OLD_LIMIT is deprecated: use NEW_LIMIT']);
  });

  it('prefers the new name when both are set, and errors name the variable that was set', () => {
    const warnings: string[] = [];
    expect(loadSettings(table, { OLD_LIMIT: '7', NEW_LIMIT: '8' }, { warn: (m) => warnings.push(m) })).toMatchObject({ limit: 8 });
    expect(warnings).toEqual(['OLD_LIMIT is deprecated and ignored: NEW_LIMIT is set']);
    expect(problemsOf(() => loadSettings(table, { OLD_LIMIT: '0' }, { warn: () => {} }))).toEqual([
      { variable: 'OLD_LIMIT', value: '0', message: 'must be a whole number ≥ 1' },
    ]);
  });

  it('every row has a default or an optional kind, and its default is valid', () => {
    for (const row of rows) {
      if (row.default === undefined) expect(row.kind.whenUnset, row.env).toBeDefined();
      else expect(row.kind.parse(row.default).ok, row.env).toBe(true);
    }
  });
});
