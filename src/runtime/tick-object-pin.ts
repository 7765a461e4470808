/**
 * Keeps one `process.nextTick` queue entry reachable for the life of the
 * process, so that V8 keeps the hidden classes ("maps") of those entries.
 *
 * Why: Node builds every nextTick entry as an object literal with two
 * computed symbol keys, `{ [async_id_symbol]: …, [trigger_async_id_symbol]: …,
 * callback, args }`. V8 caches how to add each key in an inline cache keyed
 * by the object's map, and maps are held weakly. When a full GC finds no
 * entry alive (an idle moment at start-up: migrations, pool connections),
 * the maps die, and the next entry is built on new ones. After four such
 * rounds the caches go megamorphic for good, and from then on every entry
 * is built by a call into the V8 runtime (`DefineKeyedOwnPropertyInLiteral`,
 * plus map transitions). Every HTTP request schedules several entries.
 *
 * Measured on GET /api/health with `wrk -t2 -c100` and `perf record -g`
 * (2 cores): that runtime call took 14–16% of the server's samples in a
 * Holdfast process, and 0% in a bare Fastify process. A bare Fastify server
 * showed the same 15% once a second Fastify instance had booted, or a
 * hundred nextTicks had run, before it started. With one entry kept alive
 * from the first line of the process, none showed it, Holdfast included,
 * and Holdfast's health took 32 µs of CPU per request instead of 38 (medians
 * of 9 alternating runs; docs/BENCHMARKS.md).
 *
 * The cost is one small object. It must run before anything else schedules
 * ticks and collects garbage, so Node loads it with `--import`, before the
 * entry point (src/runtime/node-flags.ts; the `start` script).
 *
 * @example
 * // node --import ./dist/src/runtime/tick-object-pin.js dist/src/main.js
 */
import { executionAsyncResource } from 'node:async_hooks';
import { TICK_PIN_MARK } from './node-flags.ts';

(globalThis as Record<symbol, unknown>)[TICK_PIN_MARK] = true;

let pinned: object | undefined;

// Inside a nextTick callback, the execution resource is that tick's entry.
process.nextTick(function pinTickObject() {
  pinned = executionAsyncResource();
});

/**
 * The entry kept alive; undefined until the first tick has run.
 *
 * @example
 * pinnedTickObject(); // { callback: [Function: pinTickObject], args: undefined, [Symbol(async_id_symbol)]: 6, … }
 */
export function pinnedTickObject(): object | undefined {
  return pinned;
}
