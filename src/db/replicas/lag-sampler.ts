/**
 * Samples each read replica's replay position and lag, and decides which
 * replicas are in read rotation.
 *
 * Why not just now() - pg_last_xact_replay_timestamp(): on an idle primary
 * that "lag" grows for ever while the replica has replayed everything. So a
 * replica whose replay LSN has reached the primary's current LSN has lag 0;
 * otherwise its lag is the time since the NEWEST sampled primary position it
 * has replayed (all it lacks was written after that), capped by the
 * replay-timestamp age (all it lacks was committed after that commit). Both
 * over-estimate, never under: a replica leaves rotation at the first sample
 * after it truly passes the bound.
 *
 * Failover. While the primary is down (no host selected, or its sample
 * failed on the connection) there is nothing newer for a replica to lag
 * behind: it is judged as of the last primary sample, so a replica a little
 * behind at the crash (WAL the primary wrote but never shipped) is not
 * dropped only because time passes, and reads go on on it. A sample that
 * merely timed out (a busy pool) is judged at now, as before. A replica that
 * has left recovery (promoted) still answers a replay position, frozen: it
 * leaves rotation as `not_standby` (reads follow the primary pool to it).
 * Rotation changes (and failures to reach a replica) are logged once each.
 */
import type { Logger } from 'pino';
import { backgroundContext } from '../../context/context.ts';
import { isConnectionLevel } from '../pool/errors.ts';
import { READ, type Database } from '../types.ts';
import { parseLsn } from './consistency-token.ts';

const LAG_SAMPLING = backgroundContext('replica lag sampling');

export interface ReplicaState {
  readonly name: string;
  readonly inRotation: boolean;
  readonly reachable: boolean;
  /** Last sampled replay position; 0n before the first sample. */
  readonly replayLsn: bigint;
  /** Seconds behind the primary at the last sample (0 when caught up); NaN before it. */
  readonly lagSeconds: number;
  /** Why it is out of rotation, when it is: behind the bound, not answering, or no longer in recovery (promoted). */
  readonly reason?: 'lag' | 'unreachable' | 'not_standby';
}

export interface LagSamplerOptions {
  primary: Database;
  replicas: readonly { name: string; db: Database }[];
  maxLagMs: number;
  periodMs: number;
  /** True while the primary is known to be gone (several hosts, none selected): its sample is skipped, not held. */
  primaryDown?: () => boolean;
  logger?: Pick<Logger, 'info' | 'warn'>;
  now?: () => number;
}

export interface LagSampler {
  sampleOnce(): Promise<void>;
  start(): void;
  stop(): void;
  states(): readonly ReplicaState[];
  /** Takes a replica out of rotation at once (a read on it failed); the next sample may bring it back. */
  markUnreachable(name: string): void;
}

const REPLICA_SQL = {
  name: 'holdfast_replica_lag',
  text: `select pg_is_in_recovery() as in_recovery, pg_last_wal_replay_lsn()::text as replay,
                extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 as ts_lag`,
};
const PRIMARY_SQL = { name: 'holdfast_primary_lsn', text: 'select pg_current_wal_lsn()::text as lsn' };

/**
 * @example
 * const sampler = createLagSampler({ primary, replicas: [{ name: 'r1:5432', db: pool }], maxLagMs: 5000, periodMs: 1000, logger });
 * sampler.start();
 * sampler.states().filter((s) => s.inRotation);
 */
