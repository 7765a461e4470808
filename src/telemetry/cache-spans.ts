/**
 * One `cache lookup` span per read through the query cache, with how it was
 * answered: hit, stale, miss (the load's statement spans follow as
 * siblings), coalesced (single flight: it waited on another request's
 * load), bypass (the cache was down or off) or error. The cache reports the
 * outcome through `WrapOptions.onLookup`, and the Redis store's commands
 * are children of this span (`WrapOptions.trace`, src/telemetry/
 * redis-spans.ts); with tracing off or the trace not sampled, no span and no
 * options exist.
 *
 * @example
 * const spans = cacheSpans(tracing, cache);
 * cache.wrap(key, { ttlMs, tags, ...spans?.lookup(ctx, 'product') }, load);
 */
import { SpanKind } from '@opentelemetry/api';
import type { QueryCache, WrapOptions } from '../cache/query-cache.ts';
import type { Context } from '../context/context.ts';
import { parentOf, refOf, type Tracing } from './tracer.ts';

export interface CacheSpans {
  /** Wrap options that end the lookup's span and parent the store's commands under it; undefined when `ctx` is not sampled. */
  lookup(ctx: Context, entry: string): Pick<WrapOptions, 'onLookup' | 'trace'> | undefined;
}

/**
 * @example
 * const spans = cacheSpans(tracing, cache);
 */
export function cacheSpans(tracing: Tracing, cache: Pick<QueryCache, 'stats'>): CacheSpans {
  return {
    lookup(ctx, entry) {
      if (ctx.trace?.sampled !== true) return undefined;
      const span = tracing.tracer.startSpan(
        'cache lookup',
        { kind: SpanKind.INTERNAL, attributes: { 'holdfast.cache.entry': entry, 'holdfast.cache.store': cache.stats.mode } },
        parentOf(ctx.trace),
      );
      return {
        trace: refOf(span),
        onLookup: (outcome) => {
          span.setAttribute('holdfast.cache.outcome', outcome);
          span.end();
        },
      };
    },
  };
}
