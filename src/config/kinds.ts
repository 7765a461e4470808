/**
 * The kinds of value a setting can hold, each a small typed parser of one
 * environment string.
 *
 * Why our own and not a schema library: the project has one schema library,
 * TypeBox, and it describes HTTP payloads (JSON values). Settings are single
 * strings that need trimming, unit conversion, bounds with a readable
 * "must be …" sentence, and secret-aware display; a ten-line parser per kind
 * says that more plainly than a schema would, and keeps zod out of the tree.
 *
 * A kind never sees `undefined`: the loader (loader.ts) substitutes the row's
 * default, or calls `whenUnset` for kinds that have no default (optional ones).
 */
import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { redactUrl } from './redact.ts';
import { parseHostsUrl, redactHostsUrl } from '../db/hosts/url.ts';
import { PRIORITIES, parsePriorityTable, type PriorityRule } from '../context/priority.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

export interface Kind<T> {
  /** Parses one trimmed environment string. */
  parse(raw: string): Parsed<T>;
  /** What the allowed values are, for the README table. */
  readonly allowed: string;
  /** The value when the variable is unset and the row has no default. */
  whenUnset?(): T;
  /** How "unset" reads in the docs (e.g. `random`). */
  readonly unsetLabel?: string;
  /** A raw value as it may be shown in an error message (e.g. a URL without its password). */
  mask?(raw: string): string;
  /** A parsed value as it may be shown in a config dump; kinds without it show the value itself (or `<redacted>` for secrets). */
  show?(value: T): unknown;
}

const MAX_INT = 2_147_483_647;
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (message: string): Parsed<never> => ({ ok: false, message });

/** A whole number in [min, max]; `scale` converts the unit (seconds given, milliseconds kept: 1000). */
export function int(bounds: { min: number; max?: number; scale?: number }): Kind<number> {
  const { min, max = MAX_INT, scale = 1 } = bounds;
  const allowed = max === MAX_INT ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`;
  return {
    allowed,
    parse: (s) => (/^-?\d+$/.test(s) && Number(s) >= min && Number(s) <= max ? ok(Number(s) * scale) : bad(`must be ${allowed}`)),
  };
}

/** A duration given in whole seconds and kept in milliseconds. */
export function secondsAsMs(bounds: { min: number; max?: number }): Kind<number> {
  const kind = int({ ...bounds, scale: 1000 });
  return { ...kind, allowed: `${kind.allowed} (seconds)` };
}

/** A number in (0, 1], e.g. a fraction of the heap limit; with `zero`, in [0, 1] (0 turning something off). */
export function fraction(options: { zero?: boolean } = {}): Kind<number> {
  const zero = options.zero === true;
  const allowed = zero ? 'a number from 0 to 1' : 'a number greater than 0 and at most 1';
  return {
    allowed,
    parse: (s) => (/^(0(\.\d+)?|1(\.0+)?)$/.test(s) && (zero || Number(s) > 0) ? ok(Number(s)) : bad(`must be ${allowed}`)),
  };
}

/** The route priority table, `METHOD /route=class,…` (src/context/priority.ts). */
export function priorityTable(): Kind<readonly PriorityRule[]> {
  return { allowed: `comma-separated METHOD /route=${PRIORITIES.join('|')} (\`*\` ends a prefix)`, parse: parsePriorityTable };
}

/** One of `values`, case-insensitive. */
export function oneOf<const V extends readonly [string, ...string[]]>(values: V): Kind<V[number]> {
  const allowed = `one of ${values.join(', ')}`;
  return {
    allowed,
    parse: (s) => {
      const v = s.toLowerCase();
      return (values as readonly string[]).includes(v) ? ok(v as V[number]) : bad(`must be ${allowed}`);
    },
  };
}

export function bool(): Kind<boolean> {
  const words = oneOf(['true', 'false', '1', '0', 'yes', 'no']);
  return {
    allowed: 'true/false (also 1/0, yes/no)',
    parse: (s) => {
      const r = words.parse(s);
      return r.ok ? ok(r.value === 'true' || r.value === '1' || r.value === 'yes') : r;
    },
  };
}

/** Any non-empty text. */
export function text(): Kind<string> {
  return { allowed: 'text', parse: (s) => (s === '' ? bad('must not be empty') : ok(s)) };
}

/** Wraps a kind so that unset or empty means `undefined`. */
export function optional<T>(kind: Kind<T>, unsetLabel = 'unset'): Kind<T | undefined> {
  const wrapped: Kind<T | undefined> = {
    ...(kind as Kind<T | undefined>),
    unsetLabel,
    whenUnset: () => undefined,
    parse: (s) => (s === '' ? ok(undefined) : kind.parse(s)),
  };
  // Only a kind's own `show` is carried over: without one, redact.ts decides (a secret shows as <redacted>).
  const show = kind.show;
  if (show !== undefined) wrapped.show = (v) => (v === undefined ? v : show(v));
  return wrapped;
}

/** Shortest token or secret accepted: a shorter one can be guessed (docs/SECURITY.md). */
export const MIN_SECRET_LENGTH = 16;

/** A token or secret: at least {@link MIN_SECRET_LENGTH} characters. */
export function secretText(): Kind<string> {
  return {
    allowed: `text of at least ${MIN_SECRET_LENGTH} characters`,
    parse: (s) =>
      s.length >= MIN_SECRET_LENGTH
        ? ok(s)
        : bad(`must be at least ${MIN_SECRET_LENGTH} characters (e.g. \`openssl rand -base64 32\`), or unset`),
  };
}

