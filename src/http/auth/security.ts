/**
 * Who may call a route is declared once, in the route's schema, and the same
 * declaration is both published and enforced:
 *
 *   schema: { security: requireKey('read'), … }
 *
 * @fastify/swagger copies `schema.security` into the OpenAPI operation, and
 * the one `onRequest` hook here reads `request.routeOptions.schema.security`
 * and refuses what it does not allow. There is no second list of protected
 * paths that could drift from the document.
 *
 * The meaning is OpenAPI's: `security` is a list of alternatives, any one of
 * which suffices; `{}` is "no credential"; `{ bearer: ['read'] }` is an API
 * key whose scope grants `read`. A `write` key grants `read` too.
 *
 * Every route registered after `declaredSecurity` in its scope must declare
 * `security` or be a GET hidden from the document (Swagger UI's own assets
 * and the document itself); anything else stops the start, so a new route
 * cannot be public by omission. (A request matching no route never reaches
 * this scope's hooks: it gets the root's 404.)
 *
 * With no API keys configured the hook is not installed (open development
 * mode; `apiKeyAuth` warns at start), but the document still declares what
 * production requires.
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiKey } from '../../config/index.ts';
import { AppError } from '../../errors/app-error.ts';
import type { ApiKeyIdentity } from './api-keys.ts';

export type Scope = ApiKey['scope'];

/** The name of the API-key scheme in the OpenAPI document's `components.securitySchemes`. */
export const BEARER = 'bearer';

/** One OpenAPI security requirement: scheme name to the scopes it must grant. */
export type SecurityRequirement = Readonly<Record<string, readonly string[]>>;

/** The scheme as published under `components.securitySchemes`. */
export const SECURITY_SCHEMES = {
  [BEARER]: {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key from API_KEYS, as `Authorization: Bearer <key>`. Scopes: `read` (customers and their orders) and ' +
      '`write` (everything `read` may, and placing orders). Every key acts for every customer (back-office model, docs/SECURITY.md).',
  },
} as const;

/**
 * Anyone may call; a valid key, if sent, only gives the caller its own
 * rate-limit quota (a wrong one is ignored).
 */
export const PUBLIC: readonly SecurityRequirement[] = [{}, { [BEARER]: [] }];

/**
 * A key whose scope grants `scope`.
 *
 * @example
 * schema: { security: requireKey('write'), … }
 */
export function requireKey(scope: Scope): SecurityRequirement[] {
  return [{ [BEARER]: [scope] }];
}

const GRANTS: Readonly<Record<Scope, ReadonlySet<string>>> = {
  read: new Set(['read']),
  write: new Set(['read', 'write']),
};

export type Verdict = { allowed: true } | { allowed: false; missing: 'credential' | 'scope'; scopes: readonly string[] };

/**
 * Whether `identity` (null: no valid key) satisfies any of `requirements`.
 *
 * @example
 * check(requireKey('read'), { name: 'ops', scope: 'write' }); // { allowed: true }
 * check(requireKey('write'), null); // { allowed: false, missing: 'credential', scopes: ['write'] }
 */
export function check(requirements: readonly SecurityRequirement[], identity: ApiKeyIdentity | null): Verdict {
  let wanted: readonly string[] = [];
  for (const requirement of requirements) {
    const schemes = Object.keys(requirement);
    if (schemes.length === 0) return { allowed: true };
    // Only the bearer scheme exists; a requirement naming another can never be met.
    if (schemes.some((s) => s !== BEARER)) continue;
    const scopes = requirement[BEARER] ?? [];
    if (identity !== null && scopes.every((s) => GRANTS[identity.scope].has(s))) return { allowed: true };
    if (wanted.length === 0) wanted = scopes;
  }
  return { allowed: false, missing: identity === null ? 'credential' : 'scope', scopes: wanted };
}

const REALM = 'Bearer realm="holdfast"';

/**
 * The enforcing hook, plus a start-time check that every later route in the
 * scope declares its security. Register after the rate limiter (failed
 * attempts spend the caller's quota) and after `apiKeyAuth().identify`.
 *
 * @example
 * await api.register(auth.identify);
 * await api.register(rateLimiter.plugin);
 * await api.register(declaredSecurity({ enforce: config.apiKeys.length > 0 }));
 */
export function declaredSecurity(options: { enforce: boolean }): FastifyPluginCallback {
  return fp(
    function declaredSecurityPlugin(app, _options, next) {
      app.addHook('onRoute', function requireDeclaration(route) {
        const schema = route.schema as { security?: unknown; hide?: boolean } | undefined;
        if (schema?.security !== undefined) return;
        const methods = Array.isArray(route.method) ? route.method : [route.method];
        const readOnly = methods.every((m) => m === 'GET' || m === 'HEAD');
        if (schema?.hide === true && readOnly) return;
        throw new Error(`route ${methods.join(',')} ${route.url} declares no schema.security; declare PUBLIC or requireKey(scope)`);
      });
      if (options.enforce) {
        app.addHook('onRequest', function enforceDeclaredSecurity(request, reply, done) {
          const declared = request.routeOptions.schema?.security;
          // Undeclared: a hidden GET, allowed by the start-time check above.
          if (declared === undefined) return done();
          const verdict = check(declared, request.apiKey);
          if (verdict.allowed) return done();
          done(refusal(request, reply, verdict));
        });
      }
      next();
    },
    { name: 'holdfast-declared-security', fastify: '5.x', dependencies: ['holdfast-api-key-identify'] },
  );
}

function refusal(request: FastifyRequest, reply: FastifyReply, verdict: Extract<Verdict, { allowed: false }>): AppError {
  const scope = verdict.scopes.join(' ');
  if (verdict.missing === 'credential') {
    const presented = request.headers.authorization !== undefined;
    reply.header('www-authenticate', presented ? `${REALM}, error="invalid_token"` : REALM);
    return new AppError(
      'UNAUTHORIZED',
      presented
        ? 'the API key is not valid'
        : `this route requires Authorization: Bearer <API key>${scope === '' ? '' : ` with scope ${scope}`}`,
    );
  }
  reply.header('www-authenticate', `${REALM}, error="insufficient_scope", scope="${scope}"`);
  return new AppError('FORBIDDEN', `this API key's scope does not grant ${scope}; use a key with scope ${scope}`);
}
