/**
 * The router and lag sampler against a real primary and streaming standby
 * (test/helpers/replication.ts): a read carrying a write's LSN always sees
 * the write, even with replay paused; untokened reads use the replica while
 * it is caught up and move to the primary once it lags past the bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestContext } from '../../../src/context/context.ts';
import { createPool, type ConnectionPool } from '../../../src/db/pool/pool.ts';
import { createLagSampler, type LagSampler } from '../../../src/db/replicas/lag-sampler.ts';
import { createReplicaRouter, type ReplicaRouter } from '../../../src/db/replicas/router.ts';
import { READ } from '../../../src/db/types.ts';
import { testPoolOptions } from '../../helpers/app.ts';
import { replicationBinaries, startReplicatedPostgres, type ReplicatedPostgres } from '../../helpers/replication.ts';

const binaries = replicationBinaries();
if (binaries === undefined) {
  if (process.env.CI === 'true') throw new Error('Debian PostgreSQL binaries (pg_basebackup) are required under CI');
  console.warn('\n*** SKIPPING test/db/replicas/replicas.test.ts: no /usr/lib/postgresql/<major>/bin with pg_basebackup ***\n');
}

describe.skipIf(binaries === undefined)('read replicas on real servers', () => {
  let pair: ReplicatedPostgres;
  let primary: ConnectionPool;
  let replica: ConnectionPool;
  let sampler: LagSampler;
  let router: ReplicaRouter;
  const reads: string[] = [];
  let skewMs = 0;
  const ctx = requestContext('t', 'GET /api/products/:id');

  beforeAll(async () => {
    pair = await startReplicatedPostgres();
    primary = createPool(testPoolOptions(pair.primary.url, { max: 4, min: 0 }));
    replica = createPool(testPoolOptions(pair.standby.url, { max: 4, min: 0 }));
    await primary.query(ctx, { text: 'create table stock (id int primary key, n int not null)' });
    await primary.query(ctx, { text: 'insert into stock values (1, 0)' });
    await pair.waitForReplay();
    sampler = createLagSampler({
      primary,
      replicas: [{ name: 'standby', db: replica }],
      maxLagMs: 300,
      periodMs: 50,
      now: () => Date.now() + skewMs,
    });
    router = createReplicaRouter({
      primary,
      replicas: [{ name: 'standby', db: replica }],
      sampler,
      onRead: (t, r) => void reads.push(`${t}/${r}`),
    });
    await sampler.sampleOnce();
  }, 120_000);

  afterAll(async () => {
    sampler?.stop();
    await primary?.end();
    await replica?.end();
    await pair?.destroy();
  });

  const read = async (consistency?: bigint): Promise<number> =>
    (
      await router.query<{ n: number }>(
        consistency === undefined ? ctx : { ...ctx, consistency },
        { text: 'select n from stock where id = 1' },
        READ,
      )
    ).rows[0]!.n;

  it('untokened reads go to the caught-up replica', async () => {
    reads.length = 0;
    expect(await read()).toBe(0);
    expect(reads).toEqual(['replica/ok']);
  });

  it('with replay paused, a read with the write’s token sees the write every time', async () => {
    await pair.pauseReplay();
    for (let i = 1; i <= 50; i++) {
      await primary.query(ctx, { text: 'update stock set n = $1 where id = 1', values: [i] });
      const lsn = await router.currentLsn(ctx);
      expect(await read(lsn)).toBe(i);
    }
    expect(reads.filter((r) => r === 'primary/token').length).toBe(50);
  }, 60_000);

  it('a replica lagging past the bound leaves rotation: untokened reads go to the primary; it rejoins once caught up', async () => {
    // Replay is still paused and the primary has written: the lag grows past 300 ms.
    await primary.query(ctx, { text: 'update stock set n = n + 1 where id = 1' });
    await sampler.sampleOnce();
    skewMs += 400; // the sampler's clock, not a sleep
    await sampler.sampleOnce();
    expect(sampler.states()[0]).toMatchObject({ inRotation: false, reason: 'lag' });
    reads.length = 0;
    expect(await read()).toBe(51);
    expect(reads).toEqual(['primary/lag']);
    await pair.resumeReplay();
    await pair.waitForReplay();
    await sampler.sampleOnce();
    expect(sampler.states()[0]).toMatchObject({ inRotation: true });
    reads.length = 0;
    expect(await read()).toBe(51);
    expect(reads).toEqual(['replica/ok']);
  }, 60_000);
});
