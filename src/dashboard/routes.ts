/**
 * The live dashboard's routes: a login form, the page, its assets, the
 * Server-Sent Events stream and captured plans on demand.
 *
 * Registered at the root, outside /api, so it is never rate limited (only
 * failed authentication is, below) or shed:
 * the dashboard is how an operator watches an overloaded instance.
 *
 * Access: a session cookie from the login form, or `Authorization: Bearer
 * <ADMIN_TOKEN>`. With no ADMIN_TOKEN configured nothing is registered, so
 * every dashboard path answers 404 ROUTE_NOT_FOUND like a path that does not
 * exist (the same rule as /admin/queries). Unauthenticated, the page
 * redirects to the login form and everything else answers 401. A wrong
 * token (form or bearer) is a failed authentication, limited per client
 * address (src/guards/rate-limit/auth-failures.ts): past the limit, 429.
 * The login and logout forms refuse cross-site posts (403), and logging out
 * revokes the session (session.ts). Every answer carries the API's HSTS.
 *
 * | route | answer |
 * |---|---|
 * | GET /admin/login | the form (303 to the dashboard when already signed in) |
 * | POST /admin/login | token right: 303 to the dashboard with the cookie; wrong: 401 and the form again |
 * | POST /admin/logout | revokes the session, clears the cookie, 303 to the form |
 * | GET /admin/dashboard | the page |
 * | GET /admin/dashboard/stream | `text/event-stream`: `history` once, then a `frame` per second |
 * | GET /admin/dashboard/plans/:id | a statement's captured plan (JSON) |
 * | GET /admin/dashboard/assets/:name | uPlot, the page's script and stylesheet |
 */
import type {} from '@fastify/swagger'; // route schema `hide`
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/index.ts';
import { AppError } from '../errors/app-error.ts';
import type { AuthFailureGuard } from '../guards/rate-limit/auth-failures.ts';
import { bearerCheck } from '../http/auth/bearer.ts';
import { helmetHeaders, helmetOptions } from '../http/hardening.ts';
import { sendProblem } from '../http/problem.ts';
import type { QueryProfiler } from '../profiler/profiler.ts';
import { loadDashboardAssets } from './assets.ts';
import { readCookie, SESSION_COOKIE, sessionCookie } from './cookies.ts';
import { createDashboardFeed } from './feed.ts';
import { loginPage, pageHeaders } from './pages.ts';
import type { DashboardSources } from './sampler.ts';
import { createSessionKeeper } from './session.ts';
import { createStreams } from './stream.ts';

export interface DashboardDeps extends DashboardSources {
  /** `config.admin.token` gates everything; unset, no route is registered. */
  config: Pick<Config, 'admin'>;
  /** Limits wrong tokens per client address (the rate limiter's). */
  authFailures: AuthFailureGuard;
  /** Also serves captured plans by statement id. */
  profiler: Pick<QueryProfiler, 'report' | 'statement'>;
  /** Streams open at once in this process; the next gets 503. Default 20. */
  maxStreams?: number;
  /** Sampling interval. Default 1000 ms. */
  intervalMs?: number;
}

const DASHBOARD = '/admin/dashboard';
const LOGIN = '/admin/login';
const STATEMENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const hidden = { schema: { hide: true } };

/**
 * @example
 * await app.register(dashboardRoutes({ config, pool, pressure, rateLimiter, authFailures: rateLimiter.authFailures, cache, profiler, metrics }));
 * // then open http://127.0.0.1:5001/admin/login
 */
