/**
 * The rate-limit hook: every request except the operational routes is
 * counted against its client's quota (policy "default" for reads, "writes"
 * for POST, PUT, PATCH and DELETE) before routing work, body parsing or any
 * database call, and answered with the RateLimit fields whether admitted or
 * not.
 *
 * A refusal is thrown as `RATE_LIMITED` for the server's error handler to
 * send as 429 problem+json with Retry-After; the RateLimit fields are set
 * first and survive, because Fastify keeps headers already on the reply.
 * Health, readiness and metrics are never limited: a load balancer or
 * scraper that gets 429 would pull a healthy instance. It is a callback hook
 * so that, with the in-memory store, a request costs no promise. Wrapped in
 * `fastify-plugin` so the hook applies to the scope it is registered in;
 * hooks only apply to routes registered after them.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { TraceRef } from '../../context/context.ts';
import { AppError } from '../../errors/app-error.ts';
import type { Decision, Policy } from './gcra.ts';
import { policyField, rateLimitField } from './headers.ts';
import type { KeySource } from './key.ts';
import type { RateLimitStore } from './store.ts';

/** Paths never limited (query strings ignored). */
export const DEFAULT_EXEMPT_PATHS: readonly string[] = Object.freeze(['/api/health', '/api/ready', '/metrics']);

const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface RateLimitPluginOptions {
  /** `read` applies to every method not in `write`'s list (GET, HEAD, OPTIONS, …). */
  policies: { read: Policy; write: Policy };
  store: RateLimitStore;
  /** Undefined: the request is never limited (allow-listed). */
  keyOf(request: KeySource): string | undefined;
  /** Called once per limited-route decision, for the counters. */
  onDecision(decision: Decision): void;
  /** Awaited once at registration, e.g. to connect to Redis before the server listens. */
  start?(): Promise<void>;
  exempt?: readonly string[];
  /** A second budget, charged by cost after the response; its limit is in cost units per window. */
  db?: { policy: Policy; costOf(request: FastifyRequest): number } | undefined;
  /**
   * The request's trace position, handed to the store with each call so a
   * Redis call of a sampled request is a span of its trace. Absent (tracing
   * off, or no store that makes spans): the store gets no trace.
   */
  traceOf?: ((request: FastifyRequest) => TraceRef | undefined) | undefined;
}

/**
 * @example
 * await app.register(rateLimitPlugin({ policies, store, keyOf, onDecision: count })); // usually via createRateLimiter().plugin
 */
export function rateLimitPlugin(options: RateLimitPluginOptions): FastifyPluginAsync {
  const { policies, store, keyOf, onDecision, db, traceOf } = options;
  const exempt = new Set(options.exempt ?? DEFAULT_EXEMPT_PATHS);
  const dbField = db === undefined ? '' : `, ${policyField(db.policy)}`;
  const policyFields = new Map([policies.read, policies.write].map((p) => [p, policyField(p) + dbField]));

  function isExempt(request: FastifyRequest): boolean {
    const url = request.url;
    const q = url.indexOf('?');
    if (exempt.has(q === -1 ? url : url.slice(0, q))) return true;
    const route = request.routeOptions.url;
    return route !== undefined && exempt.has(route);
  }

  /** Sets the fields and returns the refusal, if any; `spent` is the database-time decision, when checked. */
  function answer(reply: FastifyReply, policy: Policy, decision: Decision, spent?: Decision): AppError | undefined {
    reply.header('ratelimit-policy', policyFields.get(policy));
    const field = rateLimitField(policy, decision);
    reply.header('ratelimit', spent === undefined || db === undefined ? field : `${field}, ${rateLimitField(db.policy, spent)}`);
    if (!decision.allowed) {
      onDecision(decision);
      const kind = policy === policies.write ? 'write ' : '';
      return new AppError(
        'RATE_LIMITED',
        `more than ${policy.limit} ${kind}requests per ${Math.ceil(policy.windowMs / 1000)} s; retry in ${decision.retryAfterSeconds} s`,
        { retryAfterSeconds: decision.retryAfterSeconds },
      );
    }
    if (spent !== undefined && db !== undefined && !spent.allowed) {
      onDecision(spent);
      return new AppError(
        'RATE_LIMITED',
        `more than ${db.policy.limit} ms of database time per ${Math.ceil(db.policy.windowMs / 1000)} s; retry in ${spent.retryAfterSeconds} s`,
        { retryAfterSeconds: spent.retryAfterSeconds },
      );
    }
    onDecision(decision);
    return undefined;
  }

  /** Adds the database-time check to an admitted request. */
  function withBudget(
    reply: FastifyReply,
    key: string,
    policy: Policy,
    decision: Decision,
    trace: TraceRef | undefined,
    done: (err?: Error) => void,
  ): void {
    if (db === undefined || !decision.allowed) return done(answer(reply, policy, decision));
    const spent = store.take(`${db.policy.name}:${key}`, db.policy, 0, trace);
    if (spent instanceof Promise) {
      spent.then(
        (budget) => done(answer(reply, policy, decision, budget)),
        (err: Error) => done(err),
      );
    } else {
      done(answer(reply, policy, decision, spent));
    }
  }

  return fp(
    async function rateLimit(app) {
      await options.start?.();
      app.addHook('onRequest', function limitRate(request, reply, done) {
        if (isExempt(request)) return done();
        const key = keyOf(request);
        if (key === undefined) return done();
        const policy = WRITE_METHODS.has(request.method) ? policies.write : policies.read;
        const trace = traceOf?.(request);
        const outcome = store.take(`${policy.name}:${key}`, policy, 1, trace);
        if (outcome instanceof Promise) {
          outcome.then(
            (decision) => withBudget(reply, key, policy, decision, trace, done),
            (err: Error) => done(err),
          );
        } else {
          withBudget(reply, key, policy, outcome, trace, done);
        }
      });
      if (db !== undefined) {
        // After the response, so the client never waits for its own bill.
        app.addHook('onResponse', function chargeDatabaseTime(request, _reply, done) {
          const cost = Math.ceil(db.costOf(request));
          const key = cost > 0 && !isExempt(request) ? keyOf(request) : undefined;
          if (key !== undefined) {
            // The server span has ended by now: this span follows it, still in the request's trace.
            const charged = store.charge(`${db.policy.name}:${key}`, db.policy, cost, traceOf?.(request));
            void Promise.resolve(charged).catch(() => undefined);
          }
          done();
        });
      }
    },
    { name: 'holdfast-rate-limit', fastify: '5.x' },
  );
}
