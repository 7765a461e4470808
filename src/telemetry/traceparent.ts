/**
 * W3C Trace Context `traceparent` parsing (https://www.w3.org/TR/trace-context/),
 * minimal on purpose: the OpenTelemetry SDK, when started, fills
 * `Context.trace` itself; without it this parser lets an upstream's sampled
 * trace id still reach the latency histograms' exemplars.
 *
 * @example
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
 * // { traceId: '4bf9…4736', spanId: '00f0…02b7', sampled: true }
 */
import type { TraceRef } from '../context/context.ts';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** The trace a `traceparent` header names, or undefined when absent or malformed. */
export function parseTraceparent(header: string | string[] | undefined): TraceRef | undefined {
  if (typeof header !== 'string') return undefined;
  const m = TRACEPARENT.exec(header.trim().toLowerCase());
  if (m === null) return undefined;
  const [, version, traceId, spanId, flags] = m as unknown as [string, string, string, string, string];
  if (version === 'ff' || (version === '00' && header.trim().length !== 55)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}
