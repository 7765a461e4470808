/**
 * An adaptive cap on in-flight database work, after TCP Vegas as Netflix's
 * concurrency-limits library applies it to services.
 *
 * Why: on a small machine, more concurrent statements than the database has
 * cores only adds queueing inside Postgres (measurements in docs/SCALING.md,
 * "How big should the pools be?").
 * The best size depends on the machine and the query mix, so instead of
 * asking operators to guess it, the limiter finds it: it compares the
 * latency of recent statements with the best latency seen (the no-load
 * latency) and estimates how many statements are queued inside the
 * database: `queue = limit × (1 − noLoadRtt / rtt)`.
 * - queue below `alpha` (3·log10 limit): the database has room, grow;
 * - queue above `beta` (6·log10 limit): statements are queueing, shrink;
 * - in between: hold.
 * The limit only grows while the pool actually uses at least half of it, so
 * an idle service doesn't inflate it. The no-load latency is re-probed now
 * and then so a permanent shift (bigger data, new plan) is learned.
 *
 * No npm package implements this for Node (the Netflix library is Java), so
 * it is ours; it is a pure state machine, fed samples, and unit-tested.
 *
 * @example
 * const limit = createVegasLimit({ initial: 10, min: 2, max: 40 });
 * limit.onSample(0.4, 9); // a statement took 0.4 ms with 9 in flight
 * limit.limit;            // the current cap
 */

export interface VegasOptions {
  initial: number;
  min: number;
  max: number;
  /** Samples averaged into one latency observation before the limit moves. */
  windowSize?: number;
  /** Smoothing of limit changes, 0..1 (1 = take each new estimate as is). */
  smoothing?: number;
  /** Forget the best latency and learn it anew this often (ms). */
  probeIntervalMs?: number;
  now?: () => number;
}

export interface ConcurrencyLimit {
  /** Current cap on statements in flight. */
  readonly limit: number;
  /** Best average statement latency seen since the last probe (ms). */
  readonly noLoadRttMs: number;
  /** Feeds one statement's execution time and the in-flight count when it started. */
  onSample(rttMs: number, inflight: number): void;
}

export function createVegasLimit(options: VegasOptions): ConcurrencyLimit {
  const windowSize = options.windowSize ?? 50;
  const smoothing = options.smoothing ?? 0.5;
  const probeIntervalMs = options.probeIntervalMs ?? 60_000;
  const now = options.now ?? Date.now;
  let estimate = clamp(options.initial, options.min, options.max);
  let noLoadRtt = Infinity;
  let probedAt = now();
  let sum = 0;
  let count = 0;
  let maxInflight = 0;

  function clamp(v: number, lo: number, hi: number): number {
    return Math.min(hi, Math.max(lo, v));
  }

  function update(rtt: number, inflight: number): void {
    if (now() - probedAt >= probeIntervalMs) {
      // Forget the old best so a lasting shift (more data, a new plan) is learned.
      probedAt = now();
      noLoadRtt = rtt;
    }
    if (rtt < noLoadRtt) noLoadRtt = rtt;
    const limit = estimate;
    // Thresholds scale with log10 of the limit, as in Netflix's Vegas; the
    // step is at least one connection so small limits still move.
    const log = Math.log10(Math.max(2, limit));
    const alpha = 3 * log;
    const beta = 6 * log;
    const step = Math.max(1, log);
    const queue = limit * (1 - noLoadRtt / rtt);
    let next: number;
    if (queue > beta) next = limit - step;
    else if (queue < alpha && inflight * 2 >= limit) next = limit + step;
    else return;
    estimate = clamp(limit * (1 - smoothing) + next * smoothing, options.min, options.max);
  }

  return {
    get limit() {
      return Math.max(options.min, Math.floor(estimate));
    },
    get noLoadRttMs() {
      return noLoadRtt;
    },
    onSample: function onSample(rttMs: number, inflight: number) {
      sum += rttMs;
      count++;
      if (inflight > maxInflight) maxInflight = inflight;
      if (count < windowSize) return;
      update(sum / count, maxInflight);
      sum = 0;
      count = 0;
      maxInflight = 0;
    },
  };
}
