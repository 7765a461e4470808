/**
 * Who a request counts against: its API key when it presents one, else
 * its address (IPv4, or IPv6 by /64), unless RATE_LIMIT_ALLOW exempts it.
 *
 * The address is Fastify's `request.ip`, which already honours TRUST_PROXY
 * (X-Forwarded-For only from trusted proxies), so a client cannot pick its
 * own identity by sending that header. An API key, by contrast, is whatever
 * the client sends: until keys are verified before this hook, each made-up
 * key is a fresh quota (see docs/RATE-LIMITING.md).
 */
import { bearerToken, hashApiKey } from './api-key.ts';
import type { AllowList } from './allow-list.ts';
import { clientOfIp, parseIp } from './ip.ts';

/** The parts of a request the key depends on (a FastifyRequest fits). */
export interface KeySource {
  headers: { authorization?: string | undefined };
  ip: string;
}

/**
 * @example
 * const keyOf = createKeyer(createAllowList(['10.0.0.0/8']));
 * keyOf({ headers: {}, ip: '203.0.113.7' });                            // 'ip:203.0.113.7'
 * keyOf({ headers: { authorization: 'Bearer k1' }, ip: '203.0.113.7' }); // 'key:<sha-256 of k1>'
 * keyOf({ headers: {}, ip: '10.1.2.3' });                               // undefined: never limited
 */
export function createKeyer(allow: AllowList) {
  return function keyOf(request: KeySource): string | undefined {
    const ip = parseIp(request.ip);
    if (ip !== undefined && !allow.empty && allow.allowsIp(ip)) return undefined;
    const token = bearerToken(request.headers.authorization);
    if (token !== undefined) {
      const hash = hashApiKey(token);
      return allow.allowsKeyHash(hash) ? undefined : `key:${hash}`;
    }
    // No usable address (e.g. a Unix socket): all such requests share one quota.
    return ip === undefined ? 'ip:unknown' : clientOfIp(ip);
  };
}
