import { describe, expect, it } from 'vitest';
import { backgroundContext, batchContext, requestContext, type Context } from '../../../src/context/context.ts';
import { createConsistencyTokens, formatLsn, parseLsn } from '../../../src/db/replicas/consistency-token.ts';
import { createLagSampler, type ReplicaState } from '../../../src/db/replicas/lag-sampler.ts';
import { createReplicaRouter } from '../../../src/db/replicas/router.ts';
import { READ, type Database, type Statement } from '../../../src/db/types.ts';
import { AppError } from '../../../src/errors/app-error.ts';
import { createCursorCodec } from '../../../src/http/cursor.ts';

/** A fake server: answers the lag/LSN probes from its fields, records every other statement. */
function fakeDb(state: {
  lsn?: string;
  replay?: string | null;
  tsLag?: number | null;
  inRecovery?: boolean;
  down?: boolean;
  /** What a down server throws; a plain Error by default (not a connection-level one). */
  error?: Error;
}) {
  const seen: string[] = [];
  const queried: string[] = [];
  const db: Database = {
    async query(_ctx: Context, statement: Statement) {
      queried.push(statement.text);
      if (state.down === true) throw state.error ?? new Error('connection refused');
      if (statement.text.includes('pg_current_wal')) return { rows: [{ lsn: state.lsn }], rowCount: 1 } as never;
      if (statement.text.includes('pg_last_wal_replay_lsn'))
        return {
          rows: [{ in_recovery: state.inRecovery ?? true, replay: state.replay, ts_lag: state.tsLag ?? null }],
          rowCount: 1,
        } as never;
      seen.push(statement.text);
      return { rows: [], rowCount: 0 };
    },
    transaction: async (_ctx, fn) => {
      seen.push('BEGIN');
      return fn({ query: async () => ({ rows: [], rowCount: 0 }) });
    },
  };
  return { db, seen, queried, state };
}

const ctx = requestContext('r1', 'GET /api/products/:id');
const SELECT = { text: 'select 1' };

describe('Consistency-Token', () => {
  const tokens = createConsistencyTokens(createCursorCodec('s'.repeat(32)));

  it('round-trips an LSN and refuses a forged, altered or cursor token with BAD_CONSISTENCY_TOKEN', () => {
    expect(formatLsn(parseLsn('16/B374D848'))).toBe('16/B374D848');
    const token = tokens.issue(parseLsn('0/3000060'));
    expect(tokens.verify(token)).toBe(parseLsn('0/3000060'));
    const forged = createConsistencyTokens(createCursorCodec('x'.repeat(32))).issue(parseLsn('FF/0'));
    const cursor = createCursorCodec('s'.repeat(32)).encode('products', {}, 'FF/0');
    for (const bad of [forged, cursor, 'nope', `${token}x`, '']) {
      expect(() => tokens.verify(bad)).toThrow(AppError);
      try {
        tokens.verify(bad);
      } catch (error) {
        expect((error as AppError).code).toBe('BAD_CONSISTENCY_TOKEN');
      }
    }
  });

  it('a batch carries the newest token of its members', () => {
    const a = { ...requestContext('a', 'r'), consistency: 5n };
    const b = { ...requestContext('b', 'r'), consistency: 9n };
    expect(batchContext([a, b, requestContext('c', 'r')]).consistency).toBe(9n);
    expect(batchContext([requestContext('c', 'r'), requestContext('d', 'r')]).consistency).toBeUndefined();
  });
});

