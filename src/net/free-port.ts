/**
 * Finds a TCP port nobody listens on, for servers started by tests.
 */
import { createServer } from 'node:net';

/**
 * Asks the OS for an unused port on 127.0.0.1. Another process could take it
 * before the caller binds it: {@link onFreePort} starts a server and tries
 * another port when that happened.
 *
 * @example
 * const port = await freePort();
 */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Runs `start` on a port from {@link freePort}, and on a new one when `taken`
 * says the port was taken before `start` could bind it, up to `attempts`
 * times. The race is real on a busy machine: loopback clients draw their
 * local ports from the same range freePort's ports come from (seen: a
 * suite's embedded Postgres refused with PORT_IN_USE in a full test run).
 *
 * @example
 * const pg = await onFreePort((port) => startEmbeddedPostgres({ dataDir, port, logger }), isPortInUse);
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>, taken: (err: unknown) => boolean, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePort());
    } catch (err) {
      if (attempt >= attempts || !taken(err)) throw err;
    }
  }
}
