/**
 * A TCP proxy that can go silent: `freeze()` stops forwarding in both
 * directions while keeping every socket open, as a frozen host or a
 * firewall dropping packets would; no reset, no FIN, nothing. `thaw()`
 * resumes. Bytes sent during a freeze are held (sockets paused, so they wait
 * in the kernel's buffers) and delivered on thaw, as TCP retransmission
 * would after a partition heals. Connections accepted while frozen are not
 * forwarded upstream until the thaw. `holdNew()` does that to new
 * connections only (existing ones flow on) until `releaseNew()`: a slow
 * path for, say, a CancelRequest. No root, no packet filter.
 *
 * @example
 * const proxy = await startFreezeProxy({ host: '127.0.0.1', port: 5432 });
 * // connect to 127.0.0.1:proxy.port …
 * proxy.freeze(); proxy.thaw(); await proxy.close();
 */
import net from 'node:net';

export interface FreezeProxy {
  port: number;
  /** Open client-side connections. */
  readonly connections: number;
  freeze(): void;
  thaw(): void;
  /** New connections wait, unforwarded, until `releaseNew()`; existing ones are untouched. */
  holdNew(): void;
  releaseNew(): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream?: net.Socket;
}

export async function startFreezeProxy(target: { host: string; port: number }): Promise<FreezeProxy> {
  const pairs = new Set<Pair>();
  let frozen = false;
  let holding = false;

  function link(pair: Pair): void {
    const upstream = net.connect(target.port, target.host);
    pair.upstream = upstream;
    const end = () => {
      pair.client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    upstream.on('error', end).on('close', end);
    pair.client.on('error', end).on('close', end);
    pair.client.pipe(upstream);
    upstream.pipe(pair.client);
    if (frozen) pause(pair);
  }

  function pause(pair: Pair): void {
    pair.client.pause();
    pair.upstream?.pause();
  }

  const server = net.createServer((client) => {
    const pair: Pair = { client };
    pairs.add(pair);
    if (frozen || holding) {
      client.pause();
      client.on('error', () => client.destroy());
    } else link(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    get connections() {
      return pairs.size;
    },
    freeze() {
      frozen = true;
      // unpipe so that a pipe's own 'drain' handler cannot resume the flow.
      for (const pair of pairs) {
        if (pair.upstream === undefined) continue;
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        pause(pair);
      }
    },
    thaw() {
      frozen = false;
      for (const pair of pairs) {
        if (pair.upstream === undefined) {
          link(pair);
          continue;
        }
        pair.client.pipe(pair.upstream);
        pair.upstream.pipe(pair.client);
        pair.client.resume();
        pair.upstream.resume();
      }
    },
    holdNew() {
      holding = true;
    },
    releaseNew() {
      holding = false;
      if (frozen) return;
      for (const pair of pairs) if (pair.upstream === undefined) link(pair);
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
