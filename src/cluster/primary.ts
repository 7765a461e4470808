/**
 * The primary process of a cluster (WEB_CONCURRENCY > 1). It serves no
 * requests itself; it:
 *
 * 1. prepares the database once: starts embedded Postgres when DATABASE_URL
 *    is unset, applies migrations, seeds the demo store; the workers get
 *    the URL in their DATABASE_URL and skip all of it;
 * 2. checks the connection budget (workers × DB_POOL_MAX against the
 *    server's limit) and exits 2 with the numbers when it does not fit;
 * 3. forks the workers, which share the port (node:cluster hands each new
 *    connection to the next worker in turn), replaces crashed ones with
 *    backoff, and answers their IPC calls: aggregated metrics and cache
 *    invalidations to relay;
 * 4. on SIGTERM or SIGINT, passes the signal on, waits for every worker to
 *    drain and exit, stops embedded Postgres, and exits 0 when all workers
 *    exited cleanly (1 otherwise).
 *
 * Workers also get the primary's CURSOR_SECRET: when it is unset each
 * process would draw its own, and a cursor signed by one worker would be
 * refused as tampered by the next.
 */
import pg from 'pg';
import { prepareConfiguredDatabase } from '../app.ts';
import { resolveTargetUrl } from '../db/hosts/resolve.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import { relayFrom, type RelayStats } from './cache-relay.ts';
import { createClusterMetrics, type MetricJson } from './cluster-metrics.ts';
import { assertConnectionBudget, ConnectionBudgetError, describeBudget } from './connection-budget.ts';
import { createSupervisor, type Supervisor } from './supervisor.ts';
import { WORKER_FLAG } from './worker.ts';

const EXIT_BAD_CONFIG = 2;
/** Beyond the workers' own SHUTDOWN_TIMEOUT_MS: time to end pools and exit before they are killed. */
const STOP_GRACE_MS = 5_000;
/** Bound on one worker's answer to a metrics scrape. */
const COLLECT_TIMEOUT_MS = 2_000;
/** See src/main.ts: relayed copies of one stop request arrive within this window. */
const REPEAT_WINDOW_MS = 1_000;

/**
 * Runs the primary until it exits the process.
 *
 * @example
 * if (config.webConcurrency > 1 && cluster.isPrimary) await runPrimary(config, logger);
 */
export async function runPrimary(config: Config, logger: Logger): Promise<never> {
  const log = logger.child({ role: 'primary', pid: process.pid });
  const cleanup: (() => Promise<void>)[] = [];
  // eslint-disable-next-line prefer-const -- read by exit() and the signal handlers before the workers exist
  let supervisor: Supervisor | undefined;
  let stopping = false;

  async function exit(code: number): Promise<never> {
    for (const step of cleanup.splice(0).reverse()) await step().catch((err: unknown) => log.error({ err }, 'cleanup step failed'));
    process.exit(code);
  }

  async function stop(code: number): Promise<void> {
    if (stopping) return;
    stopping = true;
    const clean = supervisor === undefined ? true : await supervisor.stop(config.server.shutdownTimeoutMs + STOP_GRACE_MS);
    log.info({ clean }, 'holdfast cluster stopped');
    await exit(clean ? code : 1);
  }

  let signalledAt: number | undefined;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (signalledAt !== undefined) {
        if (Date.now() - signalledAt < REPEAT_WINDOW_MS) return;
        log.warn({ signal }, 'second signal: killing workers and exiting now');
        supervisor?.killAll();
        process.exit(1);
      }
      signalledAt = Date.now();
      log.info({ signal }, 'shutting down');
      // While the database is being prepared, the stop waits for that to finish (see below).
      if (supervisor !== undefined) void stop(0);
    });
  }
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection'));

  let databaseUrl: string;
  try {
    databaseUrl = await prepareConfiguredDatabase(config, log, cleanup);
    await checkBudget(databaseUrl, config, log);
  } catch (err) {
    if (err instanceof ConnectionBudgetError) {
      process.stderr.write(`holdfast: ${err.message}\n`);
      return await exit(EXIT_BAD_CONFIG);
    }
    log.fatal({ err }, 'holdfast failed to start');
    return await exit(1);
  }
  if (signalledAt !== undefined) return await exit(0);
  warnAboutMemoryStores(config, log);

  const relayStats: RelayStats = { sent: 0, failed: 0 };
  const workers: Supervisor = createSupervisor({
    workers: config.webConcurrency,
    env: { DATABASE_URL: databaseUrl, CURSOR_SECRET: config.cursorSecret },
    args: [...process.argv.slice(2), WORKER_FLAG],
    logger: log,
    onFork(worker) {
      worker.rpc.handle('metrics.aggregate', () => metrics.scrape());
      relayFrom(worker, () => workers.attached(), relayStats, log);
    },
    onExit(worker) {
      void metrics.retire(worker.id);
    },
  });
  const metrics = createClusterMetrics({
    workers: () =>
      workers
        .ready()
        .map((w) => ({ id: w.id, collect: async () => (await w.rpc.call('metrics.local', {}, COLLECT_TIMEOUT_MS)) as MetricJson[] })),
    configuredWorkers: config.webConcurrency,
    restarts: () => workers.restarts,
    relay: () => relayStats,
  });
  supervisor = workers;
  log.info({ workers: config.webConcurrency }, 'starting workers');
  workers.start().then(
    ({ url }) => log.info({ url, workers: config.webConcurrency }, 'holdfast cluster listening'),
    (err: unknown) => {
      if (stopping) return;
      log.fatal({ err }, 'holdfast failed to start');
      void stop(1);
    },
  );
  return await new Promise<never>(() => undefined);
}

async function checkBudget(url: string, config: Config, log: Logger): Promise<void> {
  if (!config.database.preparedStatements) {
    // DB_PREPARED_STATEMENTS=false is the switch for a transaction pooler: our
    // connections are then its clients, and its pool size (not ours) bounds
    // the server's connections, so this arithmetic would refuse a valid setup.
    log.info(
      'connection budget not checked: DB_PREPARED_STATEMENTS=false (behind a transaction pooler, its pool size bounds server connections)',
    );
    return;
  }
  // Several hosts: the budget that matters is the primary's.
  const client = new pg.Client({ connectionString: await resolveTargetUrl(url, log) });
  client.on('error', () => undefined); // surfaced through the awaited query instead
  await client.connect();
  try {
    const budget = await assertConnectionBudget(client, {
      workers: config.webConcurrency,
      poolMax: config.pool.max,
      headroom: config.database.connectionHeadroom,
    });
    log.info({ needed: budget.needed, available: budget.available }, describeBudget(budget));
  } finally {
    await client.end();
  }
}

function warnAboutMemoryStores(config: Config, log: Logger): void {
  if (config.redis.url !== undefined || !config.rateLimit.enabled) return;
  log.warn(
    { workers: config.webConcurrency, perWorker: config.rateLimit.max },
    `without REDIS_URL each worker keeps its own rate-limit budget: a client may get up to ${config.webConcurrency}× RATE_LIMIT_MAX per window; set REDIS_URL to share one`,
  );
}
