/**
 * GET /admin/queries: where the profiler is read.
 *
 * Answers the top fingerprints by total execution time (calls, mean, p95,
 * max, rows, errors, pool wait, slow calls, captured plan), the recent N+1
 * violations, the profiler's totals and, when the database keeps them,
 * pg_stat_statements' top statements beside ours.
 *
 * Access: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time;
 * anything else is `401 UNAUTHORIZED` with `WWW-Authenticate: Bearer`, and
 * counts as a failed authentication: too many from one address are answered
 * 429 (src/guards/rate-limit/auth-failures.ts).
 * With no ADMIN_TOKEN configured the route answers `404 ROUTE_NOT_FOUND`,
 * exactly like a path that does not exist: no credential could ever work, so
 * there is nothing to authenticate against, and an unconfigured instance
 * does not advertise an admin surface. Statement texts are fingerprints
 * (values folded) and plans have their values redacted, but the page still
 * shows the schema's shape: it is for operators.
 *
 * @example
 * await app.register(adminQueriesRoutes({ profiler, db: pool, adminToken: config.admin.token, authFailures: rateLimiter.authFailures }));
 * // curl -H "Authorization: Bearer $ADMIN_TOKEN" http://127.0.0.1:5001/admin/queries?limit=20
 */
import type {} from '@fastify/swagger'; // route schema `hide`
import type { FastifyPluginAsync } from 'fastify';
import type { Queryable } from '../db/types.ts';
import { contextOf } from '../http/context.ts';
import { AppError } from '../errors/app-error.ts';
import { sendProblem } from '../http/problem.ts';
import { bearerCheck } from '../http/auth/bearer.ts';
import type { AuthFailureGuard } from '../guards/rate-limit/auth-failures.ts';
import { readPgStatStatements, type PgStatStatements } from './pg-stat-statements.ts';
import type { ProfilerReport, QueryProfiler } from './profiler.ts';

/** The JSON body of GET /admin/queries. */
export interface QueriesReport extends ProfilerReport {
  pgStatStatements: PgStatStatements;
}

export const ADMIN_QUERIES_PATH = '/admin/queries';
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

export interface AdminQueriesDeps {
  profiler: Pick<QueryProfiler, 'report'>;
  /** Where pg_stat_statements is read; usually the pool. */
  db: Queryable;
  /** config.admin.token; unset turns the route into a 404. */
  adminToken: string | undefined;
  /** Limits failed attempts per client address. */
  authFailures: AuthFailureGuard;
}

/**
 * @example
 * await app.register(adminQueriesRoutes({ profiler, db: pool, adminToken: config.admin.token, authFailures: rateLimiter.authFailures }));
 */
export function adminQueriesRoutes(deps: AdminQueriesDeps): FastifyPluginAsync {
  const { profiler, db, adminToken, authFailures } = deps;
  const isAuthorized = bearerCheck(adminToken);
  return async function adminQueries(app) {
    app.get(ADMIN_QUERIES_PATH, { schema: { hide: true } }, async function getQueries(request, reply) {
      if (adminToken === undefined) {
        return sendProblem(request, reply, new AppError('ROUTE_NOT_FOUND', `no route matches ${request.method} on this path`));
      }
      const authenticated = await authFailures.attempt(request, () => isAuthorized(request.headers.authorization));
      if (authenticated instanceof AppError) return sendProblem(request, reply, authenticated);
      if (!authenticated) {
        reply.header('www-authenticate', 'Bearer realm="holdfast-admin"');
        return sendProblem(request, reply, new AppError('UNAUTHORIZED', 'send Authorization: Bearer <ADMIN_TOKEN>'));
      }
      const limit = parseLimit((request.query as Record<string, unknown> | undefined)?.limit);
      if (limit === undefined) {
        return sendProblem(
          request,
          reply,
          new AppError('VALIDATION_FAILED', `query.limit must be a whole number from 1 to ${MAX_LIMIT}`, { field: 'query.limit' }),
        );
      }
      const report: QueriesReport = {
        ...profiler.report(limit),
        pgStatStatements: await readPgStatStatements(contextOf(request), db, limit),
      };
      return reply.header('cache-control', 'no-store').type('application/json; charset=utf-8').send(report);
    });
  };
}

function parseLimit(raw: unknown): number | undefined {
  if (raw === undefined) return DEFAULT_LIMIT;
  if (typeof raw !== 'string' || !/^\d{1,4}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 && n <= MAX_LIMIT ? n : undefined;
}
