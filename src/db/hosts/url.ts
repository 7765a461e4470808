/**
 * libpq's multi-host connection URL, which pg 8 cannot parse:
 * `postgres://user@h1:5432,h2:5433/db?target_session_attrs=read-write`.
 * It is split here into one single-host URL per host, so that each pool
 * connection still goes through pg's own parser. A single-host URL is
 * returned untouched, so that configuration behaves exactly as before.
 * Only `host:port` is ever shown (`label`): the URLs carry the password.
 *
 * Not supported (libpq allows them): a `host=`/`port=` list in the query
 * string, and Unix-socket hosts in the authority.
 *
 * @example
 * const parsed = parseHostsUrl('postgres://app:pw@h1:5432,h2:5433/shop');
 * parsed.hosts.map((h) => h.label); // ['h1:5432', 'h2:5433']
 * parsed.target; // 'read-write' (the default when several hosts are named)
 */
import { isTargetSessionAttrs, type TargetSessionAttrs } from './target.ts';

export interface HostConfig {
  /** `host:port`, safe to log and to use as a metrics label. */
  label: string;
  /** The host alone (an IPv6 address without its brackets) and the port: a span's `server.address` and `server.port`. */
  address: string;
  port: number;
  /** A single-host URL pg can parse; holds the password, never log it. */
  connectionString: string;
}

export interface ParsedHostsUrl {
  hosts: HostConfig[];
  target: TargetSessionAttrs;
}

const DEFAULT_PORT = '5432';

/** Splits a (possibly multi-host) postgres URL into one URL per host; throws on a malformed one (without quoting it). */
export function parseHostsUrl(url: string): ParsedHostsUrl {
  const scheme = /^(postgres(?:ql)?):\/\//i.exec(url);
  if (scheme === null) throw new Error('database URL must start with postgres:// or postgresql://');
  const rest = url.slice(scheme[0].length);
  const at = rest.indexOf('@');
  const authorityStart = at === -1 ? 0 : at + 1;
  const endMatch = /[/?#]/.exec(rest.slice(authorityStart));
  const authorityEnd = endMatch === null ? rest.length : authorityStart + endMatch.index;
  const userinfo = at === -1 ? '' : rest.slice(0, at + 1);
  const authority = rest.slice(authorityStart, authorityEnd);
  const tail = rest.slice(authorityEnd);
  const { tail: cleanTail, target: explicit } = takeTarget(tail);
  const parts = authority.split(',');
  if (parts.some((p) => p === '')) throw new Error('database URL names an empty host');
  const multi = parts.length > 1;
  const target = explicit ?? (multi ? 'read-write' : 'any');
  if (!multi && explicit === undefined) {
    // The single-host form is passed on exactly as given.
    return { hosts: [{ ...hostOf(parts[0]!), connectionString: url }], target };
  }
  const hosts = parts.map((part) => ({
    ...hostOf(part),
    connectionString: `${scheme[1]}://${userinfo}${part}${cleanTail}`,
  }));
  return { hosts, target };
}

/** One authority part as `host:port` (the default port filled in), and its host and port apart. */
function hostOf(part: string): { label: string; address: string; port: number } {
  const ipv6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(part);
  if (ipv6 !== null) {
    const port = ipv6[2] ?? DEFAULT_PORT;
    return { label: `[${ipv6[1]}]:${port}`, address: ipv6[1]!, port: Number(port) };
  }
  const m = /^([^:]*)(?::(\d*))?$/.exec(part);
  if (m === null || m[1] === '') throw new Error('database URL has a malformed host');
  const port = m[2] === undefined || m[2] === '' ? DEFAULT_PORT : m[2];
  return { label: `${m[1]}:${port}`, address: m[1]!, port: Number(port) };
}

/** Removes target_session_attrs from the query (pg does not know it) and returns its value. */
function takeTarget(tail: string): { tail: string; target: TargetSessionAttrs | undefined } {
  const q = tail.indexOf('?');
  if (q === -1) return { tail, target: undefined };
  const hash = tail.indexOf('#', q);
  const query = tail.slice(q + 1, hash === -1 ? undefined : hash);
  let target: TargetSessionAttrs | undefined;
  const kept = query.split('&').filter((pair) => {
    const [key, value = ''] = pair.split('=');
    if (key !== 'target_session_attrs') return pair !== '';
    const decoded = decodeURIComponent(value);
    if (!isTargetSessionAttrs(decoded))
      throw new Error(`target_session_attrs must be one of any, read-write, read-only, primary, standby, prefer-standby`);
    target = decoded;
    return false;
  });
  const base = tail.slice(0, q);
  return { tail: kept.length === 0 ? base : `${base}?${kept.join('&')}`, target };
}

/**
 * The URL with its password masked, multi-host or not, for logs and config dumps.
 *
 * @example
 * redactHostsUrl('postgres://app:pw@h1,h2/shop'); // 'postgres://app:***@h1,h2/shop'
 */
export function redactHostsUrl(url: string): string {
  const m = /^(postgres(?:ql)?:\/\/)([^@/?#]*)@/i.exec(url);
  const shown =
    m === null ? url : `${m[1]}${m[2]!.includes(':') ? `${m[2]!.slice(0, m[2]!.indexOf(':'))}:***` : m[2]}@${url.slice(m[0].length)}`;
  return shown.replace(/([?&][^=&#]*(?:pass|secret|token|key)[^=&#]*=)[^&#]*/gi, '$1***');
}