describe('lag sampler', () => {
  it('an idle primary is not lag; unreplayed WAL ages from when the primary had it; rotation follows the bound', async () => {
    let clock = 0;
    const primary = fakeDb({ lsn: '0/100' });
    const replica = fakeDb({ replay: '0/100', tsLag: 3600 });
    const logs: string[] = [];
    const log = (_o: unknown, msg: string) => void logs.push(msg);
    const sampler = createLagSampler({
      primary: primary.db,
      replicas: [{ name: 'r', db: replica.db }],
      maxLagMs: 5000,
      periodMs: 1000,
      now: () => clock,
      logger: { info: log, warn: log } as never,
    });
    const state = (): ReplicaState => sampler.states()[0]!;
    await sampler.sampleOnce();
    expect(state()).toMatchObject({ inRotation: true, lagSeconds: 0 }); // replay timestamp an hour old, yet caught up
    primary.state.lsn = '0/200';
    clock = 1000;
    await sampler.sampleOnce();
    expect(state().inRotation).toBe(true);
    // It has replayed what the primary had at 0 ms, not what it had at 1000 ms: lag counts from 0 ms (an upper bound).
    clock = 5000;
    await sampler.sampleOnce();
    expect(state().lagSeconds).toBe(5);
    expect(state().inRotation).toBe(true);
    clock = 5001;
    await sampler.sampleOnce();
    expect(state()).toMatchObject({ inRotation: false, reason: 'lag' });
    await sampler.sampleOnce();
    replica.state.replay = '0/200';
    await sampler.sampleOnce();
    expect(state()).toMatchObject({ inRotation: true, lagSeconds: 0 });
    replica.state.down = true;
    await sampler.sampleOnce();
    await sampler.sampleOnce();
    expect(state()).toMatchObject({ inRotation: false, reason: 'unreachable', reachable: false });
    expect(logs).toEqual([
      'replica joined read rotation',
      'replica left read rotation',
      'replica joined read rotation',
      'replica unreachable',
      'replica left read rotation',
    ]);
  });
});

describe('lag sampler through a failover', () => {
  function setup(options: { primaryDown?: () => boolean } = {}) {
    let clock = 0;
    const primary = fakeDb({ lsn: '0/100' });
    const replica = fakeDb({ replay: '0/100', tsLag: 3600 }); // an idle primary: the replay timestamp is old
    const logs: { msg: string; reason?: unknown }[] = [];
    const log = (o: { reason?: unknown }, msg: string) => void logs.push({ msg, reason: o.reason });
    const sampler = createLagSampler({
      primary: primary.db,
      replicas: [{ name: 'r', db: replica.db }],
      maxLagMs: 1000,
      periodMs: 100,
      now: () => clock,
      logger: { info: log, warn: log } as never,
      ...options,
    });
    return { primary, replica, sampler, logs, state: (): ReplicaState => sampler.states()[0]!, tick: (ms: number) => (clock += ms) };
  }

  it('a replica behind the dead primary’s last position stays in rotation however long the primary is gone', async () => {
    const { primary, sampler, state, tick, logs } = setup();
    await sampler.sampleOnce();
    // The primary wrote WAL the replica never got (the crash came before it was shipped).
    primary.state.lsn = '0/180';
    tick(100);
    await sampler.sampleOnce();
    expect(state()).toMatchObject({ inRotation: true, lagSeconds: 0.1 });
    primary.state.down = true;
    primary.state.error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5433'), { code: 'ECONNREFUSED' });
    for (let i = 0; i < 50; i++) {
      tick(1000);
      await sampler.sampleOnce();
    }
    // Judged as of the primary's last sample (0.1 s behind it then), not 50 s later.
    expect(state()).toMatchObject({ inRotation: true, reachable: true, lagSeconds: 0.1 });
    expect(logs.map((l) => l.msg)).toEqual(['replica joined read rotation']);
  });

  it('a primary sample that fails for being busy (not on the connection) judges the replica at now, as before', async () => {
    const { primary, sampler, state, tick } = setup();
    await sampler.sampleOnce();
    primary.state.lsn = '0/180';
    tick(100);
    await sampler.sampleOnce();
    primary.state.down = true;
    primary.state.error = new AppError('POOL_TIMEOUT', 'no connection became free within 3000 ms', { retryAfterSeconds: 1 });
    tick(1000);
    await sampler.sampleOnce();
    expect(state()).toMatchObject({ inRotation: false, reason: 'lag', lagSeconds: 1.1 });
  });

  it('while no primary host is selected, the primary is not asked (a held query would stall the samples)', async () => {
    let down = false;
    const { primary, sampler, state, tick } = setup({ primaryDown: () => down });
    await sampler.sampleOnce();
    primary.state.lsn = '0/180';
    tick(100);
    await sampler.sampleOnce();
    const asked = primary.queried.length;
    down = true;
    tick(5000);
    await sampler.sampleOnce();
    expect(primary.queried.length).toBe(asked);
    expect(state()).toMatchObject({ inRotation: true, lagSeconds: 0.1 });
  });

  it('a promoted replica leaves rotation as not_standby, and rejoins once it is a standby again', async () => {
    const { primary, replica, sampler, state, tick, logs } = setup();
    await sampler.sampleOnce();
    expect(state()).toMatchObject({ inRotation: true, lagSeconds: 0 });
    primary.state.lsn = '0/900';
    replica.state.inRecovery = false; // promoted: pg_last_wal_replay_lsn() still answers, frozen at 0/100
    tick(100);
    await sampler.sampleOnce();
    expect(state()).toMatchObject({ inRotation: false, reachable: true, lagSeconds: 0, reason: 'not_standby' });
    expect(logs.at(-1)).toEqual({ msg: 'replica left read rotation', reason: 'not_standby' });
    // Rebuilt as a standby of the new primary and caught up.
    replica.state.inRecovery = true;
    replica.state.replay = '0/900';
    tick(100);
    await sampler.sampleOnce();
    expect(state()).toMatchObject({ inRotation: true, lagSeconds: 0 });
  });
});

