/**
 * The ok → warning → critical state machine, with hysteresis so a value
 * hovering at a threshold does not flap between states (and shedding does
 * not switch on and off every second).
 *
 * The rule, per signal and per level (warning, critical):
 * - enter at once: a sample at or above the threshold holds the level;
 * - leave slowly: the level is released only after `exitSamples`
 *   consecutive samples (default 3) below `exitFraction` × threshold
 *   (default 90%); a sample in the band between 90% and 100% restarts the count.
 * The state is the highest level any signal holds. Reasons name the signals
 * holding that level, with their numbers.
 */
import { SIGNALS, type PressureLevel, type PressureThresholds, type SignalInput, type SignalName } from './signals.ts';

export interface HysteresisOptions {
  /** Fraction of a threshold a signal must fall below to count as calm. Default 0.9. */
  exitFraction?: number;
  /** Consecutive calm samples needed to release a level. Default 3. */
  exitSamples?: number;
}

export interface Evaluation {
  level: PressureLevel;
  /** Why the level is not ok: one entry per signal holding it. */
  reasons: string[];
  /** Client-safe names of those signals (no numbers), for the 503 detail. */
  labels: string[];
}

type Alarm = Exclude<PressureLevel, 'ok'>;
interface Hold {
  active: boolean;
  calm: number;
}

/**
 * @example
 * const states = createPressureStates(() => thresholds, { exitSamples: 3 });
 * states.observe(sample); // { level: 'warning', reasons: ['rss 600.0 MB ≥ warning 512.0 MB'], labels: ['resident memory'] }
 */
export function createPressureStates(thresholds: () => PressureThresholds, options: HysteresisOptions = {}) {
  const exitFraction = options.exitFraction ?? 0.9;
  const exitSamples = options.exitSamples ?? 3;
  const holds = new Map<SignalName, Record<Alarm, Hold>>(
    SIGNALS.map((s) => [s.name, { warning: { active: false, calm: 0 }, critical: { active: false, calm: 0 } }]),
  );

  function observe(input: SignalInput): Evaluation {
    const t = thresholds();
    const held: Record<Alarm, string[]> = { warning: [], critical: [] };
    const labels: Record<Alarm, string[]> = { warning: [], critical: [] };
    for (const signal of SIGNALS) {
      const value = signal.value(input);
      const hold = holds.get(signal.name)!;
      for (const level of ['warning', 'critical'] as const) {
        const threshold = signal.threshold(t, level);
        const h = hold[level];
        if (value >= threshold) {
          h.active = true;
          h.calm = 0;
        } else if (value < threshold * exitFraction) {
          if (h.active && ++h.calm >= exitSamples) {
            h.active = false;
            h.calm = 0;
          }
        } else {
          h.calm = 0;
        }
        if (!h.active) continue;
        const shown = signal.format(value, input);
        held[level].push(
          value >= threshold
            ? `${shown} ≥ ${level} ${signal.formatThreshold(threshold)}`
            : `${shown}, was ≥ ${level} ${signal.formatThreshold(threshold)}; held until below ${signal.formatThreshold(threshold * exitFraction)} for ${exitSamples} samples`,
        );
        labels[level].push(signal.label);
      }
    }
    if (held.critical.length > 0) return { level: 'critical', reasons: held.critical, labels: labels.critical };
    if (held.warning.length > 0) return { level: 'warning', reasons: held.warning, labels: labels.warning };
    return { level: 'ok', reasons: [], labels: [] };
  }

  return { observe, exitFraction, exitSamples };
}

export type PressureStates = ReturnType<typeof createPressureStates>;
