/**
 * One heap snapshot when the process first turns critical, so the cause of
 * a memory incident can be found afterwards, at most one per interval.
 *
 * `v8.writeHeapSnapshot` stops the event loop for seconds and needs memory
 * of its own (roughly the heap's size again), so it is off unless a
 * directory is configured, taken only on entering critical (shedding is
 * already on), and rate-limited, so a process that keeps crossing the line
 * neither fills the disk nor stalls again and again.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import type { PressureLogger } from './logger.ts';

export interface HeapSnapshotOptions {
  /** Unset: never write. */
  dir: string | undefined;
  minIntervalS: number;
  logger: PressureLogger;
  now: () => number;
  /** Replaces `v8.writeHeapSnapshot` (tests); returns the path written. */
  write?: (path: string) => string;
}

/**
 * @example
 * const snapshots = createHeapSnapshotter({ dir: '/var/tmp/holdfast', minIntervalS: 3600, logger, now: Date.now });
 * snapshots.onCritical(['rss 1100.0 MB ≥ critical 1024.0 MB']); // → path, or undefined when off or too soon
 */
export function createHeapSnapshotter(options: HeapSnapshotOptions) {
  const { dir, logger, now } = options;
  const write = options.write ?? ((path: string) => writeHeapSnapshot(path));
  let lastAttemptMs: number | undefined;
  let written = 0;

  function onCritical(reasons: readonly string[]): string | undefined {
    if (dir === undefined) return undefined;
    const at = now();
    if (lastAttemptMs !== undefined && at - lastAttemptMs < options.minIntervalS * 1000) {
      logger.info(
        { dir, lastAt: new Date(lastAttemptMs).toISOString() },
        'heap snapshot skipped: one was taken less than HEAP_SNAPSHOT_MIN_INTERVAL_S ago',
      );
      return undefined;
    }
    // Counted before writing: a failing disk is not retried on every transition.
    lastAttemptMs = at;
    const file = join(dir, `holdfast-${new Date(at).toISOString().replaceAll(':', '-')}-${process.pid}.heapsnapshot`);
    try {
      mkdirSync(dir, { recursive: true });
      const started = performance.now();
      const path = write(file);
      written += 1;
      logger.warn({ path, ms: Math.round(performance.now() - started), reasons }, 'heap snapshot written');
      return path;
    } catch (err) {
      logger.error({ err, path: file }, 'heap snapshot failed');
      return undefined;
    }
  }

  return {
    onCritical,
    /** Snapshots written so far. */
    get written() {
      return written;
    },
  };
}

export type HeapSnapshotter = ReturnType<typeof createHeapSnapshotter>;
