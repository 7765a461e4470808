/**
 * The process entry point: configuration first (exit 2 if it is bad, before
 * anything starts), then the service, then signal handling for a graceful
 * stop that exits 0.
 *
 * With WEB_CONCURRENCY > 1 this process becomes a cluster's primary
 * (src/cluster/primary.ts), which forks that many workers; each worker runs
 * this file again and serves as a single process would, on the shared port.
 * With WEB_CONCURRENCY=1 (the default) it serves in-process, as it always did.
 *
 * Node's own flags (the tick-object pin, the heap growth) are given where the
 * process starts, by the `start` script; see src/runtime/node-flags.ts.
 */
import cluster from 'node:cluster';
import { ConfigError, loadConfig, readEnvironment, type Config } from './config/index.ts';
import { startHoldfast, type Holdfast } from './app.ts';
import { runPrimary } from './cluster/primary.ts';
import { isHoldfastWorker, startWorker } from './cluster/worker.ts';
import { createLogger } from './log/logger.ts';
import { nodeFlagProblems } from './runtime/node-flags.ts';

const EXIT_BAD_CONFIG = 2;

let config: Config;
try {
  config = loadConfig(readEnvironment());
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`holdfast: ${err.message}\n`);
    process.exit(EXIT_BAD_CONFIG);
  }
  throw err;
}

const worker = isHoldfastWorker();
const logger = worker
  ? createLogger(config.log.level).child({ worker: cluster.worker?.id, pid: process.pid })
  : createLogger(config.log.level);

for (const problem of nodeFlagProblems({ heapGrowingPercent: config.heapGrowingPercent })) {
  logger.warn({ problem }, 'node was started without the flags of `npm start`');
}

if (!worker && config.webConcurrency > 1) await runPrimary(config, logger);

const app: Holdfast = await (worker ? startWorker(config, logger) : startHoldfast(config, logger)).catch((err: unknown) => {
  logger.fatal({ err }, 'holdfast failed to start');
  process.exit(1);
});

// npm and tsx relay the signal they receive to this process, and a terminal's
// Ctrl-C reaches every process in the group, so one stop request often arrives
// two or three times within milliseconds. Only a signal sent well after the
// first means "stop now".
const REPEAT_WINDOW_MS = 1000;
let signalledAt: number | undefined;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (signalledAt !== undefined) {
      if (Date.now() - signalledAt < REPEAT_WINDOW_MS) return;
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    signalledAt = Date.now();
    logger.info({ signal }, 'shutting down');
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

process.on('unhandledRejection', (reason) => {
  // Logged, not fatal: one request's stray promise must not take down every other request.
  logger.error({ err: reason }, 'unhandled promise rejection');
});
