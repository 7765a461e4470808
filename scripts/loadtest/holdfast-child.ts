/**
 * Holdfast in a child process for the load test and the bench: the same
 * `startHoldfast` as `npm start`, configured only through the environment the
 * parent passes, printing `@@ready <url>` once it listens. SIGTERM stops it
 * gracefully, as in production.
 *
 * @example
 * // spawned by scripts/loadtest/child-process.ts:
 * // PORT=0 HOST=127.0.0.1 DATABASE_URL=… node --import ./dist/src/runtime/tick-object-pin.js \
 * //   --heap-growing-percent=50 dist/scripts/loadtest/holdfast-child.js   (after npm run build)
 * // Node's flags, as `npm start` gives them: spawnServer({ serviceFlags: true }).
 */
import { startHoldfast } from '../../src/app.ts';
import { loadConfig, readEnvironment } from '../../src/config/index.ts';
import { createLogger } from '../../src/log/logger.ts';

const config = loadConfig(readEnvironment());
const logger = createLogger(config.log.level);
const app = await startHoldfast(config, logger);
process.stdout.write(`@@ready ${app.url}\n`);

const stop = (): void => {
  void app.stop().finally(() => process.exit(0));
};
process.once('SIGTERM', stop).once('SIGINT', stop);
