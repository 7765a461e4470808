/**
 * Decides which Postgres server the process talks to: the one DATABASE_URL
 * names, or an embedded one under DATA_DIR. The app and the seed script both
 * go through here, so a script always reaches the database the app uses.
 */
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import { startEmbeddedPostgres } from './embedded/postgres.ts';

/**
 * The server the process uses, however it was provided.
 *
 * @example
 * const { url, embedded, stop } = await startDatabaseServer(config.database, logger);
 */
export interface DatabaseServer {
  /** Connection URL of the application database. May contain a password: never log it. */
  url: string;
  embedded: boolean;
  /** Stops the embedded server; does nothing for an external one. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Returns the configured server, starting embedded Postgres when no URL is set.
 *
 * @example
 * const server = await startDatabaseServer(config.database, logger);
 * try { await runMigrations(server.url, logger); } finally { await server.stop(); }
 */
export async function startDatabaseServer(database: Config['database'], logger: Logger): Promise<DatabaseServer> {
  if (database.url !== undefined) {
    return { url: database.url, embedded: false, stop: async () => undefined };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: database.dataDir, port: database.embeddedPort, logger });
  return { url: embedded.url, embedded: true, stop: embedded.stop };
}
