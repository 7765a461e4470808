/**
 * SQL fragments the repositories share.
 *
 * Timestamps leave Postgres as ISO 8601 text with all six fractional digits:
 * a JS Date keeps only milliseconds, and a keyset cursor rounded to the
 * millisecond skips or repeats rows created within the same millisecond.
 * Formatting in UTC with an explicit pattern keeps the text independent of
 * the session's DateStyle and TimeZone, and Postgres parses it back exactly.
 */

/**
 * `column` as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
 *
 * @example
 * `SELECT ${isoTimestamp('created_at')} AS created_at FROM products`
 */
export function isoTimestamp(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/**
 * A LIKE pattern matching `text` anywhere, with `%`, `_` and the escape
 * character itself taken literally. Use with `ESCAPE '\'`.
 *
 * @example
 * containsPattern('50%_off') // '%50\%\_off%'
 */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

/** Sorts after every real row in a `(created_at, id) <` keyset comparison: the first page. */
export const KEYSET_START = Object.freeze({ createdAt: 'infinity', id: '9223372036854775807' });
