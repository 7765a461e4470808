/**
 * Finds a TCP port nobody listens on, for servers started by tests.
 */
import { createServer } from 'node:net';

/**
 * Asks the OS for an unused port on 127.0.0.1. Another process could take it
 * before the caller binds it; on a test machine that race is rare enough.
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
