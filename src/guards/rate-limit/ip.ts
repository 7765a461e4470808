/**
 * Client addresses as rate-limit identities.
 *
 * An IPv4 address identifies a client (or its NAT). An IPv6 address does
 * not: a single host is typically given a whole /64 and can pick a new
 * address from it for every request, so IPv6 clients are grouped by /64.
 * IPv4 arriving over a dual-stack socket as `::ffff:a.b.c.d` is the same
 * client as `a.b.c.d` and is normalised to it. Node's `net` validates; the
 * /64 grouping needs the eight groups, which no built-in exposes.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** A parsed address: IPv4 dotted (mapped IPv6 included), or IPv6 as its eight 16-bit groups. */
export type ParsedIp = { family: 4; address: string } | { family: 6; address: string; groups: number[] };

/**
 * @example
 * parseIp('::ffff:192.0.2.1');   // { family: 4, address: '192.0.2.1' }
 * parseIp('2001:db8::1');        // { family: 6, address: '2001:db8::1', groups: [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1] }
 * parseIp('not an ip');          // undefined
 */
export function parseIp(text: string): ParsedIp | undefined {
  if (isIPv4(text)) return { family: 4, address: text };
  const zone = text.indexOf('%');
  const address = zone === -1 ? text : text.slice(0, zone);
  if (!isIPv6(address)) return undefined;
  const groups = expandIpv6(address);
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return { family: 4, address: `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}` };
  }
  return { family: 6, address, groups };
}

/** Eight groups from a valid IPv6 text (with `::` and an optional dotted tail). */
function expandIpv6(address: string): number[] {
  const parts = (text: string): number[] =>
    text === ''
      ? []
      : text.split(':').flatMap((part) => {
          if (!part.includes('.')) return [parseInt(part, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = part.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const gap = address.indexOf('::');
  if (gap === -1) return parts(address);
  const head = parts(address.slice(0, gap));
  const tail = parts(address.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/**
 * The rate-limit identity of an address: IPv4 as is, IPv6 as its /64.
 *
 * @example
 * clientOfIp(parseIp('203.0.113.7')!);            // 'ip:203.0.113.7'
 * clientOfIp(parseIp('2001:db8:1:2:aaaa::1')!);   // 'ip6:2001:db8:1:2::/64'
 */
export function clientOfIp(ip: ParsedIp): string {
  if (ip.family === 4) return `ip:${ip.address}`;
  return `ip6:${ip.groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
