/**
 * Starts one contender's server in its own process: Holdfast through the
 * same child entry as the load test (startHoldfast, every guard on), the
 * peers from bench/peers/. Each gets the database through DATABASE_URL in
 * its environment, never on its command line.
 */
import { spawnServer, type ChildServer } from '../scripts/loadtest/child-process.ts';
import type { ServerKind } from './endpoints.ts';

const FILES: Readonly<Record<ServerKind, string>> = Object.freeze({
  holdfast: 'scripts/loadtest/holdfast-child.ts',
  'fastify-pg': 'bench/peers/fastify-pg.ts',
  'express-naive': 'bench/peers/express-naive.ts',
  'fastify-constant': 'bench/peers/fastify-constant.ts',
});

/**
 * Holdfast's settings in the bench, over its defaults: the rate limit out of
 * reach (the limiter still runs for every request, so its cost is
 * measured, but one client IP is not refused) and the cache off, so product
 * by id is compared uncached with peers that do not cache.
 */
/** @example startContender('holdfast', { …, env: { ...HOLDFAST_BENCH_DEFAULTS, CACHE_ENABLED: 'true' } }); */
export const HOLDFAST_BENCH_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  RATE_LIMIT_MAX: '2147483647',
  CACHE_ENABLED: 'false',
});

/**
 * @example
 * const server = await startContender('holdfast', { databaseUrl, env: { DB_POOL_MAX: '10' }, cursorSecret });
 */
export async function startContender(
  kind: ServerKind,
  options: { label: string; databaseUrl: string; env: Record<string, string>; cursorSecret: string },
): Promise<ChildServer> {
  const env: Record<string, string> =
    kind === 'holdfast'
      ? {
          HOST: '127.0.0.1',
          PORT: '0',
          LOG_LEVEL: 'warn',
          SEED_DEMO: 'false',
          CURSOR_SECRET: options.cursorSecret,
          ...HOLDFAST_BENCH_DEFAULTS,
          ...options.env,
          DATABASE_URL: options.databaseUrl,
        }
      : { DATABASE_URL: options.databaseUrl };
  return await spawnServer({ name: options.label, file: FILES[kind], env, serviceFlags: kind === 'holdfast' });
}
