/**
 * `npm start`'s `prestart`: makes sure dist/ holds a build of the current
 * sources, and needs nothing but Node to decide.
 *
 * Why plain JavaScript: a production install (`npm ci && npm run build &&
 * npm prune --omit=dev`) has no tsx and no TypeScript, so this script cannot
 * be TypeScript and cannot always build. It builds (`npm run build`, through
 * tsx and tsc) only when dist/ is missing or older than the sources and the
 * compiler is installed; with a current build it does nothing; without a
 * compiler it serves an existing build with a warning, or explains how to
 * build one and fails.
 *
 * @example
 * // package.json: "prestart": "node scripts/build/prestart.js"
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BUILT = join(ROOT, 'dist/src/main.js');
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json'];

/** The newest modification time among the build's inputs, and the file that has it. */
function newestInput() {
  let newest = { file: '', mtimeMs: 0 };
  const visit = (path) => {
    const stat = statSync(path);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else if (stat.mtimeMs > newest.mtimeMs) newest = { file: path, mtimeMs: stat.mtimeMs };
  };
  for (const input of INPUTS) if (existsSync(join(ROOT, input))) visit(join(ROOT, input));
  return newest;
}

function compilerInstalled() {
  const require = createRequire(join(ROOT, 'package.json'));
  try {
    require.resolve('typescript/package.json');
    require.resolve('tsx/package.json');
    return true;
  } catch {
    return false;
  }
}

const built = existsSync(BUILT);
const newest = newestInput();
const stale = built && newest.mtimeMs > statSync(BUILT).mtimeMs;

if (built && !stale) process.exit(0);

if (compilerInstalled()) {
  const npm = process.env.npm_execpath;
  // Under npm, its own CLI with this Node; run by hand, the npm on PATH.
  const result = npm
    ? spawnSync(process.execPath, [npm, 'run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' })
    : spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

if (stale) {
  process.stderr.write(
    `holdfast: dist/ is older than ${relative(ROOT, newest.file)}, and TypeScript is not installed to rebuild it; serving the existing build.\n`,
  );
  process.exit(0);
}

process.stderr.write(
  'holdfast: dist/ is not built, and building needs the devDependencies (TypeScript, tsx), which are not installed.\n' +
    'Build first, then drop them:  npm ci && npm run build && npm prune --omit=dev  (see README, "Production install").\n',
);
process.exit(1);
