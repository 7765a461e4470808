/**
 * Lingering close: what happens to a connection whose request was answered
 * before its body had arrived (a 401 from the auth hook, a 413 or 415 decided
 * from the headers, a GET that ignores its body).
 *
 * Node would keep such a socket alive and read the rest of the body for as
 * long as the client cared to send it, one byte every few seconds included.
 * Closing at once is no better: the kernel answers the bytes still coming
 * with a reset, and a reset makes the client's stack drop the answer it had
 * not read yet, so the client sees "connection reset" instead of the 401.
 * nginx's answer (`lingering_close`) is followed here: the answer says
 * `Connection: close`, the server half-closes (FIN after the answer), reads
 * and discards the rest of the body, and closes once it has all arrived,
 * past `maxBytes` discarded, or when the request's own deadline
 * (HTTP_REQUEST_TIMEOUT_MS, enforced by Node's parser) passes.
 *
 * Written here rather than taken from a library: there is none for Node's
 * HTTP server, and the behaviour hangs on two details of it: an answer
 * carrying `Connection: close` ends in `socket.destroySoon()`, which would
 * destroy the socket as soon as the answer is flushed; and the server's
 * sockets are half-open capable, so after `end()` they go on reading.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Socket } from 'node:net';

/** Sockets currently lingering: already answered, so a later timeout must not answer again. */
const lingering = new WeakSet<Socket>();

/**
 * Whether `socket` has had its answer and is only draining the body.
 *
 * @example
 * if (isLingering(socket)) socket.destroy(); // no second answer
 */
export function isLingering(socket: Socket): boolean {
  return lingering.has(socket);
}

/**
 * Installs lingering close on every request of `server` that has a body.
 * Requests without one cost a header check.
 *
 * @example
 * lingerAfterEarlyAnswers(app.server, config.server.bodyLimitBytes);
 */
export function lingerAfterEarlyAnswers(server: Server, maxBytes: number): void {
  server.prependListener('request', function watchEarlyAnswer(request: IncomingMessage, response: ServerResponse) {
    const length = request.headers['content-length'];
    if (request.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return;
    const writeHead = response.writeHead;
    response.writeHead = function writeHeadThenLinger(this: ServerResponse, ...args: unknown[]) {
      if (!request.complete) {
        this.setHeader('Connection', 'close');
        lingerOnClose(request, this.socket, maxBytes);
      }
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    };
  });
}

function lingerOnClose(request: IncomingMessage, socket: Socket | null, maxBytes: number): void {
  if (socket === null) return;
  let discarded = 0;
  let draining = false;
  const tooMuch = () => discarded > maxBytes;
  // Read from now on: a request someone reads is not "dumped" by Node, and
  // a dumped one no longer reports its bytes, which the bound needs.
  request.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (draining && tooMuch()) socket.destroy();
  });
  request.once('error', () => socket.destroy());
  // Own property: replaces Node's destroy-after-flush for this socket only;
  // Node calls it once the answer is finished.
  socket.destroySoon = function lingerThenClose(this: Socket) {
    if (request.complete) return Socket.prototype.destroySoon.call(this);
    draining = true;
    lingering.add(this);
    this.end();
    if (tooMuch()) return void this.destroy();
    request.once('end', () => this.destroy());
    request.resume();
  };
}
