/**
 * How far V8 lets the old generation grow past what survived the last full
 * GC before it collects again.
 *
 * Why: V8's default factor adapts up to about 4× for throughput. Under many
 * concurrent requests, in-flight objects outlive two scavenges, get
 * promoted, and die in the old generation; with that factor the heap swells
 * from about 40 MB live to 160 MB between full GCs, and RSS follows.
 * Measured with `wrk -t2 -c1000` on product by id (docs/MEMORY.md): peak
 * RSS 253–265 MB by default, 159–165 MB at 50%, with the same throughput
 * (the smaller heap's full GCs are short: 5–14 ms each, mostly incremental).
 *
 * It is a process-wide V8 flag, set before the service allocates much; V8
 * reads it at every full GC, so setting it at run time takes effect.
 *
 * @example
 * applyHeapGrowth(50); // grow to 1.5× the live size, then collect
 * applyHeapGrowth(0);  // leave V8's own heuristics
 */
import { setFlagsFromString } from 'node:v8';

/** @example applyHeapGrowth(config.runtime.heapGrowingPercent); */
export function applyHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${Math.round(percent)}`);
}
