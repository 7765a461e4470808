/**
 * Client API keys (`API_KEYS`): who a request is, and what it may do.
 *
 * Two hooks, registered around the rate limiter in the /api scope:
 *
 * 1. `identify`, before the limiter, verifies any `Authorization: Bearer`
 *    key and puts the verified identity on `request.apiKey` (null when none
 *    or a wrong one was presented). The limiter keys on that identity, never
 *    on the raw header, so an invented key is just another request from its
 *    address rather than a fresh quota.
 * 2. `enforce`, after the limiter, refuses what the route's declared
 *    `schema.security` does not allow (security.ts): 401 UNAUTHORIZED without
 *    a valid key, 403 FORBIDDEN with a key whose scope falls short. After the
 *    limiter on purpose: failed attempts spend the address's quota, so keys
 *    cannot be guessed at line rate. Both run in `onRequest`, so a refused
 *    request's body is never parsed.
 *
 * On a public route a wrong key is ignored (served as anonymous), a right
 * one only selects the rate-limit identity.
 *
 * Keys are compared as SHA-256 hashes: the presented key is hashed once and
 * compared with every configured hash by `timingSafeEqual`, without stopping
 * at a match, so neither which key matched nor how much of a guess was right
 * shows in the time taken. Config keeps only the hashes (src/config).
 *
 * With API_KEYS unset there is nothing to verify against: the whole API is
 * open (development mode), and one warning at start says so.
 *
 * Why our own rather than @fastify/bearer-auth: that plugin is built around
 * a set of raw keys (the config keeps only hashes; with its custom `auth`
 * callback nothing of the plugin would be left but the header parsing), it
 * knows no scopes, and it rejects in the same hook that would have to run
 * before the rate limiter, so failed guesses would never be limited.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiKey } from '../../config/index.ts';
import { bearerToken } from './bearer.ts';
import { declaredSecurity } from './security.ts';

/** The verified identity of a request: which configured key it presented. */
export type ApiKeyIdentity = Readonly<Pick<ApiKey, 'name' | 'scope'>>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key this request presented and that verified; null when none, or a wrong one. */
    apiKey: ApiKeyIdentity | null;
  }
}

/**
 * Verifies a presented key against the configured ones, in constant time per
 * configured key; undefined when none matches.
 *
 * @example
 * const verify = createApiKeyVerifier(config.apiKeys);
 * verify('k_live_0123456789abcdef'); // { name: 'partner', scope: 'write' } or undefined
 */
export function createApiKeyVerifier(keys: readonly ApiKey[]): (presented: string) => ApiKeyIdentity | undefined {
  const configured = keys.map((key) => ({ identity: { name: key.name, scope: key.scope }, hash: Buffer.from(key.sha256, 'hex') }));
  return function verifyApiKey(presented: string): ApiKeyIdentity | undefined {
    const hash = createHash('sha256').update(presented, 'utf8').digest();
    let found: ApiKeyIdentity | undefined;
    // No early exit: every configured hash is compared whatever the outcome.
    for (const key of configured) {
      if (timingSafeEqual(hash, key.hash) && found === undefined) found = key.identity;
    }
    return found;
  };
}

export interface ApiKeyAuthOptions {
  keys: readonly ApiKey[];
  logger: { warn(msg: string): void };
}

export interface ApiKeyAuth {
  /** Register before the rate limiter: sets `request.apiKey`. */
  identify: FastifyPluginCallback;
  /**
   * Register after the rate limiter and before the routes: enforces each
   * route's declared `schema.security`, and stops the start if a route
   * declares none. Refuses nothing when no keys are configured.
   */
  enforce: FastifyPluginCallback;
}

/**
 * @example
 * const auth = apiKeyAuth({ keys: config.apiKeys, logger });
 * await api.register(auth.identify);
 * await api.register(rateLimiter.plugin); // keys on request.apiKey
 * await api.register(auth.enforce);
 */
export function apiKeyAuth(options: ApiKeyAuthOptions): ApiKeyAuth {
  const { keys, logger } = options;
  const verify = createApiKeyVerifier(keys);
  const enabled = keys.length > 0;
  if (!enabled) {
    logger.warn(
      'API_KEYS unset: anyone can read customers and their orders and place orders; the API is open (development mode only, set API_KEYS in production)',
    );
  }

  const identify = fp(
    function identifyApiKeys(app, _options, next) {
      app.decorateRequest('apiKey', null);
      if (enabled) {
        app.addHook('onRequest', function identifyApiKey(request, _reply, done) {
          const authorization = request.headers.authorization;
          if (authorization !== undefined) {
            const token = bearerToken(authorization);
            // Hash even a malformed value, so it costs what a wrong key costs.
            const identity = verify(token ?? '');
            request.apiKey = token === undefined ? null : (identity ?? null);
          }
          done();
        });
      }
      next();
    },
    { name: 'holdfast-api-key-identify', fastify: '5.x' },
  );

  return { identify, enforce: declaredSecurity({ enforce: enabled }) };
}
