/**
 * The pressure monitor: samples memory and the event loop on a timer,
 * turns the numbers into ok / warning / critical, sheds load while
 * critical, writes a heap snapshot on the way in, and watches the heap floor
 * for a leak. Health and metrics read it through `snapshot()`.
 *
 * States (see hysteresis.ts for the exact rule): a signal at or above its
 * warning or critical threshold raises the state at once; a level is left
 * only after the signal has stayed below 90% of that threshold for 3
 * consecutive samples, so a value hovering at a threshold does not flap.
 * Each transition is logged once, with the numbers and the signals that
 * crossed; samples in between log nothing.
 *
 * Why not `@fastify/under-pressure`: it covers event-loop delay, ELU, heap
 * and RSS thresholds with a 503, but has one level (no warning state), no
 * hysteresis (it flips on every sample), no heap snapshot and no leak
 * detection; its exemptions are per-route config, so every new route would
 * be shed or not by whoever remembers to opt out; its 503 body is not our
 * problem+json unless rewired; and it is one more dependency to track. The
 * part it would save (a sampler and a boolean hook) is the small part, so
 * Holdfast does it itself.
 */
import type { FastifyPluginCallback } from 'fastify';
import { AppError } from '../../errors/app-error.ts';
import { createHeapSnapshotter } from './heap-snapshot.ts';
import { createPressureStates } from './hysteresis.ts';
import { createLeakDetector, type LeakOptions } from './leak.ts';
import type { PressureLogger } from './logger.ts';
import { pressurePlugin, type ShedGate } from './plugin.ts';
import { createProcessSampler, type ProcessSampler, type Sample } from './sampler.ts';
import { mergeThresholds, thresholdsOf, type PressureLevel, type PressureThresholds } from './signals.ts';

export type { PressureLevel, PressureThresholds } from './signals.ts';
export type { Sample } from './sampler.ts';

/** `config.pressure`. */
export interface PressureMonitorSettings extends PressureThresholds {
  sampleMs: number;
  heapSnapshotDir: string | undefined;
  heapSnapshotMinIntervalS: number;
}

export interface PressureMonitorOptions {
  logger: PressureLogger;
  /** Replaces the process sampler (tests); called once per tick. */
  sample?: () => Sample;
  /** Clock in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Hysteresis: calm means below this fraction of a threshold. Default 0.9. */
  exitFraction?: number;
  /** Hysteresis: consecutive calm samples to leave a level. Default 3. */
  exitSamples?: number;
  /** Leak window and thresholds; defaults in leak.ts (10 min, 1 MB/min, r² ≥ 0.8). */
  leak?: Partial<LeakOptions>;
  /** Paths never shed; default `/api/health`, `/api/ready`, `/metrics`, `/admin/*`. */
  exempt?: readonly string[];
  /** Replaces `v8.writeHeapSnapshot` (tests). */
  writeHeapSnapshot?: (path: string) => string;
}

/** What health and metrics read. Sizes in MB, rounded to 0.1. */
export interface PressureSnapshot extends Omit<Sample, 'heapAfterGcMb'> {
  state: PressureLevel;
  /** Why the state is not ok, one entry per signal, with numbers. Empty when ok. */
  reasons: string[];
  leakSuspected: boolean;
  /** Heap-floor trend over the leak window, once there are enough points. */
  leakSlopeMbPerMin?: number;
  /** When the current state began (ISO 8601). */
  since: string;
}

