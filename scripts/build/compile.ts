/**
 * The production build: TypeScript compiled to `dist/` by tsc, plus the
 * files the code reads at run time next to its modules (SQL migrations, the
 * dashboard's page, script and stylesheet).
 *
 * Why compiled at all: running under tsx keeps a loader worker thread with
 * its own V8 heap and transpiles every module at start. Measured on this
 * machine, the compiled service idles at about 125 MB RSS against about
 * 180 MB under tsx (docs/BENCHMARKS.md). `npm start`, the load test and the
 * bench run the compiled code; tests run the sources through tsx.
 *
 * Type errors do not stop the build (`noCheck`): `npm run typecheck`, in
 * CI, is where they fail. Plain tsc rather than a bundler: one module per
 * source file, so a stack trace names the module it came from, and with
 * `node --enable-source-maps` the source line too.
 *
 * @example
 * await compile();                      // → dist/
 * await compile({ outDir: '/tmp/out' }); // a throwaway build (tests)
 */
import { rmSync } from 'node:fs';
import { cp, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runToEnd } from '../process/run-to-end.ts';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Where `npm run build` writes. */
export const DIST = join(ROOT, 'dist');

/**
 * `file` (a `.ts` path from the root) as its compiled module under `outDir`.
 *
 * @example
 * compiledPath('src/main.ts'); // '/…/dist/src/main.js'
 */
export function compiledPath(file: string, outDir: string = DIST): string {
  return join(outDir, relative(ROOT, resolve(ROOT, file)).replace(/\.ts$/, '.js'));
}

/** Files under src/ that are not TypeScript: they are read at run time, so they travel with the build. */
async function copyAssets(outDir: string): Promise<void> {
  const src = join(ROOT, 'src');
  for (const entry of await readdir(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith('.ts')) continue;
    const from = join(entry.parentPath, entry.name);
    await cp(from, join(outDir, relative(ROOT, from)));
  }
}

/**
 * Compiles the service, the bench peers and the load-test child into `outDir` (default dist/), from scratch.
 *
 * @example
 * await compile();
 */
export async function compile(options: { outDir?: string } = {}): Promise<string> {
  const outDir = options.outDir ?? DIST;
  await rm(outDir, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await runToEnd(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], 300_000).catch((err: unknown) => {
    throw new Error(`tsc failed: ${(err as Error).message}`);
  });
  await copyAssets(outDir);
  return outDir;
}

let built: Promise<string> | undefined;
const RUN_PREFIX = '.build-run-';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function removeOrphanBuilds(): Promise<void> {
  for (const name of await readdir(ROOT)) {
    const pid = name.startsWith(RUN_PREFIX) ? Number(name.slice(RUN_PREFIX.length)) : NaN;
    if (Number.isInteger(pid) && pid !== process.pid && !alive(pid)) await rm(join(ROOT, name), { recursive: true, force: true });
  }
}

/**
 * Builds the service once per process, for tools that start the compiled
 * service (the load test, the bench), and returns where.
 *
 * Into a directory of this process's own, not into dist/: two such tools
 * (or two test files) running at once would otherwise delete and rewrite
 * the tree the other's servers are starting from. It is removed at exit;
 * a process killed before that (test workers are) leaves it behind, so each
 * build first removes those whose process is gone.
 *
 * @example
 * const outDir = await ensureBuilt(); spawn(process.execPath, [compiledPath('src/main.ts', outDir)]);
 */
export function ensureBuilt(): Promise<string> {
  if (built === undefined) {
    const outDir = join(ROOT, `${RUN_PREFIX}${process.pid}`);
    process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));
    built = removeOrphanBuilds().then(() => compile({ outDir }));
  }
  return built;
}
