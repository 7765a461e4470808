/**
 * `npm run check`: the original report's test_pool_a1.py, grown up.
 *
 * Loads the configuration and prints each resolved pool setting, opens the
 * pool against the configured (or embedded) Postgres, acquires connections
 * concurrently up to max, and shows in a child process that an environment
 * override takes effect. Prints ✓ PASS / ✗ FAIL lines and a total, and exits
 * 1 on any failure.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { backgroundContext } from '../src/context/context.ts';
import { ConfigError, loadConfig, readEnvironment, type Config } from '../src/config/index.ts';
import { startEmbeddedPostgres } from '../src/db/embedded/postgres.ts';
import { createPool } from '../src/db/pool/pool.ts';
import { createLogger } from '../src/log/logger.ts';

const env = readEnvironment();
const CHECK = backgroundContext('pool check');

if (process.argv.includes('--print-pool-config')) {
  // Child mode for the override check: print what this environment resolves to.
  process.stdout.write(JSON.stringify(loadConfig(env).pool));
  process.exit(0);
}

let passed = 0;
let failed = 0;
function check(ok: boolean, label: string, detail = ''): boolean {
  if (ok) passed++;
  else failed++;
  process.stdout.write(`${ok ? '✓ PASS' : '✗ FAIL'}: ${label}${detail ? ` (${detail})` : ''}\n`);
  return ok;
}

function source(name: string): string {
  return env[name] === undefined ? 'default' : 'from environment';
}

async function main(): Promise<void> {
  console.log('Holdfast pool check\n\n== Configuration');
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) check(false, `${p.variable} = ${p.value ?? ''}`, p.message);
      return;
    }
    throw err;
  }
  const p = config.pool;
  check(true, `DB_POOL_MIN = ${p.min}`, source('DB_POOL_MIN'));
  check(true, `DB_POOL_MAX = ${p.max}`, source('DB_POOL_MAX'));
  check(true, `DB_POOL_TIMEOUT = ${p.acquireTimeoutMs / 1000} seconds`, source('DB_POOL_TIMEOUT'));
  check(true, `DB_POOL_RECYCLE = ${p.recycleMs / 1000} seconds`, source('DB_POOL_RECYCLE'));
  check(true, `DB_POOL_IDLE_TIMEOUT = ${p.idleTimeoutMs / 1000} seconds`, source('DB_POOL_IDLE_TIMEOUT'));
  check(true, `DB_POOL_QUEUE_MAX = ${p.queueMax}`, source('DB_POOL_QUEUE_MAX'));
  check(true, `DB_POOL_GETMODE = ${p.getMode}`, source('DB_POOL_GETMODE'));
  check(true, `DB_POOL_LEAK_MS = ${p.leakMs}`, source('DB_POOL_LEAK_MS'));
  check(p.min <= p.max, 'DB_POOL_MIN ≤ DB_POOL_MAX');

  console.log('\n== Pool');
  const logger = createLogger('warn');
  let url = config.database.url;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (url === undefined) {
    const embedded = await startEmbeddedPostgres({ dataDir: config.database.dataDir, port: config.database.embeddedPort, logger });
    url = embedded.url;
    stopEmbedded = embedded.stop;
    check(true, 'embedded Postgres started', config.database.dataDir);
  }
  const pool = createPool({
    ...p,
    acquireTimeoutMs: Math.min(p.acquireTimeoutMs, 10_000),
    connectionString: url,
    statementTimeoutMs: 5000,
    logger,
  });
  try {
    await pool.start();
    check(pool.size === p.min, `pool initialized with ${pool.size} connections`, `expected DB_POOL_MIN = ${p.min}`);
    const leases = await Promise.all(Array.from({ length: p.max }, () => pool.acquire(CHECK)));
    check(
      pool.size === p.max && pool.active === p.max,
      `acquired ${leases.length} connections concurrently`,
      `size ${pool.size}, max ${p.max}`,
    );
    const answers = await Promise.all(leases.map((l) => l.query<{ one: number }>({ text: 'select 1 as one' })));
    check(
      answers.every((a) => a.rows[0]?.one === 1),
      `every one of the ${p.max} connections answers a query`,
    );
    if (p.getMode === 'wait' && p.queueMax > 0) {
      const extra = pool.acquire(CHECK);
      await new Promise((r) => setTimeout(r, 50));
      check(pool.waiting === 1 && pool.size === p.max, 'one request beyond max queues instead of failing', `waiting ${pool.waiting}`);
      leases.pop()!.release();
      (await extra).release();
    }
    for (const lease of leases) lease.release();
    check(pool.active === 0 && pool.idle === pool.size, 'all connections returned to the pool', `idle ${pool.idle}`);
  } catch (err) {
    check(false, 'pool exercise', err instanceof Error ? err.message : String(err));
  } finally {
    await pool.end(1000);
    await stopEmbedded?.();
  }

  console.log('\n== Environment override');
  const override = p.max === 17 ? 18 : 17;
  // tsx resolved from this file, so the check also runs from another working directory.
  const tsx = import.meta.resolve('tsx');
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', tsx, fileURLToPath(import.meta.url), '--print-pool-config'], {
    env: { ...env, DB_POOL_MAX: String(override), DB_POOL_MIN: String(Math.min(p.min, override)) },
  });
  const child = JSON.parse(stdout) as Config['pool'];
  check(child.max === override, `DB_POOL_MAX=${override} in the environment gives max ${child.max}`);
}

await main().catch((err: unknown) => {
  check(false, 'check crashed', err instanceof Error ? err.message : String(err));
});
console.log(`\nTotal: ${passed + failed} | Passed: ${passed} | Failed: ${failed}`);
process.exit(failed > 0 ? 1 : 0);
