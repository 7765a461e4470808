/**
 * GET /api/health: liveness, for load balancers and the load test.
 *
 * Runs no query and reads only the pool's counters, so it answers at the
 * speed of a constant route even when the database is slow or down. It is
 * registered outside the API scope on purpose: no hooks run for it, and it
 * sets its own X-Request-Id.

 */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import type { ConnectionPool } from '../../db/pool/pool.ts';
import type { PressureMonitor } from '../../guards/pressure/monitor.ts';
import { PressureSnapshotSchema } from '../../guards/pressure/schema.ts';
import type { ReplicaState } from '../../db/replicas/lag-sampler.ts';
import { REQUEST_ID_HEADER } from '../request-id.ts';
import { StringEnum, problems } from '../schemas.ts';

export type PoolGauges = Pick<ConnectionPool, 'min' | 'max' | 'limit' | 'size' | 'idle' | 'active' | 'waiting'> &
  Partial<Pick<ConnectionPool, 'hosts'>>;

const Count = Type.Integer({ minimum: 0 });

const HealthSchema = Type.Object({
  status: StringEnum(['ok', 'degraded'], {
    description:
      '`degraded`: fewer live connections than the pool minimum, requests waiting for one, memory/event-loop pressure (see `pressure.reasons`), or no database host selected (failover).',
  }),
  uptimeSeconds: Type.Integer({ minimum: 0 }),
  pool: Type.Object({
    min: Count,
    max: Count,
    limit: Type.Integer({ minimum: 0, description: 'Connections that may be leased now: the adaptive limit, or max when it is off.' }),
    size: Count,
    idle: Count,
    active: Count,
    waiting: Count,
  }),
  pressure: PressureSnapshotSchema,
  replicas: Type.Optional(
    Type.Array(
      Type.Object({
        host: Type.String({ description: '`host:port` of the replica (DATABASE_REPLICA_URLS).' }),
        inRotation: Type.Boolean({ description: 'Serves reads now: reachable, a standby, and within DB_REPLICA_MAX_LAG_MS.' }),
        reachable: Type.Boolean(),
        lagSeconds: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
          description: 'Replay lag at the last sample; null before it.',
        }),
        reason: Type.Optional(
          StringEnum(['lag', 'unreachable', 'not_standby'], {
            description: 'Why it is out of rotation: behind the bound, not answering, or no longer in recovery (promoted: a primary now).',
          }),
        ),
      }),
      { description: 'Only with read replicas configured; as of the last lag sample (DB_REPLICA_LAG_SAMPLE_MS).' },
    ),
  ),
  hosts: Type.Optional(
    Type.Array(
      Type.Object({
        host: Type.String({ description: '`host:port` from DATABASE_URL.' }),
        role: StringEnum(['primary', 'standby', 'unreachable', 'unknown'], { description: 'As last probed.' }),
        selected: Type.Boolean({ description: 'The host the pool connects to now.' }),
      }),
      { description: 'Only when DATABASE_URL names several hosts. None selected: a failover is in progress (`degraded`).' },
    ),
  ),
});

/**
 * @example
 * app.register(healthRoutes({ pool }), { prefix: '/api' });
 */
export function healthRoutes(deps: {
  pool: PoolGauges;
  pressure: Pick<PressureMonitor, 'snapshot'>;
  replicas?: (() => readonly ReplicaState[]) | undefined;
}): FastifyPluginAsyncTypebox {
  const { pool, pressure, replicas } = deps;
  return async function health(app) {
    app.get(
      '/health',
      {
        schema: {
          tags: ['operations'],
          summary: 'Liveness and pool gauges (runs no query)',
          operationId: 'getHealth',
          // No credential, and none is looked at: no hook runs for this route.
          security: [],
          // 431 and 400 come from the HTTP parser, before any route (error-handler.ts).
          response: { 200: HealthSchema, ...problems(400, 431) },
        },
      },
      function getHealth(request, reply) {
        reply.header(REQUEST_ID_HEADER, request.id);
        const health = healthNow(pool, pressure);
        void reply.send(replicas === undefined ? health : { ...health, replicas: replicas().map(replicaHealth) });
      },
    );
  };
}

type Health = Static<typeof HealthSchema>;

function healthNow(pool: PoolGauges, pressure: Pick<PressureMonitor, 'snapshot'>): Health {
  const size = pool.size;
  const waiting = pool.waiting;
  const pressureNow = pressure.snapshot();
  const hosts = pool.hosts?.map((h) => ({ host: h.label, role: h.role, selected: h.selected }));
  const noHost = hosts !== undefined && !hosts.some((h) => h.selected);
  const degraded = size < pool.min || waiting > 0 || pressureNow.state !== 'ok' || noHost;
  return {
    status: degraded ? 'degraded' : 'ok',
    uptimeSeconds: Math.floor(process.uptime()),
    pool: { min: pool.min, max: pool.max, limit: pool.limit, size, idle: pool.idle, active: pool.active, waiting },
    pressure: pressureNow,
    ...(hosts === undefined ? {} : { hosts }),
  };
}

function replicaHealth(state: ReplicaState): NonNullable<Health['replicas']>[number] {
  return {
    host: state.name,
    inRotation: state.inRotation,
    reachable: state.reachable,
    lagSeconds: Number.isNaN(state.lagSeconds) ? null : state.lagSeconds,
    ...(state.reason === undefined ? {} : { reason: state.reason }),
  };
}
