/**
 * The only place that reads `process.env`.
 *
 * Settings come from the process environment and, when present, a `.env`
 * file in the working directory. The environment wins over the file, so a
 * deployment can override a checked-out `.env` without editing it. Node's own
 * `util.parseEnv` reads the file, so no dotenv dependency is needed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

export type EnvSource = Readonly<Record<string, string | undefined>>;

/**
 * Merges `.env` (if it exists) under the process environment.
 *
 * @example
 * const env = readEnvironment();            // process.env over ./.env
 * const env = readEnvironment({ env: {} }); // only ./.env, for tests
 */
export function readEnvironment(options: { env?: EnvSource; envFile?: string } = {}): EnvSource {
  const env = options.env ?? process.env;
  const file = resolve(options.envFile ?? '.env');
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  return Object.freeze({ ...fromFile, ...env });
}
