/**
 * Keeps the workers' in-memory caches coherent when there is no Redis.
 *
 * Without REDIS_URL each worker caches in its own memory. An order on
 * worker 1 invalidates worker 1's entries only, and the client's next read,
 * which the primary may hand to worker 2, would show the old stock for up
 * to CACHE_TTL_PRODUCT_S: the README's promise that a client never reads
 * stale stock after its own write would hold with one worker and break with
 * two. So a worker's invalidation is also sent, through the primary, to
 * every other worker, and the order answers only once they have confirmed
 * (or after a bounded wait, see {@link RELAY_TIMEOUT_MS}).
 *
 * Each worker applies a relayed invalidation with its own `invalidateTags`,
 * so the in-process guarantees (tag versions that stop a slow reader from
 * storing pre-write rows, detached flights) hold across workers too. With
 * REDIS_URL none of this runs: the store is shared and already coherent.
 */
import type { Logger } from '../log/logger.ts';
import type { QueryCache } from '../cache/query-cache.ts';
import type { Rpc } from './rpc.ts';
import type { SupervisedWorker } from './supervisor.ts';

/**
 * How long an order waits for the other workers to confirm. A worker that
 * does not answer in time is stuck or exiting; waiting longer would turn
 * one sick worker into slow orders everywhere. Past it, that worker may
 * serve stale entries until their TTL, and the miss is logged and counted.
 */
export const RELAY_TIMEOUT_MS = 1_000;

/**
 * Worker side: `cache`, with each invalidation also sent to the other workers.
 *
 * @example
 * decorateCache: (local) => relayInvalidations(local, rpc, logger)
 */
export function relayInvalidations(cache: QueryCache, rpc: Rpc, logger: Logger): QueryCache {
  return {
    wrap: (key, options, load) => cache.wrap(key, options, load),
    stats: cache.stats,
    close: () => cache.close(),
    async invalidateTags(tags, trace) {
      await Promise.all([
        cache.invalidateTags(tags, trace),
        rpc.call('cache.invalidate', { tags }, RELAY_TIMEOUT_MS * 2).catch((err: unknown) => {
          // Never thrown: the order has committed; the caller must still get its answer.
          logger.warn(
            { err: err instanceof Error ? err.message : String(err), tags },
            'cache invalidation did not reach the other workers',
          );
        }),
      ]);
    },
  };
}

/**
 * Worker side: applies invalidations relayed from other workers to this
 * worker's cache (none yet while it starts: nothing is cached before it exists).
 *
 * @example
 * answerRelayedInvalidations(rpc, () => localCache);
 */
export function answerRelayedInvalidations(rpc: Rpc, local: () => QueryCache | undefined): void {
  rpc.handle('cache.invalidate', async (body) => {
    await local()?.invalidateTags(tagsOf(body));
    return {};
  });
}

/** What the primary's relay has done, for metrics. */
export interface RelayStats {
  sent: number;
  failed: number;
}

/**
 * Primary side: a worker's invalidation goes to every other attached worker;
 * the call resolves once all confirmed or the timeout passed.
 *
 * @example
 * onFork: (worker) => relayFrom(worker, () => supervisor.attached(), stats, logger)
 */
export function relayFrom(origin: SupervisedWorker, peers: () => readonly SupervisedWorker[], stats: RelayStats, logger: Logger): void {
  origin.rpc.handle('cache.invalidate', async (body) => {
    const tags = tagsOf(body);
    const others = peers().filter((w) => w.id !== origin.id);
    const results = await Promise.allSettled(others.map((w) => w.rpc.call('cache.invalidate', { tags }, RELAY_TIMEOUT_MS)));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [others[i]!.id] : []));
    stats.sent += others.length;
    stats.failed += failed.length;
    if (failed.length > 0)
      logger.warn(
        { from: origin.id, workers: failed, tags },
        'workers did not confirm a cache invalidation in time; they may serve stale entries until the TTL',
      );
    return { peers: others.length, failed: failed.length };
  });
}

function tagsOf(body: unknown): string[] {
  const tags = (body as { tags?: unknown } | undefined)?.tags;
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}
