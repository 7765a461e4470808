/**
 * onFreePort: a port taken between freePort and the bind is replaced by
 * another; any other failure, or too many taken ports, is the caller's.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { onFreePort } from '../../src/net/free-port.ts';

const TAKEN = new Error('taken');
const taken = (err: unknown) => err === TAKEN;

describe('onFreePort', () => {
  it('starts on another port when the first was taken, and binds a real server there', async () => {
    const tried: number[] = [];
    const server = await onFreePort(async (port) => {
      tried.push(port);
      if (tried.length === 1) throw TAKEN;
      const s = createServer();
      await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
      return s;
    }, taken);
    try {
      expect(tried).toHaveLength(2);
      expect(server.listening).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('rethrows any other failure at once, and a taken port after the last attempt', async () => {
    let calls = 0;
    const other = new Error('other');
    await expect(
      onFreePort(async () => {
        calls++;
        throw other;
      }, taken),
    ).rejects.toBe(other);
    expect(calls).toBe(1);

    calls = 0;
    await expect(
      onFreePort(
        async () => {
          calls++;
          throw TAKEN;
        },
        taken,
        3,
      ),
    ).rejects.toBe(TAKEN);
    expect(calls).toBe(3);
  });
});
