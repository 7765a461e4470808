/**
 * A local OTLP/HTTP sink for the tracing cells of the bench: accepts every
 * export and throws it away, so the cost measured is Holdfast's (building,
 * batching, encoding and sending spans), not a collector's.
 *
 * @example
 * const sink = await startOtlpSink();
 * env.OTEL_EXPORTER_OTLP_ENDPOINT = sink.url;
 * await sink.close();
 */
import { createServer } from 'node:http';

/** Placeholder a variant's env carries until the sink's URL is known. */
export const OTLP_SINK = '<otlp-sink>';

export interface OtlpSink {
  url: string;
  /** Export requests received. */
  readonly exports: number;
  close(): Promise<void>;
}

/** @example const sink = await startOtlpSink(); */
export async function startOtlpSink(): Promise<OtlpSink> {
  let exports = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    get exports() {
      return exports;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
