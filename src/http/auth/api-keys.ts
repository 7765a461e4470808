/**
 * Client API keys (`API_KEYS`): who a request is, and whether it may write.
 *
 * Two hooks, registered around the rate limiter in the /api scope:
 *
 * 1. `identify`, before the limiter, verifies any `Authorization: Bearer`
 *    key and puts the verified identity on `request.apiKey` (null when none
 *    or a wrong one was presented). The limiter keys on that identity, never
 *    on the raw header, so an invented key is just another request from its
 *    address rather than a fresh quota.
 * 2. `requireWriteKey`, after the limiter, refuses writes (POST, PUT, PATCH,
 *    DELETE) without a valid key (401 UNAUTHORIZED) or with a read-only one
 *    (403 FORBIDDEN). After the limiter on purpose: failed attempts spend
 *    the address's write quota, so keys cannot be guessed at line rate. Both
 *    run in `onRequest`, so a refused write's body is never parsed.
 *
 * Reads stay public: a wrong key on a read is ignored (the read is served as
 * anonymous), a right one only selects the rate-limit identity.
 *
 * Keys are compared as SHA-256 hashes: the presented key is hashed once and
 * compared with every configured hash by `timingSafeEqual`, without stopping
 * at a match, so neither which key matched nor how much of a guess was right
 * shows in the time taken. Config keeps only the hashes (src/config).
 *
 * With API_KEYS unset there is nothing to verify against: writes stay open,
 * and one warning at start says so.
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
import { AppError } from '../../errors/app-error.ts';
import { bearerToken } from './bearer.ts';

/** The verified identity of a request: which configured key it presented. */
export type ApiKeyIdentity = Readonly<Pick<ApiKey, 'name' | 'scope'>>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key this request presented and that verified; null when none, or a wrong one. */
    apiKey: ApiKeyIdentity | null;
  }
}

/** Methods that change state; the rate limiter's write policy uses the same set. */
const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const REALM = 'Bearer realm="holdfast"';

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
  /** Register after the rate limiter: refuses writes without a write key. Does nothing when no keys are configured. */
  requireWriteKey: FastifyPluginCallback;
}

/**
 * @example
 * const auth = apiKeyAuth({ keys: config.apiKeys, logger });
 * await api.register(auth.identify);
 * await api.register(rateLimiter.plugin); // keys on request.apiKey
 * await api.register(auth.requireWriteKey);
 */
export function apiKeyAuth(options: ApiKeyAuthOptions): ApiKeyAuth {
  const { keys, logger } = options;
  const verify = createApiKeyVerifier(keys);
  const enabled = keys.length > 0;
  if (!enabled) logger.warn('API_KEYS unset: writes are not authenticated');

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

  const requireWriteKey = fp(
    function requireWriteKeys(app, _options, next) {
      if (enabled) {
        app.addHook('onRequest', function requireWriteKey(request, reply, done) {
          if (!WRITE_METHODS.has(request.method)) return done();
          const identity = request.apiKey;
          if (identity === null) {
            const presented = request.headers.authorization !== undefined;
            reply.header('www-authenticate', presented ? `${REALM}, error="invalid_token"` : REALM);
            return done(
              new AppError('UNAUTHORIZED', presented ? 'the API key is not valid' : 'writes require Authorization: Bearer <API key>'),
            );
          }
          if (identity.scope !== 'write') {
            reply.header('www-authenticate', `${REALM}, error="insufficient_scope", scope="write"`);
            return done(new AppError('FORBIDDEN', 'this API key is read-only; writes need a key with scope write'));
          }
          done();
        });
      }
      next();
    },
    { name: 'holdfast-api-key-writes', fastify: '5.x', dependencies: ['holdfast-api-key-identify'] },
  );

  return { identify, requireWriteKey };
}
