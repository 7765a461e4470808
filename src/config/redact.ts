/**
 * What of a setting may be shown. Secret settings (`secret: true` in
 * settings.ts) never appear in error messages or config dumps; URLs show
 * without their password; kinds that hold secrets in structure (API keys)
 * show only what is safe (names and scopes).
 *
 * @example
 * redactUrl('postgres://app:s3cret@db:5432/shop') // 'postgres://app:***@db:5432/shop'
 */
import type { Kind } from './kinds.ts';

export const REDACTED = '<redacted>';

/** Removes the password from a connection URL so that it can be logged. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass|secret|token|key/i.test(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString();
  } catch {
    // Not a URL we can parse: show nothing of it rather than risk a secret.
    return '<unparseable url>';
  }
}

interface Shown {
  kind: Kind<unknown>;
  secret?: boolean;
}

/** A raw environment value as an error message may quote it. */
export function maskRaw(setting: Shown, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (setting.secret === true) return REDACTED;
  return setting.kind.mask === undefined ? raw : setting.kind.mask(raw);
}

/** A parsed value as a config dump may show it. */
export function showValue(setting: Shown, value: unknown): unknown {
  if (value === undefined) return undefined;
  // A kind's own `show` is written to be safe for secrets (API keys: names only).
  if (setting.kind.show !== undefined) return setting.kind.show(value);
  return setting.secret === true ? REDACTED : value;
}
