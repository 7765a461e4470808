/**
 * One CLIENT span per Redis command of the shared cache, a child of the
 * request's `cache lookup` span (reads and writes) or of the request's span
 * (invalidations after a write), and per rate-limit decision taken in Redis,
 * a child of the request's span. Emitted at the store boundaries
 * (src/cache/redis-store.ts, src/guards/rate-limit/redis-store.ts) rather
 * than by @opentelemetry/instrumentation-ioredis: that patches ioredis at
 * load time and finds its parent through the global context manager
 * (AsyncLocalStorage), which Holdfast does not run (src/context/context.ts
 * says why); our stores know their parent from the request's trace
 * (`ctx.trace`, or the rate limiter's `requestTraceOf`), passed down with
 * the command.
 *
 * Attributes follow the database semantic conventions: `db.system.name`
 * `redis`, `db.operation.name` (the command: the scripts run as EVALSHA),
 * `db.stored_procedure.name` (which script), `db.namespace` (the database
 * index), `server.address`/`server.port`, plus the caller's own (the rate
 * limiter names its policy). Never keys, arguments or values, and never the
 * URL's credentials; only the number of keys.
 *
 * With tracing off, or a trace not sampled, the store makes no call here.
 *
 * @example
 * const spans = redisSpans(tracing, config.redis.url);
 * const rows = await spans.command(ctx.trace, 'EVALSHA', 'holdfastCacheRead', 3, () => client.holdfastCacheRead(…));
 */
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import type { TraceRef } from '../context/context.ts';
import { parentOf, type Tracing } from './tracer.ts';

export interface RedisSpans {
  /**
   * Runs `run` under a span named `<operation> <procedure>`, a child of `parent` when sampled; else just runs it.
   * `attributes` are the caller's own, added to the span (never keys or values).
   */
  command<T>(
    parent: TraceRef | undefined,
    operation: string,
    procedure: string,
    keys: number,
    run: () => Promise<T>,
    attributes?: Attributes,
  ): Promise<T>;
}

/** Where the client connects, as span attributes; never the password or user. */
export function redisServerAttributes(url: string): Attributes {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return {};
  }
  const attributes: Attributes = { 'server.address': parsed.hostname, 'server.port': parsed.port === '' ? 6379 : Number(parsed.port) };
  const db = parsed.pathname.replace(/^\//, '');
  attributes['db.namespace'] = /^\d+$/.test(db) ? db : '0';
  return attributes;
}

/**
 * @example
 * const spans = redisSpans(tracing, 'redis://cache:6379/0');
 */
export function redisSpans(tracing: Tracing, url: string): RedisSpans {
  const server = redisServerAttributes(url);
  return {
    async command(parent, operation, procedure, keys, run, attributes) {
      if (parent?.sampled !== true) return run();
      const span = tracing.tracer.startSpan(
        `${operation} ${procedure}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'db.system.name': 'redis',
            'db.operation.name': operation,
            'db.stored_procedure.name': procedure,
            'holdfast.redis.keys': keys,
            ...server,
            ...attributes,
          },
        },
        parentOf(parent),
      );
      try {
        return await run();
      } catch (err) {
        // The error's class or Redis's reply prefix (e.g. NOSCRIPT), never its message: that may quote arguments.
        span.setAttribute('error.type', errorType(err));
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    },
  };
}

function errorType(err: unknown): string {
  if (!(err instanceof Error)) return 'unknown';
  const prefix = /^([A-Z]{3,})\b/.exec(err.message)?.[1];
  return prefix !== undefined && err.name === 'ReplyError' ? prefix : err.name;
}
