/**
 * Leak suspicion: a heap floor that climbs steadily.
 *
 * Heap used saws up and down with every GC, so the trend is read from its
 * floor: readings (heap after a major GC when known, else heap used) are
 * reduced to the minimum per bucket (default 30 s), and a least-squares line
 * is fitted through the buckets of a sliding window (default 10 min). A leak
 * is suspected when there are enough buckets (default 10), the slope is at
 * least `minSlopeMbPerMin` (default 1 MB/min) and the fit is good (r² ≥ 0.8 by
 * default), so a flat or noisy heap does not qualify however large it is.
 * It is a suspicion, for a human to confirm with a heap snapshot, never a
 * reason to shed load.
 */

export interface LeakOptions {
  /** How far back the trend looks. Default 600 000 (10 min). */
  windowMs: number;
  /** Readings within one bucket are reduced to their minimum. Default 30 000. */
  bucketMs: number;
  /** Buckets needed before any verdict. Default 10. */
  minPoints: number;
  /** Growth that counts as a leak. Default 1 MB/min. */
  minSlopeMbPerMin: number;
  /** How well a straight line must fit (coefficient of determination). Default 0.8. */
  minR2: number;
}

/**
 * @example
 * createLeakDetector({ ...DEFAULT_LEAK_OPTIONS, minSlopeMbPerMin: 0.5 });
 */
export const DEFAULT_LEAK_OPTIONS: Readonly<LeakOptions> = Object.freeze({
  windowMs: 600_000,
  bucketMs: 30_000,
  minPoints: 10,
  minSlopeMbPerMin: 1,
  minR2: 0.8,
});

export interface LeakVerdict {
  suspected: boolean;
  /** Present once there are `minPoints` buckets. */
  slopeMbPerMin?: number;
  r2?: number;
  points: number;
}

interface Point {
  atMs: number;
  mb: number;
}

/**
 * @example
 * const leak = createLeakDetector({ windowMs: 600_000 });
 * leak.add(Date.now(), sample.heapAfterGcMb ?? sample.heapUsedMb);
 * leak.verdict(); // { suspected: false, points: 3 }
 */
export function createLeakDetector(options: Partial<LeakOptions> = {}) {
  const o: LeakOptions = { ...DEFAULT_LEAK_OPTIONS, ...options };
  const points: Point[] = [];
  let bucket: { startMs: number; low: Point } | undefined;
  let current: LeakVerdict = { suspected: false, points: 0 };

  function add(atMs: number, heapMb: number): void {
    if (!Number.isFinite(heapMb)) return;
    if (bucket !== undefined && atMs - bucket.startMs < o.bucketMs) {
      if (heapMb < bucket.low.mb) bucket.low = { atMs, mb: heapMb };
      return;
    }
    if (bucket !== undefined) {
      points.push(bucket.low);
      while (points.length > 0 && points[0]!.atMs < atMs - o.windowMs) points.shift();
      current = fit(points, o);
    }
    bucket = { startMs: atMs, low: { atMs, mb: heapMb } };
  }

  return { add, verdict: (): LeakVerdict => current, options: o };
}

export type LeakDetector = ReturnType<typeof createLeakDetector>;

function fit(points: readonly Point[], o: LeakOptions): LeakVerdict {
  const n = points.length;
  if (n < o.minPoints) return { suspected: false, points: n };
  const x0 = points[0]!.atMs;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += (p.atMs - x0) / 60_000;
    sy += p.mb;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const p of points) {
    const dx = (p.atMs - x0) / 60_000 - mx;
    const dy = p.mb - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return { suspected: false, points: n };
  const slope = sxy / sxx;
  // A perfectly flat series has no variance to explain: no fit, no leak.
  const r2 = syy === 0 ? 0 : (sxy * sxy) / (sxx * syy);
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    suspected: slope >= o.minSlopeMbPerMin && r2 >= o.minR2,
    slopeMbPerMin: round(slope),
    r2: round(r2),
    points: n,
  };
}
