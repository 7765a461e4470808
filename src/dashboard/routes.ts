/**
 * The live dashboard's routes: a login form, the page, its assets, the
 * Server-Sent Events stream and captured plans on demand.
 *
 * Registered at the root, outside /api, so it is never rate limited or shed:
 * the dashboard is how an operator watches an overloaded instance.
 *
 * Access: a session cookie from the login form, or `Authorization: Bearer
 * <ADMIN_TOKEN>`. With no ADMIN_TOKEN configured nothing is registered, so
 * every dashboard path answers 404 ROUTE_NOT_FOUND like a path that does not
 * exist (the same rule as /admin/queries). Unauthenticated, the page
 * redirects to the login form and everything else answers 401.
 *
 * | route | answer |
 * |---|---|
 * | GET /admin/login | the form (303 to the dashboard when already signed in) |
 * | POST /admin/login | token right: 303 to the dashboard with the cookie; wrong: 401 and the form again |
 * | POST /admin/logout | clears the cookie, 303 to the form |
 * | GET /admin/dashboard | the page |
 * | GET /admin/dashboard/stream | `text/event-stream`: `history` once, then a `frame` per second |
 * | GET /admin/dashboard/plans/:id | a statement's captured plan (JSON) |
 * | GET /admin/dashboard/assets/:name | uPlot, the page's script and stylesheet |
 */
import type {} from '@fastify/swagger'; // route schema `hide`
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/index.ts';
import { AppError } from '../errors/app-error.ts';
import { bearerCheck } from '../http/auth/bearer.ts';
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
 * await app.register(dashboardRoutes({ config, pool, pressure, rateLimiter, cache, profiler, metrics }));
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
    let closing = false;
    // Before the server waits for in-flight responses: an open stream never finishes on its own.
    app.addHook('preClose', function endDashboardStreams(done) {
      closing = true;
      streams.endAll();
      feed.close();
      done();
    });
    // Only here: the login form posts urlencoded; /api stays JSON-only.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, function parseForm(_request, body, done) {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    });

    /** The session's expiry (undefined for a bearer token), or false when not signed in. */
    function access(request: FastifyRequest): { expiresAtMs: number | undefined } | false {
      if (isBearer(request.headers.authorization)) return { expiresAtMs: undefined };
      const expiresAtMs = sessions.verify(readCookie(request.headers.cookie, SESSION_COOKIE));
      return expiresAtMs === undefined ? false : { expiresAtMs };
    }

    function refuse(request: FastifyRequest, reply: FastifyReply): FastifyReply {
      reply.header('www-authenticate', 'Bearer realm="holdfast-admin"');
      return sendProblem(request, reply, new AppError('UNAUTHORIZED', `sign in at ${LOGIN} or send Authorization: Bearer <ADMIN_TOKEN>`));
    }

    function redirect(reply: FastifyReply, location: string): FastifyReply {
      return reply.code(303).header('location', location).header('cache-control', 'no-store').send();
    }

    app.get(LOGIN, hidden, async function getLogin(request, reply) {
      if (access(request) !== false) return redirect(reply, DASHBOARD);
      return reply.headers(pageHeaders('login')).send(loginPage());
    });

    app.post(LOGIN, hidden, async function postLogin(request, reply) {
      const presented = (request.body as { token?: unknown } | undefined)?.token;
      if (typeof presented !== 'string' || !sessions.isToken(presented)) {
        return reply.code(401).headers(pageHeaders('login')).send(loginPage('That is not the admin token.'));
      }
      const { value } = sessions.issue();
      reply.header('set-cookie', sessionCookie(value, { maxAgeS: sessions.ttlMs / 1000, secure: request.protocol === 'https' }));
      return redirect(reply, DASHBOARD);
    });

    app.post('/admin/logout', hidden, async function postLogout(request, reply) {
      reply.header('set-cookie', sessionCookie('', { maxAgeS: 0, secure: request.protocol === 'https' }));
      return redirect(reply, LOGIN);
    });

    app.get(DASHBOARD, hidden, async function getDashboard(request, reply) {
      if (access(request) === false) return redirect(reply, LOGIN);
      return reply.headers(pageHeaders('dashboard')).send(page.body);
    });

    app.get(`${DASHBOARD}/stream`, hidden, async function getStream(request, reply) {
      const granted = access(request);
      if (granted === false) return refuse(request, reply);
      // Fastify answers HEAD with the GET handler: say what it is, but open nothing that would never be read.
      if (request.method === 'HEAD') return reply.header('cache-control', 'no-store').type('text/event-stream; charset=utf-8').send();
      if (closing) return sendProblem(request, reply, new AppError('POOL_CLOSED', 'the service is shutting down', { retryAfterSeconds: 1 }));
      if (streams.count >= maxStreams) {
        return sendProblem(
          request,
          reply,
          new AppError('OVERLOADED', `${maxStreams} dashboard streams are already open on this instance; close one and retry`, { retryAfterSeconds: 5 }),
        );
      }
      streams.open(reply, granted.expiresAtMs);
      return reply;
    });

    app.get(`${DASHBOARD}/plans/:id`, hidden, async function getPlan(request, reply) {
      if (access(request) === false) return refuse(request, reply);
      const { id } = request.params as { id: string };
      const statement = STATEMENT_ID.test(id) ? deps.profiler.statement(id) : undefined;
      if (statement === undefined) return sendProblem(request, reply, new AppError('NOT_FOUND', `no statement ${id} is tracked (it may have been evicted)`));
      return reply
        .header('cache-control', 'no-store')
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ id: statement.id, fingerprint: statement.fingerprint, plan: statement.plan }));
    });

    app.get(`${DASHBOARD}/assets/:name`, hidden, async function getAsset(request, reply) {
      if (access(request) === false) return refuse(request, reply);
      const asset = assets.get((request.params as { name: string }).name);
      if (asset === undefined) return sendProblem(request, reply, new AppError('NOT_FOUND', 'no such dashboard asset'));
      reply.header('etag', asset.etag).header('cache-control', 'private, no-cache').header('x-content-type-options', 'nosniff');
      if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      return reply.type(asset.contentType).send(asset.body);
    });
  };
}
