/**
 * The three pressure signals (RSS, heap used as a fraction of the V8 heap
 * limit, event-loop delay p99), their thresholds, and how each is described
 * in logs and in health.
 *
 * Kept apart from the state machine so that adding a signal is one entry
 * here, and so that operator-supplied thresholds are validated in one place.
 */
import { AppError } from '../../errors/app-error.ts';
import type { PressureSettings } from '../../config/index.ts';

export type PressureLevel = 'ok' | 'warning' | 'critical';

/** The tunable limits: the threshold part of `config.pressure`. */
export type PressureThresholds = Pick<
  PressureSettings,
  'memoryWarnMb' | 'memoryCriticalMb' | 'heapWarnFraction' | 'heapCriticalFraction' | 'eventLoopDelayWarnMs' | 'eventLoopDelayMaxMs'
>;

/** The part of a sample the signals read. */
export interface SignalInput {
  rssMb: number;
  heapUsedMb: number;
  heapLimitMb: number;
  eventLoopDelayP99Ms: number;
}

export type SignalName = 'rss' | 'heap' | 'eventLoopDelay';

export interface Signal {
  name: SignalName;
  /** Words a client may see in a 503 detail: no numbers. */
  label: string;
  value(input: SignalInput): number;
  threshold(t: PressureThresholds, level: Exclude<PressureLevel, 'ok'>): number;
  /** The value and the threshold, for logs and health. */
  format(value: number, input: SignalInput): string;
  formatThreshold(threshold: number): string;
}

const mb = (n: number) => `${n.toFixed(1)} MB`;
const percent = (n: number) => `${Math.round(n * 1000) / 10}%`;

/**
 * Every signal, in the order reasons are listed.
 *
 * @example
 * SIGNALS.map((s) => s.value({ rssMb: 600, heapUsedMb: 100, heapLimitMb: 4096, eventLoopDelayP99Ms: 12 }));
 */
export const SIGNALS: readonly Signal[] = [
  {
    name: 'rss',
    label: 'resident memory',
    value: (input) => input.rssMb,
    threshold: (t, level) => (level === 'critical' ? t.memoryCriticalMb : t.memoryWarnMb),
    format: (value) => `rss ${mb(value)}`,
    formatThreshold: mb,
  },
  {
    name: 'heap',
    label: 'heap usage',
    // A zero limit only comes from a broken sampler; it must not read as 100%.
    value: (input) => (input.heapLimitMb > 0 ? input.heapUsedMb / input.heapLimitMb : 0),
    threshold: (t, level) => (level === 'critical' ? t.heapCriticalFraction : t.heapWarnFraction),
    format: (value, input) => `heap used ${mb(input.heapUsedMb)} = ${percent(value)} of the ${mb(input.heapLimitMb)} limit`,
    formatThreshold: percent,
  },
  {
    name: 'eventLoopDelay',
    label: 'event-loop delay',
    value: (input) => input.eventLoopDelayP99Ms,
    threshold: (t, level) => (level === 'critical' ? t.eventLoopDelayMaxMs : t.eventLoopDelayWarnMs),
    format: (value) => `event-loop delay p99 ${Math.round(value)} ms`,
    formatThreshold: (n) => `${Math.round(n)} ms`,
  },
];

const PAIRS = [
  ['memoryWarnMb', 'memoryCriticalMb'],
  ['heapWarnFraction', 'heapCriticalFraction'],
  ['eventLoopDelayWarnMs', 'eventLoopDelayMaxMs'],
] as const;

/**
 * `current` with `change` applied, or a VALIDATION_FAILED AppError naming
 * the bad field: thresholds may come from an operator's admin request.
 *
 * @example
 * mergeThresholds(current, { memoryCriticalMb: 2048 }); // → new, frozen thresholds
 */
export function mergeThresholds(current: PressureThresholds, change: Partial<PressureThresholds>): PressureThresholds {
  const next = { ...current };
  for (const [name, value] of Object.entries(change) as [keyof PressureThresholds, unknown][]) {
    if (!(name in current)) throw new AppError('VALIDATION_FAILED', `unknown pressure threshold ${name}`, { field: name });
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new AppError('VALIDATION_FAILED', `${name} must be a positive number`, { field: name });
    }
    if (name.endsWith('Fraction') && value > 1) {
      throw new AppError('VALIDATION_FAILED', `${name} must not exceed 1`, { field: name });
    }
    next[name] = value;
  }
  for (const [warn, critical] of PAIRS) {
    if (next[warn] > next[critical]) {
      throw new AppError('VALIDATION_FAILED', `${warn} (${next[warn]}) must not exceed ${critical} (${next[critical]})`, { field: warn });
    }
  }
  return Object.freeze(next);
}

/**
 * Just the thresholds out of `config.pressure`, which also carries timing and snapshot settings.
 *
 * @example
 * const thresholds = thresholdsOf(config.pressure);
 */
export function thresholdsOf(settings: PressureThresholds): PressureThresholds {
  return mergeThresholds(
    {
      memoryWarnMb: settings.memoryWarnMb,
      memoryCriticalMb: settings.memoryCriticalMb,
      heapWarnFraction: settings.heapWarnFraction,
      heapCriticalFraction: settings.heapCriticalFraction,
      eventLoopDelayWarnMs: settings.eventLoopDelayWarnMs,
      eventLoopDelayMaxMs: settings.eventLoopDelayMaxMs,
    },
    {},
  );
}
