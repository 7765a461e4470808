/**
 * Durations and lists as people type them on a command line (`10s`, `2m`,
 * `50,100,150`), shared by `npm run loadtest` and `npm run bench` so both
 * accept the same spellings and reject the same mistakes.
 */

const UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };

/**
 * Milliseconds in `text`: a number with `ms`, `s` or `m`; a bare number is seconds.
 *
 * @example
 * parseDuration('10s'); // 10000
 * parseDuration('500ms'); // 500
 */
export function parseDuration(text: string, flag = 'duration', allowZero = false): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (match === null) throw new Error(`--${flag} must look like 10s, 500ms or 2m, got "${text}"`);
  const ms = Number(match[1]) * (UNITS_MS[match[2] ?? 's'] ?? 1000);
  if (ms < 0 || (ms === 0 && !allowZero)) throw new Error(`--${flag} must be longer than 0, got "${text}"`);
  return Math.round(ms);
}

/**
 * Positive whole numbers from a comma-separated list, in the order given.
 *
 * @example
 * parseIntList('50,100,150', 'levels'); // [50, 100, 150]
 */
export function parseIntList(text: string, flag: string): number[] {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0) throw new Error(`--${flag} needs at least one number`);
  return parts.map((part) => parsePositiveInt(part, flag));
}

/**
 * A whole number ≥ 1 (or ≥ `min`).
 *
 * @example
 * parsePositiveInt('100', 'connections'); // 100
 */
export function parsePositiveInt(text: string, flag: string, min = 1): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min) throw new Error(`--${flag} must be a whole number ≥ ${min}, got "${text}"`);
  return Number(text);
}

/**
 * `KEY=VALUE` pairs, as `--server-env` takes them.
 *
 * @example
 * parseAssignments(['DB_POOL_MAX=10'], 'server-env'); // { DB_POOL_MAX: '10' }
 */
export function parseAssignments(items: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`--${flag} takes KEY=VALUE, got "${item}"`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
