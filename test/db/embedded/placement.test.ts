/**
 * Where embedded Postgres runs from: in place, unless run as root where the
 * postgres user cannot reach the project, then in a cache of its own.
 */
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canTraverse, decidePlacement, placeEmbeddedPostgres, userIds, type PlacementInput } from '../../../src/db/embedded/placement.ts';
import { startEmbeddedPostgres } from '../../../src/db/embedded/postgres.ts';
import { freePort } from '../../../src/net/free-port.ts';
import { captureLogs } from '../../helpers/logs.ts';

const asRoot = process.getuid?.() === 0;
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'holdfast-placement-'));
  await chmod(scratch, 0o755);
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('decidePlacement', () => {
  const base: PlacementInput = {
    asRoot: true,
    binariesReachable: true,
    dataDirReachable: true,
    projectDir: '/root/holdfast',
    dataDir: '/root/holdfast/data',
    cacheDir: '/var/tmp/holdfast-embedded-postgres',
  };

  it('keeps everything in place when the postgres user can reach it, or when not root', () => {
    expect(decidePlacement(base)).toEqual({ binaries: undefined, home: base.dataDir, relocated: false });
    expect(decidePlacement({ ...base, asRoot: false, binariesReachable: false, dataDirReachable: false })).toEqual({
      binaries: undefined,
      home: base.dataDir,
      relocated: false,
    });
  });

  it('moves what the postgres user cannot reach into a per-project cache directory', () => {
    const both = decidePlacement({ ...base, binariesReachable: false, dataDirReachable: false });
    expect(both.relocated).toBe(true);
    expect(both.binaries).toMatch(/^\/var\/tmp\/holdfast-embedded-postgres\/[0-9a-f]{16}$/);
    expect(both.home).toMatch(new RegExp(`^${both.binaries}/clusters/[0-9a-f]{16}$`));
    expect(decidePlacement({ ...base, binariesReachable: false })).toMatchObject({ binaries: both.binaries, home: base.dataDir });
    expect(decidePlacement({ ...base, dataDirReachable: false })).toMatchObject({ binaries: undefined, home: both.home });
    // Another project, or another DATA_DIR, gets a place of its own.
    expect(decidePlacement({ ...base, binariesReachable: false, projectDir: '/home/ann/holdfast' }).binaries).not.toBe(both.binaries);
    expect(decidePlacement({ ...base, dataDirReachable: false, dataDir: '/root/holdfast/data2' }).home).not.toBe(both.home);
  });
});

describe('canTraverse', () => {
  it('follows the owner, group and other bits down from the root', async () => {
    const closed = join(scratch, 'closed');
    await mkdir(join(closed, 'inner'), { recursive: true, mode: 0o700 });
    await chmod(closed, 0o700);
    const stranger = { uid: 54_321, gid: 54_321 };
    expect(await canTraverse(join(closed, 'inner'), stranger)).toBe(false);
    expect(await canTraverse(join(closed, 'inner'), undefined)).toBe(false);
    const owner = await stat(closed);
    expect(await canTraverse(join(closed, 'inner'), { uid: owner.uid, gid: owner.gid })).toBe(true);
    await chmod(closed, 0o711);
    expect(await canTraverse(join(closed, 'not-made-yet', 'data'), stranger)).toBe(true);
    expect(await canTraverse(join(closed, 'inner'), stranger)).toBe(false);
  });
});

describe.runIf(asRoot)('placeEmbeddedPostgres, run as root', () => {
  it('keeps a cluster the postgres user cannot reach in the cache, says so, and serves from there', async () => {
    const home = join(scratch, 'home');
    await mkdir(home, { mode: 0o700 });
    await chmod(home, 0o700);
    const cacheDir = join(scratch, 'cache');
    const logs = captureLogs('info');
    const dataDir = join(home, 'holdfast', 'data');

    const placement = await placeEmbeddedPostgres({ dataDir, logger: logs.logger, cacheDir });
    expect(placement.home.startsWith(`${cacheDir}/`)).toBe(true);
    expect(logs.lines.find((l) => String(l.msg).startsWith('embedded Postgres placed outside the project'))).toMatchObject({
      cluster: join(placement.home, 'pg'),
    });

    const server = await startEmbeddedPostgres({ dataDir, port: await freePort(), logger: logs.logger, cacheDir, database: 'postgres' });
    try {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
      await client.end();
      const cluster = await stat(join(placement.home, 'pg'));
      expect(cluster.uid).toBe((await userIds('postgres'))?.uid);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('refuses a cache directory others can write', async () => {
    const cacheDir = join(scratch, 'open-cache');
    await mkdir(cacheDir);
    await chmod(cacheDir, 0o777);
    const home = join(scratch, 'home2');
    await mkdir(home, { mode: 0o700 });
    await chmod(home, 0o700);
    await expect(placeEmbeddedPostgres({ dataDir: join(home, 'data'), logger: captureLogs().logger, cacheDir })).rejects.toMatchObject({
      reason: 'UNSAFE_CACHE_DIR',
    });
  });
});
