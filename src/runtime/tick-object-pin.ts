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
 * A CPU profile of GET /api/health showed that runtime call as a large
 * share of a Holdfast process's samples and none of a fresh bare Fastify
 * process's; with one entry kept alive from the first line of the process
 * it vanished (the figures: docs/BENCHMARKS.md, "Figures moved out of the
 * code").
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
