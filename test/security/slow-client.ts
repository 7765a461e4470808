/**
 * A raw connection a test drives byte by byte, to play a slow or abrupt
 * client: it writes when told, records everything the server sends, and
 * how and when the server ended the connection (a clean FIN or a reset).
 * It stays half-open after the server's FIN, so it can go on sending a body
 * the way a client uploading one does.
 */
import { connect, type Socket } from 'node:net';

export interface RawConnection {
  socket: Socket;
  /** Everything the server sent so far, as latin1 text. */
  received(): string;
  /** Writes unless the connection is gone; resolves false if it was. */
  write(bytes: string | Buffer): Promise<boolean>;
  /** Writes `bytes` `every` ms, `chunk` bytes at a time, until done or the connection ends. */
  dribble(bytes: string | Buffer, every: number, chunk?: number): Promise<void>;
  /** Whether the connection was reset (the server closed it with bytes of ours unread). */
  wasReset(): boolean;
  /** Settles when the server ended the connection: `end` for a FIN, `reset` for an error, `timeout` past `withinMs`. */
  closed(withinMs: number): Promise<{ how: 'end' | 'reset' | 'timeout'; afterMs: number }>;
  /** Resolves once `text` appeared in what the server sent, or rejects after `withinMs`. */
  waitFor(text: string, withinMs: number): Promise<void>;
}

/**
 * @example
 * const conn = await openConnection(app.baseUrl);
 * await conn.write('POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n');
 */
export async function openConnection(baseUrl: string): Promise<RawConnection> {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect({ host: hostname, port: Number(port), allowHalfOpen: true });
  const openedAt = Date.now();
  const chunks: Buffer[] = [];
  let ended: { how: 'end' | 'reset'; afterMs: number } | undefined;
  let reset = false;
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    notify();
  });
  socket.on('end', () => {
    ended ??= { how: 'end', afterMs: Date.now() - openedAt };
    notify();
  });
  socket.on('error', () => {
    reset = true;
    ended ??= { how: 'reset', afterMs: Date.now() - openedAt };
    notify();
  });
  socket.on('close', () => {
    ended ??= { how: 'end', afterMs: Date.now() - openedAt };
    notify();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const received = () => Buffer.concat(chunks).toString('latin1');
  const until = <T>(check: () => T | undefined, withinMs: number, onTimeout: () => T): Promise<T> =>
    new Promise((resolve) => {
      const tick = () => {
        const value = check();
        if (value === undefined) return;
        listeners.delete(tick);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        listeners.delete(tick);
        resolve(onTimeout());
      }, withinMs);
      listeners.add(tick);
      tick();
    });
  const write = (bytes: string | Buffer) =>
    new Promise<boolean>((resolve) => {
      if (socket.destroyed || !socket.writable) return resolve(false);
      socket.write(bytes, (err) => resolve(err === undefined || err === null));
    });
  return {
    socket,
    received,
    write,
    wasReset: () => reset,
    async dribble(bytes, every, chunk = 1) {
      const buffer = Buffer.from(bytes);
      for (let at = 0; at < buffer.length; at += chunk) {
        if (!(await write(buffer.subarray(at, at + chunk)))) return;
        await new Promise((r) => setTimeout(r, every));
      }
    },
    closed: (withinMs) =>
      until<{ how: 'end' | 'reset' | 'timeout'; afterMs: number }>(
        () => ended,
        withinMs,
        () => ({ how: 'timeout', afterMs: Date.now() - openedAt }),
      ),
    async waitFor(text, withinMs) {
      const seen = await until(
        () => (received().includes(text) ? true : undefined),
        withinMs,
        () => false,
      );
      if (!seen) throw new Error(`server did not send ${JSON.stringify(text)} within ${withinMs} ms; got ${JSON.stringify(received())}`);
    },
  };
}

/** The first answer's status and its problem document, if it is one. */
export function firstAnswer(text: string): { status: number; headers: string; body: Record<string, unknown> | undefined } {
  const end = text.indexOf('\r\n\r\n');
  const head = end === -1 ? text : text.slice(0, end);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
  const bodyText = end === -1 ? '' : text.slice(end + 4, end + 4 + length);
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(bodyText) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  return { status, headers: head.toLowerCase(), body };
}
