/**
 * Response hardening: security headers (helmet) and CORS (@fastify/cors),
 * configured for a JSON API with one HTML page.
 *
 * Headers. Every answer except GET /api/health carries helmet's set (HSTS,
 * nosniff, Referrer-Policy, COOP/CORP, X-Frame-Options …) and a CSP that
 * allows nothing at all: the API serves JSON, which never needs to load a
 * script, a style or a frame, so `default-src 'none'` costs nothing and
 * turns any HTML an attacker manages to reflect into inert text. The
 * Swagger UI page under /api/docs is the one exception and gets its own
 * policy ({@link DOCS_CSP}, set by @fastify/swagger-ui on its routes):
 * scripts and styles from this origin only, inline style attributes (the UI
 * sets them), images from this origin and data: URIs.
 *
 * Why helmet, run once, and not @fastify/helmet: the plugin (13.2) calls
 * `helmet(options)` on every request, rebuilding and revalidating every
 * middleware, CSP included, which about halved the throughput of a cheap
 * route (docs/BENCHMARKS.md, "Figures moved out of the code"). With static
 * options (no nonces, no per-request directives) helmet's answer is the same
 * for every request, so it is asked once, at start; it stays the authority
 * on which headers to send and their values. (Running helmet's middleware
 * per request without rebuilding it is dearer too: it writes on the raw
 * response, which sends Node's writeHead down its slow merging path.)
 *
 * Health is left out: it is the route load balancers and the load test
 * hammer, it runs no hooks at all, and headers meant for browsers are of no
 * use to a probe. Error answers can be sent before any scope's hooks ran (a
 * malformed URL, an unknown route), so problem.ts adds nosniff and the same
 * empty CSP to every problem document itself.
 *
 * CORS. Off unless CORS_ORIGINS lists origins. Origins are compared exactly
 * (scheme, host and port as the browser sends them in `Origin`); there is no
 * wildcard, no pattern and no credentials mode: clients authenticate with a
 * bearer key, which a browser never attaches on its own, so there is no
 * cookie-style ambient authority to protect. An allowed origin's request
 * gets `Access-Control-Allow-Origin: <that origin>` and `Vary: Origin`; any
 * other gets no CORS headers at all, and its preflight a 404.
 */
import type { FastifyCorsOptions } from '@fastify/cors';
import type { FastifyPluginCallback } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';

/** The policy of every JSON answer: load nothing, be framed by no one. */
export const API_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The policy of the Swagger UI page and its assets. No `upgrade-insecure-requests`:
 * the page is also used over plain HTTP on localhost, where upgrading its
 * asset requests to https would break it.
 */
export const DOCS_CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "connect-src 'self'",
  "font-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
].join('; ');

/**
 * helmet's options for the API: its defaults, with the empty CSP and DENY framing.
 *
 * @example
 * helmet(helmetOptions());
 */
export function helmetOptions(): HelmetOptions {
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"] },
    },
    // frame-ancestors 'none' says it for current browsers; this says it for old ones.
    xFrameOptions: { action: 'deny' },
  };
}

/**
 * The headers helmet sets for `options`, asked once: helmet's middleware is
 * run against a recorder standing in for a response.
 *
 * @example
 * helmetHeaders(helmetOptions())['x-content-type-options']; // 'nosniff'
 */
export function helmetHeaders(options: HelmetOptions): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let finished = false;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => {
    finished = true;
  });
  // helmet ≥ 8.1 is synchronous; a version that is not would leave us without headers.
  if (!finished) throw new Error('helmet did not finish synchronously; security headers cannot be precomputed');
  return Object.freeze(headers);
}

/**
 * Sets helmet's headers on every answer of the scope it is registered in.
 * Headers set later through the reply (the docs page's CSP, problem
 * documents) replace these.
 *
 * @example
 * await scope.register(securityHeaders());
 */
export function securityHeaders(options: HelmetOptions = helmetOptions()): FastifyPluginCallback {
  const headers = helmetHeaders(options);
  return fp(
    function securityHeadersPlugin(app, _options, next) {
      app.addHook('onRequest', function setSecurityHeaders(_request, reply, done) {
        reply.headers(headers);
        done();
      });
      next();
    },
    { name: 'holdfast-security-headers', fastify: '5.x' },
  );
}

/** Request headers a browser client may send cross-origin. */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-None-Match', 'X-Request-Id'];

/** Response headers a browser client may read cross-origin (beyond the CORS-safelisted ones). */
const EXPOSED_HEADERS = [
  'ETag',
  'Idempotent-Replayed',
  'Link',
  'RateLimit',
  'RateLimit-Policy',
  'Retry-After',
  'Server-Timing',
  'WWW-Authenticate',
  'X-Request-Id',
];

/**
 * @fastify/cors options allowing exactly `origins`.
 *
 * @example
 * if (config.corsOrigins.length > 0) await api.register(cors, corsOptions(config.corsOrigins));
 */
export function corsOptions(origins: readonly string[]): FastifyCorsOptions {
  const allowed = new Set(origins);
  return {
    // A function, not the list: @fastify/cors treats a '*' entry in a list as
    // "any origin", and exact means exact.
    origin: function exactOrigin(origin, callback) {
      callback(null, origin !== undefined && allowed.has(origin));
    },
    methods: ['GET', 'HEAD', 'POST'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    credentials: false,
    maxAge: 600,
    // Strict mode answers a preflight without Access-Control-Request-Method
    // with a text/plain 400; without it such a request is an ordinary OPTIONS
    // and gets our 404 problem document.
    strictPreflight: false,
  };
}

/**
 * CORS_ORIGINS entries that can never match an `Origin` header (a path, a
 * trailing slash, a wildcard, a missing scheme), to be warned about at start.
 *
 * @example
 * unmatchableOrigins(['https://app.example.com', 'https://app.example.com/', '*']); // ['https://app.example.com/', '*']
 */
export function unmatchableOrigins(origins: readonly string[]): string[] {
  return origins.filter((origin) => {
    // URL accepts '*' in a host name; no browser sends one.
    if (origin.includes('*')) return true;
    try {
      return new URL(origin).origin !== origin;
    } catch {
      return true;
    }
  });
}
