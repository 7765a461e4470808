/**
 * One worker of a cluster: the ordinary service (startHoldfast) on the
 * database the primary prepared, plus what only a worker needs:
 *
 * - its `/metrics` answer is the cluster's (worker-registry.ts);
 * - with the in-memory cache, invalidations reach the other workers (cache-relay.ts);
 * - with HTTP_EXPOSE_WORKER=true, every response says which process served
 *   it (`X-Worker: <id>; pid=<pid>`), so a load balancer log or a test can
 *   tell workers apart. Off by default: a pid is a detail about the host
 *   that anonymous clients have no use for.
 *
 * Signals reach the worker from the primary (and from a terminal's Ctrl-C
 * directly); src/main.ts handles them as it does for a single process. If
 * the primary dies, node:cluster exits its workers at once (its own
 * 'disconnect' handler runs first), so none lingers with an open pool.
 */
import cluster from 'node:cluster';
import { startHoldfast, type Holdfast } from '../app.ts';
import type { QueryCache } from '../cache/query-cache.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import { answerRelayedInvalidations, relayInvalidations } from './cache-relay.ts';
import { createRpc, type Rpc } from './rpc.ts';
import { WorkerRegistry } from './worker-registry.ts';

/** Argument the primary gives its workers, so that only its own forks run as workers (not pm2's, say). */
export const WORKER_FLAG = '--holdfast-worker';

/** Bound on the wait for the primary's aggregated metrics; a scrape fails (500) past it. */
const METRICS_TIMEOUT_MS = 5_000;

/**
 * Whether this process is a worker forked by Holdfast's primary.
 *
 * @example
 * if (isHoldfastWorker()) app = await startWorker(config, logger);
 */
export function isHoldfastWorker(): boolean {
  return cluster.isWorker && process.argv.includes(WORKER_FLAG);
}

/**
 * Starts this worker's service and tells the primary it is ready.
 *
 * @example
 * const app = await startWorker(config, logger); // then handle SIGTERM with app.stop()
 */
export async function startWorker(config: Config, logger: Logger): Promise<Holdfast> {
  const rpc = processRpc();
  let localCache: QueryCache | undefined;
  const registry = new WorkerRegistry(async () => String(await rpc.call('metrics.aggregate', {}, METRICS_TIMEOUT_MS)));
  rpc.handle('metrics.local', () => registry.getMetricsAsJSON());
  answerRelayedInvalidations(rpc, () => localCache);
  // Before anything is built: from here on, relayed invalidations are applied here.
  await rpc.call('attach', {}, METRICS_TIMEOUT_MS);

  const relay = config.cache.enabled && config.redis.url === undefined;
  const app = await startHoldfast(config, logger, {
    databasePrepared: true,
    metricsRegistry: registry,
    decorateCache: relay
      ? (cache) => {
          localCache = cache;
          return relayInvalidations(cache, rpc, logger);
        }
      : undefined,
  });

  // A raw listener ahead of Fastify's rather than a hook: it costs one
  // setHeader, also on the health route that runs no hooks, and it covers
  // every answer, errors and 404s included. Fastify's writeHead keeps it.
  const label = workerLabel(config, cluster.worker?.id ?? 0, process.pid);
  if (label !== undefined) {
    app.server.server.prependListener('request', (_request, response) => {
      response.setHeader('X-Worker', label);
    });
  }

  await rpc.call('ready', { url: app.url }, METRICS_TIMEOUT_MS);
  return app;
}

/**
 * The `X-Worker` value for this worker, or undefined when HTTP_EXPOSE_WORKER is off.
 *
 * @example
 * workerLabel(config, 2, 48213); // '2; pid=48213' when exposed
 */
export function workerLabel(config: Pick<Config, 'server'>, id: number, pid: number): string | undefined {
  return config.server.exposeWorker ? `${id}; pid=${pid}` : undefined;
}

function processRpc(): Rpc {
  return createRpc({
    send: (message) => {
      if (process.send === undefined || !process.connected) throw new Error('no IPC channel to the primary');
      // With a callback, a send that races the primary's exit is an ignored error, not an 'error' event.
      process.send(message, undefined, undefined, () => undefined);
    },
    subscribe: (listener) => {
      process.on('message', listener);
      return () => process.off('message', listener);
    },
  });
}
