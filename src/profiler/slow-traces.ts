/**
 * The trace ids of a fingerprint's slowest recent calls: where an operator
 * looking at /admin/queries goes next (the trace, then the plan). Bounded:
 * at most {@link KEPT} per fingerprint, each forgotten after
 * {@link WINDOW_MS}, so "slowest" means slowest lately, not since start.
 * Only sampled traces are offered (an unsampled id leads nowhere).
 *
 * @example
 * const kept: SlowTrace[] = [];
 * offerSlowTrace(kept, { traceId: '4bf9…', durationMs: 120, at: Date.now() });
 */
export interface SlowTrace {
  traceId: string;
  durationMs: number;
  /** Epoch ms of the call. */
  at: number;
}

export const KEPT = 5;
export const WINDOW_MS = 15 * 60_000;

/**
 * Keeps `call` in `kept` if it is among the slowest of the window.
 *
 * @example
 * offerSlowTrace(entry.slowTraces, { traceId, durationMs, at: now });
 */
export function offerSlowTrace(kept: SlowTrace[], call: SlowTrace): void {
  for (let i = kept.length - 1; i >= 0; i--) if (call.at - kept[i]!.at > WINDOW_MS) kept.splice(i, 1);
  if (kept.length < KEPT) {
    kept.push(call);
    return;
  }
  let fastest = 0;
  for (let i = 1; i < kept.length; i++) if (kept[i]!.durationMs < kept[fastest]!.durationMs) fastest = i;
  if (call.durationMs > kept[fastest]!.durationMs) kept[fastest] = call;
}

/** Slowest first, as reported. */
export function slowestFirst(kept: readonly SlowTrace[], now: number): { traceId: string; durationMs: number; at: string }[] {
  return kept
    .filter((t) => now - t.at <= WINDOW_MS)
    .sort((a, b) => b.durationMs - a.durationMs)
    .map((t) => ({ traceId: t.traceId, durationMs: Math.round(t.durationMs * 1000) / 1000, at: new Date(t.at).toISOString() }));
}