/** A secret that, when unset, is random per process (e.g. a signing key). */
export function randomWhenUnset(bytes: number): Kind<string> {
  return { ...secretText(), unsetLabel: 'random', whenUnset: () => randomBytes(bytes).toString('base64url') };
}

/**
 * A URL; its password and secret-looking query parameters never show, in
 * errors or dumps. `prefix` checks only the scheme (as ioredis reads URLs
 * its own way); otherwise the URL must parse.
 */
export function url(options: { schemes: readonly string[]; prefix?: boolean; message: string }): Kind<string> {
  const { schemes, prefix = false, message } = options;
  const valid = (s: string): boolean => {
    if (prefix) return schemes.some((scheme) => s.startsWith(`${scheme}://`));
    try {
      return schemes.includes(new URL(s).protocol.slice(0, -1));
    } catch {
      return false;
    }
  };
  return {
    allowed: `a ${schemes.map((s) => `${s}://`).join(' or ')} URL`,
    parse: (s) => (valid(s) ? ok(s) : bad(message)),
    mask: redactUrl,
    show: redactUrl,
  };
}

/**
 * A PostgreSQL URL, single-host or libpq's multi-host form
 * (`postgres://u@h1:5432,h2:5433/db?target_session_attrs=read-write`),
 * which WHATWG URL parsing rejects; the password never shows.
 */
export function postgresUrl(message: string): Kind<string> {
  const valid = (s: string): boolean => {
    try {
      parseHostsUrl(s);
      return true;
    } catch {
      return false;
    }
  };
  return {
    allowed: 'a postgres:// or postgresql:// URL (several hosts separated by commas)',
    parse: (s) => (valid(s) ? ok(s) : bad(message)),
    mask: redactHostsUrl,
    show: redactHostsUrl,
  };
}

/** Comma-separated URLs (read replicas); passwords never show, in errors or dumps. Empty is the empty list. */
export function urlList(options: { schemes: readonly string[]; message: string }): Kind<readonly string[]> {
  const one = url({ ...options });
  const maskAll = (raw: string): string =>
    raw
      .split(',')
      .map((x) => redactUrl(x.trim()))
      .join(',');
  return {
    allowed: `comma-separated ${options.schemes.map((s) => `${s}://`).join(' or ')} URLs`,
    parse: (s) => {
      const items = s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '');
      return items.every((x) => one.parse(x).ok) ? ok(items) : bad(options.message);
    },
    mask: maskAll,
    show: (value) => value.map(redactUrl),
  };
}

/** A comma-separated list; blanks are dropped, so empty is the empty list. */
export function list(): Kind<readonly string[]> {
  return {
    allowed: 'comma-separated list',
    parse: (s) =>
      ok(
        s
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x !== ''),
      ),
  };
}

/** The rate-limit allow-list: addresses show in dumps, API keys only as a count. */
export function allowList(): Kind<readonly string[]> {
  const isAddress = (entry: string): boolean => isIP(entry.split('/')[0] ?? '') !== 0;
  return {
    ...list(),
    allowed: 'comma-separated IPs, CIDRs or API keys',
    show: (entries) => {
      const keys = entries.filter((e) => !isAddress(e)).length;
      return entries.filter(isAddress).concat(keys > 0 ? [`<${keys} API keys>`] : []);
    },
  };
}

/** Fastify's trustProxy: false, a hop count, or proxy addresses/CIDRs (never `true`). */
export function trustProxy(): Kind<false | number | string> {
  // `true` (trust every hop) would let a client name its own address in X-Forwarded-For.
  const message =
    'must be false, the number of proxies in front of the service (e.g. 1), or a comma-separated list of their addresses/CIDRs; `true` is refused because it trusts a client-sent X-Forwarded-For';
  return {
    allowed: 'false, a hop count, or proxy addresses/CIDRs',
    parse: (s) => {
      const v = s.toLowerCase();
      if (v === '' || v === 'true') return bad(message);
      if (v === 'false') return ok(false);
      if (/^\d+$/.test(v)) return ok(Number(v));
      return ok(s); // addresses/CIDRs, comma-separated, as Fastify accepts them
    },
  };
}

/** One API key, as configured: only its SHA-256 is kept in memory. */
export interface ApiKey {
  name: string;
  /** SHA-256 of the key, hex; the key itself is dropped after loading. */
  sha256: string;
  scope: 'read' | 'write';
}

const API_KEY_ENTRY = /^[A-Za-z0-9_.-]{1,64}:[\x21-\x2b\x2d-\x39\x3b-\x7e]{16,256}(:(read|write))?$/;

/** `name:key[:read|write],…`; keys are hashed at once and dumps show names and scopes only. */
export function apiKeys(): Kind<readonly ApiKey[]> {
  return {
    allowed: 'comma-separated name:key[:read|write]',
    parse: (s) => {
      if (s === '') return ok([]);
      const entries = s.split(',').map((e) => e.trim());
      if (!entries.every((e) => API_KEY_ENTRY.test(e))) {
        return bad(
          'must be comma-separated name:key[:read|write] entries; names [A-Za-z0-9_.-], keys 16–256 visible characters without commas or colons',
        );
      }
      return ok(
        entries.map((entry) => {
          const [name, key, scope] = entry.split(':') as [string, string, string | undefined];
          return { name, sha256: createHash('sha256').update(key).digest('hex'), scope: scope === 'read' ? 'read' : 'write' };
        }),
      );
    },
    show: (keys) => keys.map((k) => ({ name: k.name, scope: k.scope })),
  };
}
