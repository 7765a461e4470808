/**
 * What every peer server shares: its flags, the ready line the bench waits
 * for, and a clean stop on SIGTERM (the bench ends each contender's pool
 * before starting the next: Postgres allows only 100 connections).
 */
import { parseArgs } from 'node:util';
import { readEnvironment, readSetting } from '../../src/config/index.ts';

/** @example const flags: PeerFlags = { port: 0, poolMax: 5, databaseUrl: 'postgres://…' }; */
export interface PeerFlags {
  port: number;
  poolMax: number;
  /** From DATABASE_URL (read and validated by src/config, the one reader of the environment), so the password never shows in `ps`. */
  databaseUrl: string | undefined;
}

/**
 * @example
 * const flags = peerFlags(process.argv.slice(2), { poolMax: 5 });
 */
export function peerFlags(argv: string[], defaults: { poolMax: number }): PeerFlags {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string', default: '0' }, 'pool-max': { type: 'string', default: String(defaults.poolMax) } },
  });
  return { port: Number(values.port), poolMax: Number(values['pool-max']), databaseUrl: readSetting('DATABASE_URL', readEnvironment()) };
}

/**
 * Prints the ready line and stops on SIGTERM/SIGINT with `close`.
 *
 * @example
 * announce(`http://127.0.0.1:${port}`, async () => { await app.close(); await pool.end(); });
 */
export function announce(url: string, close: () => Promise<void>): void {
  process.stdout.write(`@@ready ${url}\n`);
  const stop = () => {
    void close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop).once('SIGINT', stop);
}

/**
 * Parses a positive id from a route parameter; undefined when it is not one.
 *
 * @example
 * positiveId('42'); // 42
 */
export function positiveId(text: string | undefined): number | undefined {
  const n = Number(text);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
