/**
 * A `Database` over one primary and its read replicas.
 *
 * Reads (statements passed READ, i.e. `idempotent`) go round-robin to a
 * replica in rotation (src/db/replicas/lag-sampler.ts); everything else,
 * and every transaction, goes to the primary. A read carrying a consistency
 * LSN (ctx.consistency, from a Consistency-Token) is served only by a replica
 * that has replayed at least that far: it waits briefly for one, then reads
 * from the primary, so a client never reads older than its own write.
 * A read that fails on a replica is retried once on the primary; only a
 * lost or refused connection (isConnectionLevel, as the lag sampler judges) takes the replica out of
 * rotation (a busy replica pool or a statement error says nothing about its
 * health), and a read whose own request is past its deadline or abandoned
 * is not retried at all.
 */
import type { QueryResultRow } from 'pg';
import { backgroundContext, type Context } from '../../context/context.ts';
import { isAppError } from '../../errors/app-error.ts';
import { isConnectionLevel } from '../pool/errors.ts';
import { READ, type Database, type QueryOptions, type Rows, type Statement, type Transaction } from '../types.ts';
import { parseLsn } from './consistency-token.ts';
import type { LagSampler, ReplicaState } from './lag-sampler.ts';

export type ReadTarget = 'replica' | 'primary';
/** Why a read went where it did: `ok` on a replica; on the primary because of lag, a token no replica reached, or no replica usable. */
export type ReadReason = 'ok' | 'lag' | 'token' | 'no_replica';

export interface ReplicaRouterOptions {
  primary: Database;
  replicas: readonly { name: string; db: Database }[];
  sampler: Pick<LagSampler, 'states' | 'markUnreachable'>;
  /** Longest a token-carrying read waits for a replica to catch up (ms). */
  tokenWaitMs?: number;
  /** Counted by holdfast_db_reads_total{target,reason}. */
  onRead?(target: ReadTarget, reason: ReadReason, replica?: string): void;
}

export interface ReplicaRouter extends Database {
  /** The primary's WAL insert position now: read it AFTER a write commits and issue it as a Consistency-Token. */
  currentLsn(ctx: Context): Promise<bigint>;
}

const REPLAY_SQL = { name: 'holdfast_replay_lsn', text: 'select pg_last_wal_replay_lsn()::text as replay' };
const INSERT_LSN_SQL = { name: 'holdfast_insert_lsn', text: 'select pg_current_wal_insert_lsn()::text as lsn' };
const POLL_MS = 10;
const CONSISTENCY_PROBE = backgroundContext('consistency probe');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @example
 * const db = createReplicaRouter({ primary, replicas, sampler, onRead: (t, r) => reads.inc({ target: t, reason: r }) });
 * await db.query(ctx, { ...GET_PRODUCT, values: [id] }, READ); // a replica, if one is in rotation
 */
export function createReplicaRouter(options: ReplicaRouterOptions): ReplicaRouter {
  const { primary, sampler, tokenWaitMs = 100, onRead } = options;
  const byName = new Map(options.replicas.map((r) => [r.name, r.db]));
  let next = 0;

  function rotation(): ReplicaState[] {
    return sampler.states().filter((s) => s.inRotation && byName.has(s.name));
  }

  function pick(candidates: readonly ReplicaState[]): ReplicaState {
    next = (next + 1) % candidates.length;
    return candidates[next]!;
  }

  /** A replica that has replayed `lsn`, asking the servers themselves when the samples are not enough. */
  async function caughtUp(lsn: bigint, ctx: Context): Promise<ReplicaState | undefined> {
    // Never past the request's own deadline (performance.now() based): the primary read still needs time.
    const deadline = Date.now() + Math.max(0, Math.min(tokenWaitMs, (ctx.deadline - performance.now()) / 2));
    for (;;) {
      const candidates = rotation();
      if (candidates.length === 0) return undefined;
      const sampled = candidates.filter((s) => s.replayLsn >= lsn);
      if (sampled.length > 0) return pick(sampled);
      for (const state of candidates) {
        try {
          const { rows } = await byName.get(state.name)!.query<{ replay: string | null }>(CONSISTENCY_PROBE, REPLAY_SQL, READ);
          const replay = rows[0]?.replay;
          if (replay != null && parseLsn(replay) >= lsn) return state;
        } catch (err) {
          if (isConnectionLevel(err)) sampler.markUnreachable(state.name);
        }
      }
      if (Date.now() + POLL_MS > deadline) return undefined;
      await sleep(POLL_MS);
    }
  }

  async function onPrimary<R extends QueryResultRow>(
    ctx: Context,
    statement: Statement,
    options: QueryOptions | undefined,
    reason: ReadReason,
  ): Promise<Rows<R>> {
    onRead?.('primary', reason);
    return primary.query<R>(ctx, statement, options);
  }

  async function query<R extends QueryResultRow = QueryResultRow>(
    ctx: Context,
    statement: Statement,
    queryOptions?: QueryOptions,
  ): Promise<Rows<R>> {
    if (queryOptions?.idempotent !== true) return primary.query<R>(ctx, statement, queryOptions);
    let chosen: ReplicaState | undefined;
    if (ctx.consistency !== undefined) {
      chosen = await caughtUp(ctx.consistency, ctx);
      if (chosen === undefined) return onPrimary<R>(ctx, statement, queryOptions, rotation().length === 0 ? noReplicaReason() : 'token');
    } else {
      const candidates = rotation();
      if (candidates.length === 0) return onPrimary<R>(ctx, statement, queryOptions, noReplicaReason());
      chosen = pick(candidates);
    }
    try {
      const rows = await byName.get(chosen.name)!.query<R>(ctx, statement, queryOptions);
      onRead?.('replica', 'ok', chosen.name);
      return rows;
    } catch (err) {
      if (isAppError(err, 'DEADLINE_EXCEEDED')) throw err; // the client is gone or out of time: nothing to retry for
      if (isConnectionLevel(err)) sampler.markUnreachable(chosen.name);
      return onPrimary<R>(ctx, statement, queryOptions, 'no_replica');
    }
  }

  /** `lag` when some replica is reachable but behind; `no_replica` when none is reachable. */
  function noReplicaReason(): ReadReason {
    return sampler.states().some((s) => s.reachable && s.reason === 'lag') ? 'lag' : 'no_replica';
  }

  return {
    query,
    transaction<T>(ctx: Context, fn: (tx: Transaction) => Promise<T>): Promise<T> {
      return primary.transaction(ctx, fn);
    },
    async currentLsn(ctx) {
      const { rows } = await primary.query<{ lsn: string }>(ctx, INSERT_LSN_SQL);
      return parseLsn(rows[0]!.lsn);
    },
  };
}