export function dashboardRoutes(deps: DashboardDeps): FastifyPluginAsync {
  return async function dashboard(app) {
    const token = deps.config.admin.token;
    if (token === undefined) return;
    const maxStreams = deps.maxStreams ?? 20;
    const sessions = createSessionKeeper(token);
    const isBearer = bearerCheck(token);
    const { assets, page } = loadDashboardAssets();
    const feed = createDashboardFeed(deps, {
      intervalMs: deps.intervalMs,
      onError: (err) => app.log.warn({ err }, 'dashboard sample failed'),
    });
    const streams = createStreams(feed);
    const hsts = helmetHeaders(helmetOptions())['strict-transport-security'];
    let closing = false;
    if (hsts !== undefined) {
      app.addHook('onRequest', function setHsts(_request, reply, done) {
        reply.header('strict-transport-security', hsts);
        done();
      });
    }
    // Before the server waits for in-flight responses: an open stream never finishes on its own.
    app.addHook('preClose', function endDashboardStreams(done) {
      closing = true;
      streams.endAll();
      feed.close();
      done();
    });
    // Only here: the login form posts urlencoded; /api stays JSON-only.
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 4096 },
      function parseForm(_request, body, done) {
        done(null, Object.fromEntries(new URLSearchParams(String(body))));
      },
    );

    /**
     * The session's expiry (undefined for a bearer token), false when not
     * signed in, or the 429 for a client over its failure quota. A valid
     * session goes first and costs nothing; only a presented bearer token is
     * an attempt (a forged cookie cannot be guessed: it is a MAC).
     */
    async function access(request: FastifyRequest): Promise<{ expiresAtMs: number | undefined } | false | AppError> {
      const expiresAtMs = sessions.verify(readCookie(request.headers.cookie, SESSION_COOKIE));
      if (expiresAtMs !== undefined) return { expiresAtMs };
      if (request.headers.authorization === undefined) return false;
      const outcome = await deps.authFailures.attempt(request, () => isBearer(request.headers.authorization));
      return outcome === true ? { expiresAtMs: undefined } : outcome;
    }

    /**
     * Whether a form post comes from this origin. A mismatch is a cross-site
     * post, which could sign a victim in as us or out of the dashboard.
     * `Sec-Fetch-Site` decides when the browser sends it: the login page's
     * `Referrer-Policy: no-referrer` makes Chromium send `Origin: null` on
     * its own form post, so Origin alone would refuse the real form. Without
     * it, Origin must name this origin. A client that is not a browser sends
     * neither and is not at risk.
     */
    function isSameOrigin(request: FastifyRequest): boolean {
      const site = request.headers['sec-fetch-site'];
      if (site !== undefined) return site === 'same-origin' || site === 'none';
      const origin = request.headers.origin;
      return origin === undefined || origin === `${request.protocol}://${request.host}`;
    }

    function crossSite(request: FastifyRequest, reply: FastifyReply): FastifyReply {
      return sendProblem(
        request,
        reply,
        new AppError('FORBIDDEN', 'cross-site form posts to the dashboard are refused; sign in from the dashboard itself'),
      );
    }

    function refuse(request: FastifyRequest, reply: FastifyReply, outcome: false | AppError): FastifyReply {
      if (outcome instanceof AppError) return sendProblem(request, reply, outcome);
      reply.header('www-authenticate', 'Bearer realm="holdfast-admin"');
      return sendProblem(request, reply, new AppError('UNAUTHORIZED', `sign in at ${LOGIN} or send Authorization: Bearer <ADMIN_TOKEN>`));
    }

    function redirect(reply: FastifyReply, location: string): FastifyReply {
      return reply.code(303).header('location', location).header('cache-control', 'no-store').send();
    }

    app.get(LOGIN, hidden, async function getLogin(request, reply) {
      const granted = await access(request);
      if (granted instanceof AppError) return sendProblem(request, reply, granted);
      if (granted !== false) return redirect(reply, DASHBOARD);
      return reply.headers(pageHeaders('login')).send(loginPage());
    });

    app.post(LOGIN, hidden, async function postLogin(request, reply) {
      if (!isSameOrigin(request)) return crossSite(request, reply);
      const presented = (request.body as { token?: unknown } | undefined)?.token;
      const outcome = await deps.authFailures.attempt(request, () => typeof presented === 'string' && sessions.isToken(presented));
      if (outcome instanceof AppError) return sendProblem(request, reply, outcome);
      if (!outcome) return reply.code(401).headers(pageHeaders('login')).send(loginPage('That is not the admin token.'));
      const { value } = sessions.issue();
      reply.header('set-cookie', sessionCookie(value, { maxAgeS: sessions.ttlMs / 1000, secure: request.protocol === 'https' }));
      return redirect(reply, DASHBOARD);
    });

    app.post('/admin/logout', hidden, async function postLogout(request, reply) {
      if (!isSameOrigin(request)) return crossSite(request, reply);
      sessions.revoke(readCookie(request.headers.cookie, SESSION_COOKIE));
      reply.header('set-cookie', sessionCookie('', { maxAgeS: 0, secure: request.protocol === 'https' }));
      return redirect(reply, LOGIN);
    });

    app.get(DASHBOARD, hidden, async function getDashboard(request, reply) {
      const granted = await access(request);
      if (granted instanceof AppError) return sendProblem(request, reply, granted);
      if (granted === false) return redirect(reply, LOGIN);
      return reply.headers(pageHeaders('dashboard')).send(page.body);
    });

    app.get(`${DASHBOARD}/stream`, hidden, async function getStream(request, reply) {
      const granted = await access(request);
      if (granted === false || granted instanceof AppError) return refuse(request, reply, granted);
      // Fastify answers HEAD with the GET handler: say what it is, but open nothing that would never be read.
      if (request.method === 'HEAD') return reply.header('cache-control', 'no-store').type('text/event-stream; charset=utf-8').send();
      if (closing)
        return sendProblem(request, reply, new AppError('POOL_CLOSED', 'the service is shutting down', { retryAfterSeconds: 1 }));
      if (streams.count >= maxStreams) {
        return sendProblem(
          request,
          reply,
          new AppError('OVERLOADED', `${maxStreams} dashboard streams are already open on this instance; close one and retry`, {
            retryAfterSeconds: 5,
          }),
        );
      }
      streams.open(reply, granted.expiresAtMs);
      return reply;
    });

    app.get(`${DASHBOARD}/plans/:id`, hidden, async function getPlan(request, reply) {
      const granted = await access(request);
      if (granted === false || granted instanceof AppError) return refuse(request, reply, granted);
      const { id } = request.params as { id: string };
      const statement = STATEMENT_ID.test(id) ? deps.profiler.statement(id) : undefined;
      if (statement === undefined)
        return sendProblem(request, reply, new AppError('NOT_FOUND', `no statement ${id} is tracked (it may have been evicted)`));
      return reply
        .header('cache-control', 'no-store')
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ id: statement.id, fingerprint: statement.fingerprint, plan: statement.plan }));
    });

    app.get(`${DASHBOARD}/assets/:name`, hidden, async function getAsset(request, reply) {
      const granted = await access(request);
      if (granted === false || granted instanceof AppError) return refuse(request, reply, granted);
      const asset = assets.get((request.params as { name: string }).name);
      if (asset === undefined) return sendProblem(request, reply, new AppError('NOT_FOUND', 'no such dashboard asset'));
      reply.header('etag', asset.etag).header('cache-control', 'private, no-cache').header('x-content-type-options', 'nosniff');
      if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      return reply.type(asset.contentType).send(asset.body);
    });
  };
}