export function createLagSampler(options: LagSamplerOptions): LagSampler {
  const { primary, maxLagMs, periodMs, logger } = options;
  const now = options.now ?? Date.now;
  const keep = Math.max(8, Math.ceil((2 * maxLagMs) / periodMs) + 2);
  const history: { at: number; lsn: bigint }[] = [];
  const states = new Map<string, ReplicaState>(
    options.replicas.map((r) => [r.name, { name: r.name, inRotation: false, reachable: false, replayLsn: 0n, lagSeconds: Number.NaN }]),
  );
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  function set(next: ReplicaState): void {
    const before = states.get(next.name);
    states.set(next.name, next);
    if (before === undefined || before.inRotation === next.inRotation) return;
    if (next.inRotation) logger?.info({ replica: next.name, lagSeconds: next.lagSeconds }, 'replica joined read rotation');
    else logger?.warn({ replica: next.name, reason: next.reason, lagSeconds: next.lagSeconds }, 'replica left read rotation');
  }

  /** `at` is now, or the last primary sample's time while the primary is down (then `tsLag` is null). */
  function lagOf(replay: bigint, tsLag: number | null, at: number): number {
    const newest = history.at(-1);
    if (newest !== undefined && replay >= newest.lsn) return 0;
    // Everything it lacks was written after the newest sample it has replayed, so the time since that
    // sample bounds its lag from above (by under one period too much): it leaves rotation at the
    // first sample after its true lag passes the bound, never later.
    let caughtUpAt: number | undefined;
    for (const h of history) if (h.lsn <= replay) caughtUpAt = h.at;
    const sinceCaughtUp = caughtUpAt === undefined ? Number.POSITIVE_INFINITY : (at - caughtUpAt) / 1000;
    const lag = Math.min(sinceCaughtUp, tsLag ?? Number.POSITIVE_INFINITY);
    if (Number.isFinite(lag)) return Math.max(0, lag);
    // Behind every sample kept, with no replay timestamp: at least as old as the oldest sample.
    const oldest = history[0];
    return oldest === undefined ? 0 : Math.max(0, (at - oldest.at) / 1000);
  }

  async function sampleReplica(name: string, db: Database, primaryDown: boolean): Promise<void> {
    try {
      const { rows } = await db.query<{ in_recovery: boolean; replay: string | null; ts_lag: number | null }>(
        LAG_SAMPLING,
        REPLICA_SQL,
        READ,
      );
      const row = rows[0];
      // Never a standby: no replay position at all. Keep it out, as unreachable for reads.
      if (row?.replay == null) throw new Error('not a standby (pg_last_wal_replay_lsn() is null)');
      const replayLsn = parseLsn(row.replay);
      if (!row.in_recovery) {
        // Promoted: its replay position is frozen and it is a primary now, lagging nothing.
        set({ name, reachable: true, replayLsn, lagSeconds: 0, inRotation: false, reason: 'not_standby' });
        return;
      }
      const lastSeen = history.at(-1)?.at;
      // The primary gone: judged as of when it was last seen (a replay timestamp only ages now).
      const lagSeconds = primaryDown && lastSeen !== undefined ? lagOf(replayLsn, null, lastSeen) : lagOf(replayLsn, row.ts_lag, now());
      const inRotation = lagSeconds * 1000 <= maxLagMs;
      set({ name, reachable: true, replayLsn, lagSeconds, inRotation, ...(inRotation ? {} : { reason: 'lag' as const }) });
    } catch (error) {
      const before = states.get(name)!;
      if (before.reachable || before.lagSeconds !== before.lagSeconds) {
        logger?.warn({ replica: name, err: error instanceof Error ? error.message : String(error) }, 'replica unreachable');
      }
      set({ ...before, reachable: false, inRotation: false, reason: 'unreachable' });
    }
  }

  /** Records the primary's position; true when the primary is down (skipped, or its connection failed). */
  async function samplePrimary(): Promise<boolean> {
    if (options.primaryDown?.() === true) return true;
    try {
      // Not READ: a read is retried on a fresh connection, which would be held while no primary is known.
      const { rows } = await primary.query<{ lsn: string }>(LAG_SAMPLING, PRIMARY_SQL);
      const lsn = parseLsn(rows[0]!.lsn);
      history.push({ at: now(), lsn });
      if (history.length > keep) history.shift();
      return false;
    } catch (error) {
      // Down: judged as of the last sample. Busy or slow (a pool or statement timeout): judged at now.
      return isConnectionLevel(error);
    }
  }

  async function sample(): Promise<void> {
    const primaryDown = await samplePrimary();
    await Promise.all(options.replicas.map((r) => sampleReplica(r.name, r.db, primaryDown)));
  }

  function sampleOnce(): Promise<void> {
    running ??= sample().finally(() => (running = undefined));
    return running;
  }

  return {
    sampleOnce,
    start() {
      if (timer !== undefined) return;
      const tick = (): void => {
        void sampleOnce().finally(() => {
          if (timer !== undefined) timer = setTimeout(tick, periodMs).unref();
        });
      };
      timer = setTimeout(tick, 0).unref();
    },
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
    states: () => [...states.values()],
    markUnreachable(name) {
      const before = states.get(name);
      if (before === undefined || !before.inRotation) return;
      logger?.warn({ replica: name }, 'replica unreachable');
      set({ ...before, reachable: false, inRotation: false, reason: 'unreachable' });
    },
  };
}