describe('replica router', () => {
  function setup(replay: string) {
    const primary = fakeDb({ lsn: '0/500' });
    const replica = fakeDb({ replay });
    const states: ReplicaState[] = [{ name: 'r', inRotation: true, reachable: true, replayLsn: parseLsn(replay), lagSeconds: 0 }];
    const reads: string[] = [];
    const router = createReplicaRouter({
      primary: primary.db,
      replicas: [{ name: 'r', db: replica.db }],
      sampler: {
        states: () => states,
        markUnreachable: () => void (states[0] = { ...states[0]!, inRotation: false, reachable: false, reason: 'unreachable' }),
      },
      tokenWaitMs: 30,
      onRead: (t, r) => void reads.push(`${t}/${r}`),
    });
    return { primary, replica, states, reads, router };
  }

  it('reads go to the replica; writes and transactions to the primary', async () => {
    const { primary, replica, router, reads } = setup('0/500');
    await router.query(ctx, SELECT, READ);
    await router.query(ctx, { text: 'update x' });
    await router.transaction(ctx, async (tx) => tx.query({ text: 'select in tx' }, READ));
    expect(replica.seen).toEqual(['select 1']);
    expect(primary.seen).toEqual(['update x', 'BEGIN']);
    expect(reads).toEqual(['replica/ok']);
    expect(await router.currentLsn(ctx)).toBe(parseLsn('0/500'));
  });

  it('a token the replica has not replayed waits, then reads the primary; one it has replayed reads the replica', async () => {
    const { primary, replica, router, reads } = setup('0/400');
    await router.query({ ...ctx, consistency: parseLsn('0/500') }, SELECT, READ);
    expect(primary.seen).toEqual(['select 1']);
    replica.state.replay = '0/500'; // replayed since the last sample: the router asks the replica itself
    await router.query({ ...ctx, consistency: parseLsn('0/500') }, SELECT, READ);
    expect(replica.seen).toEqual(['select 1']);
    expect(reads).toEqual(['primary/token', 'replica/ok']);
  });

  it('with no replica in rotation, or a failing one, reads go to the primary', async () => {
    const { primary, replica, router, reads, states } = setup('0/500');
    replica.state.down = true;
    replica.state.error = new AppError('DB_UNAVAILABLE', 'the database connection was lost');
    await router.query(ctx, SELECT, READ);
    await router.query(backgroundContext('x'), SELECT, READ);
    expect(primary.seen).toEqual(['select 1', 'select 1']);
    expect(states[0]!.inRotation).toBe(false);
    expect(reads).toEqual(['primary/no_replica', 'primary/no_replica']);
  });

  it('a busy replica pool or a failed statement falls back to the primary and keeps the replica in rotation', async () => {
    const { primary, replica, router, reads, states } = setup('0/500');
    replica.state.down = true;
    replica.state.error = new AppError('POOL_TIMEOUT', 'timed out waiting for a connection');
    await router.query(ctx, SELECT, READ);
    replica.state.error = new Error('relation "x" does not exist');
    await router.query(ctx, SELECT, READ);
    expect(primary.seen).toEqual(['select 1', 'select 1']);
    expect(states[0]!.inRotation).toBe(true);
    expect(reads).toEqual(['primary/no_replica', 'primary/no_replica']);
  });

  it('a read past its deadline or abandoned is not retried, and the replica stays', async () => {
    const { primary, replica, router, states } = setup('0/500');
    replica.state.down = true;
    replica.state.error = new AppError('DEADLINE_EXCEEDED', 'the client closed the connection');
    await expect(router.query(ctx, SELECT, READ)).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(primary.seen).toEqual([]);
    expect(states[0]!.inRotation).toBe(true);
  });
});
