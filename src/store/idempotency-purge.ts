/**
 * Deletes expired idempotency keys in the background, in small batches.
 *
 * Each batch is one short statement of its own (at most `batchSize` rows,
 * found through the created_at index and deleted by ctid), so it holds row
 * locks for milliseconds and never blocks order placement behind a long
 * DELETE; a round stops after `maxBatches`, leaving the rest to the next
 * tick. A row claimed again since the batch was chosen has a new created_at
 * (and ctid), and the re-checked condition spares it. The timer is unref'd,
 * so it never keeps the process alive, and `stop()` ends it at shutdown.
 */
import { backgroundContext } from '../context/context.ts';
import type { Queryable } from '../db/types.ts';

const PURGE_CONTEXT = backgroundContext('idempotency purge');

const PURGE = {
  name: 'idempotency-purge',
  text: `DELETE FROM idempotency_keys
         WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE created_at < $1 LIMIT $2) AND created_at < $1`,
};

export interface PurgeOptions {
  db: Queryable;
  ttlSeconds: number;
  /** Rows per statement. Default 1000. */
  batchSize?: number;
  /** Statements per round at most. Default 10. */
  maxBatches?: number;
  /** Between rounds, ms. Default 60 000. */
  intervalMs?: number;
  /** Epoch ms. Default `Date.now`. */
  now?: () => number;
  logger: { warn(obj: object, msg: string): void };
}

export interface IdempotencyPurge {
  /** One round now: deletes expired rows batch by batch; resolves to how many. */
  runOnce(): Promise<number>;
  stop(): void;
}

/**
 * @example
 * const purge = startIdempotencyPurge({ db: pool, ttlSeconds: 86_400, logger });
 * // at shutdown, before the pool ends:
 * purge.stop();
 */
export function startIdempotencyPurge(options: PurgeOptions): IdempotencyPurge {
  const { db, ttlSeconds, logger } = options;
  const batchSize = options.batchSize ?? 1000;
  const maxBatches = options.maxBatches ?? 10;
  const now = options.now ?? Date.now;
  let running: Promise<number> | undefined;
  let stopped = false;

  async function round(): Promise<number> {
    const cutoff = new Date(now() - ttlSeconds * 1000);
    let deleted = 0;
    for (let i = 0; i < maxBatches && !stopped; i++) {
      const { rowCount } = await db.query(PURGE_CONTEXT, { ...PURGE, values: [cutoff, batchSize] });
      deleted += rowCount;
      if (rowCount < batchSize) break;
    }
    return deleted;
  }

  function runOnce(): Promise<number> {
    return (running ??= round().finally(() => {
      running = undefined;
    }));
  }

  const timer = setInterval(() => {
    runOnce().catch((err: unknown) => logger.warn({ err }, 'purging expired idempotency keys failed; will retry'));
  }, options.intervalMs ?? 60_000);
  timer.unref();

  return {
    runOnce,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
