/**
 * Who a request counts against: its verified API key when it has one, else
 * its address (IPv4, or IPv6 by /64), unless RATE_LIMIT_ALLOW exempts it.
 *
 * The address is Fastify's `request.ip`, which already honours TRUST_PROXY
 * (X-Forwarded-For only from trusted proxies), so a client cannot pick its
 * own identity by sending that header. The API key is `request.apiKey`, set
 * by src/http/auth/api-keys.ts only after the key matched API_KEYS; a bearer
 * value that did not verify counts against the address, so made-up keys do
 * not buy fresh quotas (see docs/RATE-LIMITING.md).
 */
import { bearerToken } from '../../http/auth/bearer.ts';
import { hashApiKey } from './api-key.ts';
import type { AllowList } from './allow-list.ts';
import { clientOfIp, parseIp } from './ip.ts';

/** The parts of a request the key depends on (a FastifyRequest fits). */
export interface KeySource {
  headers: { authorization?: string | undefined };
  ip: string;
  /** The verified API key, when the request presented one that matched; absent or null otherwise. */
  apiKey?: { readonly name: string } | null;
}

/**
 * @example
 * const keyOf = createKeyer(createAllowList(['10.0.0.0/8']));
 * keyOf({ headers: {}, ip: '203.0.113.7' });                            // 'ip:203.0.113.7'
 * keyOf({ headers: {}, ip: '203.0.113.7', apiKey: { name: 'partner' } }); // 'key:partner'
 * keyOf({ headers: { authorization: 'Bearer made-up' }, ip: '203.0.113.7' }); // 'ip:203.0.113.7'
 * keyOf({ headers: {}, ip: '10.1.2.3' });                               // undefined: never limited
 */
export function createKeyer(allow: AllowList) {
  return function keyOf(request: KeySource): string | undefined {
    const ip = parseIp(request.ip);
    if (ip !== undefined && !allow.empty && allow.allowsIp(ip)) return undefined;
    // An allow-listed key is a secret in its own right: knowing it is the proof.
    const token = allow.empty ? undefined : bearerToken(request.headers.authorization);
    if (token !== undefined && allow.allowsKeyHash(hashApiKey(token))) return undefined;
    if (request.apiKey != null) return `key:${request.apiKey.name}`;
    // No usable address (e.g. a Unix socket): all such requests share one quota.
    return ip === undefined ? 'ip:unknown' : clientOfIp(ip);
  };
}