export interface PressureMonitor {
  /** Starts sampling every `sampleMs` (unref'd timer). Idempotent. */
  start(): void;
  /** Stops sampling; the state stays as last sampled. Idempotent. */
  stop(): void;
  /** Takes one sample now and applies it; the timer calls this. */
  tick(): PressureSnapshot;
  state(): PressureLevel;
  snapshot(): PressureSnapshot;
  /** Requests shed since start, cumulative. */
  readonly shed: number;
  thresholds(): PressureThresholds;
  /** Changes thresholds at run time; takes effect at the next sample, hysteresis included. Throws VALIDATION_FAILED. */
  setThresholds(change: Partial<PressureThresholds>): PressureThresholds;
  /** The shedding hook; register it before the routes it guards. */
  plugin: FastifyPluginCallback;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * @example
 * const pressure = createPressureMonitor(config.pressure, { logger: logger.child({ component: 'pressure' }) });
 * pressure.start();
 * await app.register(pressure.plugin);
 * // GET /api/health → { …, pressure: pressure.snapshot() }
 * // on shutdown: pressure.stop();
 */
export function createPressureMonitor(settings: PressureMonitorSettings, options: PressureMonitorOptions): PressureMonitor {
  const { logger } = options;
  const now = options.now ?? Date.now;
  let thresholds = thresholdsOf(settings);
  const states = createPressureStates(() => thresholds, { exitFraction: options.exitFraction, exitSamples: options.exitSamples });
  const leak = createLeakDetector(options.leak);
  const snapshots = createHeapSnapshotter({
    dir: settings.heapSnapshotDir,
    minIntervalS: settings.heapSnapshotMinIntervalS,
    logger,
    now,
    write: options.writeHeapSnapshot,
  });
  // The soonest shedding can end is exitSamples calm samples from now.
  const retryAfterSeconds = Math.max(1, Math.ceil((settings.sampleMs * states.exitSamples) / 1000));

  let level: PressureLevel = 'ok';
  let sinceMs = now();
  let reasons: string[] = [];
  let last: Sample | undefined;
  let leakSuspected = false;
  let shed = 0;
  let timer: NodeJS.Timeout | undefined;
  let sampler: ProcessSampler | undefined;
  let detail = '';

  const gate: ShedGate & { shedding: boolean } = {
    shedding: false,
    refuse() {
      shed += 1;
      return new AppError('OVERLOADED', detail, { retryAfterSeconds });
    },
  };

  function readSample(): Sample {
    if (options.sample !== undefined) return options.sample();
    sampler ??= createProcessSampler();
    return sampler.sample();
  }

  function tick(): PressureSnapshot {
    const sample = readSample();
    last = sample;
    current = undefined; // the next read rebuilds the snapshot from this sample
    const at = now();
    const evaluation = states.observe(sample);
    const from = level;
    reasons = evaluation.reasons;
    // Client-facing: which signals, never the numbers.
    if (evaluation.level === 'critical')
      detail = `shedding load: ${evaluation.labels.join(', ')} critical; retry after ${retryAfterSeconds}s`;
    if (evaluation.level !== from) {
      level = evaluation.level;
      sinceMs = at;
      gate.shedding = level === 'critical';
      logTransition(from, sample);
      if (level === 'critical') snapshots.onCritical(reasons);
    }
    observeLeak(at, sample);
    return snapshot();
  }

  function logTransition(from: PressureLevel, sample: Sample): void {
    const fields = { pressure: { from, to: level, reasons, ...numbers(sample) } };
    if (level === 'critical') logger.error(fields, 'pressure critical: shedding load');
    else if (level === 'warning')
      logger.warn(fields, from === 'critical' ? 'pressure eased to warning: shedding stopped' : 'pressure warning');
    else logger.info(fields, from === 'critical' ? 'pressure back to ok: shedding stopped' : 'pressure back to ok');
  }

  function observeLeak(at: number, sample: Sample): void {
    leak.add(at, sample.heapAfterGcMb ?? sample.heapUsedMb);
    const verdict = leak.verdict();
    if (verdict.suspected === leakSuspected) return;
    leakSuspected = verdict.suspected;
    const fields = {
      leak: { slopeMbPerMin: verdict.slopeMbPerMin, r2: verdict.r2, points: verdict.points, windowMs: leak.options.windowMs },
    };
    if (leakSuspected) logger.warn(fields, 'heap leak suspected: the heap floor keeps climbing');
    else logger.info(fields, 'heap leak suspicion cleared');
  }

  /**
   * Everything a snapshot reads changes only in `tick` (state, reasons, the
   * sample, the leak verdict), so it is built once per sample rather than
   * on every read: GET /api/health reads it per request, and rebuilding it
   * (an ISO date, a copied array, six roundings) was the biggest cost of that
   * route after the socket write (docs/BENCHMARKS.md). Frozen, because every
   * reader shares the one object.
   */
  let current: PressureSnapshot | undefined;

  function snapshot(): PressureSnapshot {
    return (current ??= buildSnapshot());
  }

  function buildSnapshot(): PressureSnapshot {
    const result: PressureSnapshot = {
      state: level,
      reasons: [...reasons],
      ...numbers(last),
      leakSuspected,
      since: new Date(sinceMs).toISOString(),
    };
    const slope = leak.verdict().slopeMbPerMin;
    if (slope !== undefined) result.leakSlopeMbPerMin = slope;
    Object.freeze(result.reasons);
    return Object.freeze(result);
  }

  function safeTick(): void {
    try {
      tick();
    } catch (err) {
      logger.error({ err }, 'pressure sample failed');
    }
  }

  return {
    start() {
      if (timer !== undefined) return;
      if (options.sample === undefined) sampler ??= createProcessSampler();
      // A first reading now, so health never reports zeros for the first interval.
      safeTick();
      timer = setInterval(safeTick, settings.sampleMs);
      timer.unref();
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      sampler?.close();
      sampler = undefined;
    },
    tick,
    state: () => level,
    snapshot,
    get shed() {
      return shed;
    },
    thresholds: () => thresholds,
    setThresholds(change) {
      thresholds = mergeThresholds(thresholds, change);
      logger.info({ thresholds }, 'pressure thresholds changed');
      return thresholds;
    },
    plugin: pressurePlugin(gate, { exempt: options.exempt }),
  };
}

function numbers(sample: Sample | undefined) {
  return {
    rssMb: round1(sample?.rssMb ?? 0),
    heapUsedMb: round1(sample?.heapUsedMb ?? 0),
    heapLimitMb: round1(sample?.heapLimitMb ?? 0),
    externalMb: round1(sample?.externalMb ?? 0),
    eventLoopDelayP99Ms: round1(sample?.eventLoopDelayP99Ms ?? 0),
    eventLoopUtilization: Math.round((sample?.eventLoopUtilization ?? 0) * 1000) / 1000,
  };
}
