/**
 * GET /api/ready: readiness, for orchestrators deciding whether to route
 * traffic here. 200 after a database round trip; 503 NOT_READY with
 * Retry-After when the database does not answer within a second, and at
 * once while the service shuts down.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '../../errors/app-error.ts';
import type { Readiness } from '../readiness.ts';
import { sendProblem } from '../problem.ts';
import { problems } from '../schemas.ts';
import { PUBLIC } from '../auth/security.ts';

/**
 * @example
 * api.register(readyRoutes({ readiness: createReadinessCheck({ db: pool, isShuttingDown }) }));
 */
export function readyRoutes(deps: { readiness: () => Promise<Readiness> }): FastifyPluginAsyncTypebox {
  const { readiness } = deps;
  return async function ready(app) {
    app.get(
      '/ready',
      {
        schema: {
          tags: ['operations'],
          summary: 'Readiness: the database answers (checked at most once a second)',
          operationId: 'getReady',
          security: PUBLIC,
          response: { 200: Type.Object({ status: Type.Literal('ready') }), ...problems(429, 503) },
        },
      },
      async function getReady(request, reply) {
        const result = await readiness();
        if (!result.ready) {
          // Answered here rather than thrown: an unready instance is expected
          // (deploys, shutdown) and probes must not fill the log.
          return sendProblem(request, reply, new AppError('NOT_READY', result.reason, { retryAfterSeconds: 1 }));
        }
        return { status: 'ready' as const };
      },
    );
  };
}
