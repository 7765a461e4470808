/**
 * One dashboard client as a Server-Sent Events response, fed by the shared
 * feed.
 *
 * The response is hijacked from Fastify and written directly: SSE is one
 * long response that Fastify's send/serialise cycle has no use for. A client
 * that cannot keep up (its socket buffer is still full) skips frames instead
 * of queueing them, so a stalled browser costs one buffer, not a growing one.
 * A stream opened with a session ends when the session expires; the browser
 * reconnects, is refused, and goes back to the login page.
 */
import type { FastifyReply } from 'fastify';
import type { DashboardFeed } from './feed.ts';

export interface OpenStreams {
  readonly count: number;
  /** Ends every open stream (at shutdown, so the server can close at once). */
  endAll(): void;
}

/** Tells browsers to reconnect after 3 s when the stream drops. */
const PREAMBLE = 'retry: 3000\n\n';

/**
 * Tracks the process's dashboard streams and opens new ones on the feed.
 *
 * @example
 * const streams = createStreams(feed);
 * streams.open(reply, expiresAtMs);
 */
export function createStreams(feed: DashboardFeed): OpenStreams & {
  open(reply: FastifyReply, expiresAtMs: number | undefined): void;
} {
  const enders = new Set<() => void>();

  return {
    get count() {
      return enders.size;
    },
    endAll: function endAllStreams() {
      for (const end of [...enders]) end();
    },
    open: function openStream(reply, expiresAtMs) {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        // Proxies such as nginx buffer responses by default; a buffered stream is a frozen dashboard.
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
      });
      res.write(PREAMBLE + feed.history());

      let ended = false;
      const unsubscribe = feed.subscribe(function sendFrame(chunk) {
        if (expiresAtMs !== undefined && Date.now() >= expiresAtMs) return end();
        if (res.writableNeedDrain) return; // still flushing the previous frame: skip this one
        res.write(chunk);
      });
      function end(): void {
        if (ended) return;
        ended = true;
        unsubscribe();
        enders.delete(end);
        if (!res.writableEnded) res.end();
      }
      enders.add(end);
      // The response's 'close', not the request's: since Node 16 a request emits
      // 'close' once its (empty) body is read, which would end every stream at once.
      res.once('close', end);
      res.once('error', end);
    },
  };
}
