/**
 * Promise: acceptQueue counts the connections the kernel holds for a
 * listening socket that has not accepted them, read from /proc/net/tcp, and
 * /metrics shows it as holdfast_http_accept_queue.
 *
 * The listener is a child process whose event loop is blocked right after it
 * listens, so the handshakes complete in the kernel and nothing accepts them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptQueue, parseListenQueue } from '../../src/net/accept-queue.ts';
import { startTestApp } from '../helpers/app.ts';

const TABLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000003 00:00000000 00000000  1000        0 7265 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D431 01 00000000:00000033 00:00000000 00000000  1000        0 7266 1 0000000000000000 20 4 30 10 -1
   2: 00000000:1F91 00000000:0000 0A 00000000:00000007 00:00000000 00000000  1000        0 7267 1 0000000000000000 100 0 0 10 0
`;

describe('parseListenQueue', () => {
  it("reads the LISTEN row's rx_queue for the port, not an established socket's receive queue", () => {
    expect(parseListenQueue(TABLE, 8080)).toBe(3);
    expect(parseListenQueue(TABLE, 8081)).toBe(7);
    expect(parseListenQueue(TABLE, 8082)).toBeUndefined();
  });
});

const linux = existsSync('/proc/net/tcp');
if (!linux) console.warn('\n*** SKIPPING the live accept-queue tests: no /proc/net/tcp (not Linux) ***\n');

describe.skipIf(!linux)('acceptQueue on a real listening socket', () => {
  let child: ChildProcess | undefined;
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
    child?.kill('SIGKILL');
    child = undefined;
  });

  it('counts connections the listener has not accepted, and 0 once it has', async () => {
    // Listens and prints its port; told to, says so and blocks its loop for 3 s, then accepts as usual.
    // (A write to a pipe is synchronous on Linux: 'blocking' is out before the wait starts.)
    const script = `
      const server = require('node:net').createServer(() => {});
      server.listen(0, '127.0.0.1', () => {
        process.stdout.write(server.address().port + '\\n');
        process.stdin.once('data', () => {
          process.stdout.write('blocking\\n');
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);
        });
      });`;
    child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const line = () => new Promise<string>((resolve) => child!.stdout!.once('data', (d: Buffer) => resolve(String(d).trim())));
    const port = Number(await line());
    expect(await acceptQueue(port)).toBe(0);

    child.stdin!.write('block\n');
    expect(await line()).toBe('blocking');
    for (let i = 0; i < 3; i++) {
      const s = connect(port, '127.0.0.1');
      sockets.push(s);
      await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
    }
    expect(await acceptQueue(port)).toBe(3);
    // Unblocked, the child accepts them.
    const deadline = Date.now() + 5000;
    while ((await acceptQueue(port)) !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await acceptQueue(port)).toBe(0);
  });

  it('is undefined for a port nothing listens on', async () => {
    expect(await acceptQueue(1)).toBeUndefined();
  });

  it('is served on /metrics as holdfast_http_accept_queue', async () => {
    const app = await startTestApp();
    try {
      const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
      expect(text).toMatch(/^holdfast_http_accept_queue 0$/m);
    } finally {
      await app.close();
    }
  });
});
