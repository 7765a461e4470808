import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFreezeProxy, type FreezeProxy } from './freeze-proxy.ts';

/** An echo server on port 0. */
async function echoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

interface Probe {
  socket: net.Socket;
  received: string;
  ended: boolean;
}

async function connect(port: number): Promise<Probe> {
  const socket = net.connect(port, '127.0.0.1');
  const probe: Probe = { socket, received: '', ended: false };
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (probe.received += d));
  socket.on('close', () => (probe.ended = true));
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  return probe;
}

async function until(condition: () => boolean, ms = 3000): Promise<void> {
  const end = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Lets the event loop and the loopback deliver whatever is in flight. */
const settle = () => new Promise((r) => setTimeout(r, 200));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<FreezeProxy> {
  const echo = await echoServer();
  cleanups.push(echo.close);
  const proxy = await startFreezeProxy({ host: '127.0.0.1', port: echo.port });
  cleanups.push(proxy.close);
  return proxy;
}

describe('freeze proxy', () => {
  it('forwards both ways while thawed', async () => {
    const proxy = await setup();
    const s = await connect(proxy.port);
    s.socket.write('hello');
    await until(() => s.received === 'hello');
    s.socket.destroy();
  });

  it('goes silent when frozen, keeps the socket open, and delivers the held bytes on thaw', async () => {
    const proxy = await setup();
    const s = await connect(proxy.port);
    proxy.freeze();
    s.socket.write('ping');
    await settle();
    expect(s.received).toBe('');
    expect(s.ended).toBe(false);
    proxy.thaw();
    await until(() => s.received === 'ping');
    s.socket.write('!');
    await until(() => s.received === 'ping!');
    s.socket.destroy();
  });

  it('holds connections accepted while frozen until the thaw', async () => {
    const proxy = await setup();
    proxy.freeze();
    const s = await connect(proxy.port);
    s.socket.write('late');
    await settle();
    expect(s.received).toBe('');
    proxy.thaw();
    await until(() => s.received === 'late');
    s.socket.destroy();
  });

  it('holds only new connections after holdNew(), until releaseNew()', async () => {
    const proxy = await setup();
    const old = await connect(proxy.port);
    proxy.holdNew();
    const fresh = await connect(proxy.port);
    fresh.socket.write('new');
    old.socket.write('old');
    await until(() => old.received === 'old');
    expect(fresh.received).toBe('');
    proxy.releaseNew();
    await until(() => fresh.received === 'new');
    old.socket.destroy();
    fresh.socket.destroy();
  });

  it('close() ends every connection', async () => {
    const proxy = await setup();
    const s = await connect(proxy.port);
    await proxy.close();
    await until(() => s.ended);
  });
});
