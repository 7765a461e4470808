/**
 * RATE_LIMIT_ALLOW: the clients that are never limited, by address, by
 * network (CIDR, IPv4 or IPv6) or by API key.
 *
 * An entry whose text before any `/` is an IP address is an address or a
 * network; anything else is an API key (keys may contain `/` and any other
 * visible character, as in API_KEYS). A network with a bad prefix length,
 * or a key no `Authorization: Bearer` value could carry (a space, say), is
 * an error at start rather than a silently ignored entry. Networks are
 * matched by Node's `BlockList`; keys are kept only as hashes (see
 * api-key.ts).
 */
import { BlockList } from 'node:net';
import { isBearerCredential } from '../../http/auth/bearer.ts';
import { hashApiKey } from './api-key.ts';
import { parseIp, type ParsedIp } from './ip.ts';

export interface AllowList {
  allowsIp(ip: ParsedIp): boolean;
  allowsKeyHash(hash: string): boolean;
  /** True when nothing is allowed, so callers can skip the checks. */
  readonly empty: boolean;
}

/**
 * @example
 * const allow = createAllowList(['10.0.0.0/8', '2001:db8::/32', '198.51.100.7', 'sk_live_partner']);
 * allow.allowsIp(parseIp('10.1.2.3')!);               // true
 * allow.allowsKeyHash(hashApiKey('sk_live_partner')); // true
 */
export function createAllowList(entries: readonly string[]): AllowList {
  const networks = new BlockList();
  const keyHashes = new Set<string>();
  let hasNetworks = false;
  for (const [index, entry] of entries.entries()) {
    const slash = entry.indexOf('/');
    const ip = parseIp(slash === -1 ? entry : entry.slice(0, slash));
    if (ip === undefined) {
      // The entry itself is a secret: say where, never what.
      if (!isBearerCredential(entry))
        throw new Error(`RATE_LIMIT_ALLOW entry ${index + 1} is neither an address nor an API key: keys are visible ASCII characters only`);
      keyHashes.add(hashApiKey(entry));
      continue;
    }
    const full = ip.family === 4 ? 32 : 128;
    let prefix = slash === -1 ? full : strictInt(entry.slice(slash + 1));
    // ::ffff:a.b.c.d/n is parsed as IPv4; its prefix counts the 96 mapped bits.
    if (ip.family === 4 && slash !== -1 && entry.includes(':')) prefix -= 96;
    if (Number.isNaN(prefix) || prefix < 0 || prefix > full) {
      throw new Error(`RATE_LIMIT_ALLOW entry "${entry}" is not a valid network: the prefix length must be 0 to ${full}`);
    }
    networks.addSubnet(ip.address, prefix, ip.family === 4 ? 'ipv4' : 'ipv6');
    hasNetworks = true;
  }
  return {
    allowsIp: (ip) => hasNetworks && networks.check(ip.address, ip.family === 4 ? 'ipv4' : 'ipv6'),
    allowsKeyHash: (hash) => keyHashes.has(hash),
    empty: !hasNetworks && keyHashes.size === 0,
  };
}

function strictInt(text: string): number {
  return /^\d{1,3}$/.test(text) ? Number(text) : Number.NaN;
}
