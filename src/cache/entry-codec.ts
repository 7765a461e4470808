/**
 * How an entry is laid out in one Redis string: freshness deadline, the tag
 * versions it was loaded under, then the value's JSON, one per line.
 *
 * Plain lines rather than a JSON envelope so the value is not escaped a
 * second time (it would grow by every quote it contains); JSON never holds a
 * raw newline, so the first two newlines are unambiguous.
 */

/** A decoded entry. */
export interface EncodedEntry {
  freshUntil: number;
  versions: string;
  json: string;
}

/**
 * Joins the parts; `versions` must not contain a newline (ours are UUID-based).
 *
 * @example
 * encodeEntry({ freshUntil: Date.now() + 30_000, versions: 'a:2 b:3', json: '{"id":7}' });
 */
export function encodeEntry(entry: EncodedEntry): string {
  return `${entry.freshUntil}\n${entry.versions}\n${entry.json}`;
}

/**
 * Splits what {@link encodeEntry} wrote; undefined for anything else, which
 * the cache treats as a miss (say, an entry written by another version).
 *
 * @example
 * decodeEntry('1700000000000\na:2\n{"id":7}'); // { freshUntil: 1700000000000, versions: 'a:2', json: '{"id":7}' }
 */
export function decodeEntry(raw: string): EncodedEntry | undefined {
  const first = raw.indexOf('\n');
  const second = first < 0 ? -1 : raw.indexOf('\n', first + 1);
  if (second < 0) return undefined;
  const freshUntil = Number(raw.slice(0, first));
  if (!Number.isFinite(freshUntil)) return undefined;
  return { freshUntil, versions: raw.slice(first + 1, second), json: raw.slice(second + 1) };
}
