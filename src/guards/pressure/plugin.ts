/**
 * The load-shedding hook: while the pressure monitor is critical, every
 * request except the operational routes is refused with `503 OVERLOADED`
 * and `Retry-After` before any routing work, body parsing or database call.
 *
 * It runs on every request of the service's hottest routes, so when
 * not critical its whole cost is one boolean read (a callback hook: no
 * promise per request). Exemptions are by path, not per-route config, so a
 * route added later is shed by default and only operations routes are let
 * through: health and readiness must keep answering (a load balancer that
 * sees them fail would pull the instance and push its load onto the
 * others), and metrics and admin are how operators see and fix the problem.
 * Wrapped in `fastify-plugin` so the hook applies to the scope it is
 * registered in rather than to a private child scope.
 */
import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';
import type { AppError } from '../../errors/app-error.ts';

/** What the hook reads; owned and flipped by the pressure monitor. */
export interface ShedGate {
  /** True only while critical. */
  readonly shedding: boolean;
  /** Counts one shed request and returns the error to answer it with. */
  refuse(): AppError;
}

/**
 * Paths never shed. A trailing `/*` matches the path and everything under it.
 *
 * @example
 * pressurePlugin(gate, { exempt: [...DEFAULT_EXEMPT_PATHS, '/internal/*'] });
 */
export const DEFAULT_EXEMPT_PATHS: readonly string[] = Object.freeze(['/api/health', '/api/ready', '/metrics', '/admin/*']);

/**
 * A predicate over raw request URLs (query string ignored).
 *
 * @example
 * const exempt = exemptionOf(['/api/health', '/admin/*']);
 * exempt('/admin/pressure?x=1'); // true
 * exempt('/api/products');       // false
 */
export function exemptionOf(patterns: readonly string[]): (url: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.endsWith('/*')));
  const prefixes = patterns.filter((p) => p.endsWith('/*')).map((p) => p.slice(0, -2));
  return function isExempt(url: string): boolean {
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (exact.has(path)) return true;
    for (const prefix of prefixes) if (path === prefix || path.startsWith(`${prefix}/`)) return true;
    return false;
  };
}

/**
 * The Fastify plugin over `gate`. Register it before the routes it guards
 * (hooks only apply to routes registered after them).
 *
 * @example
 * await app.register(pressurePlugin(gate));            // usually via monitor.plugin
 * await app.register(pressurePlugin(gate, { exempt: ['/api/health', '/internal/*'] }));
 */
export function pressurePlugin(gate: ShedGate, options: { exempt?: readonly string[] } = {}): FastifyPluginCallback {
  const isExempt = exemptionOf(options.exempt ?? DEFAULT_EXEMPT_PATHS);
  return fp(
    function pressure(app, _options, done) {
      app.addHook('onRequest', function shedWhenCritical(request, _reply, next) {
        if (!gate.shedding || isExempt(request.url)) {
          next();
          return;
        }
        next(gate.refuse());
      });
      done();
    },
    { name: 'holdfast-pressure', fastify: '5.x' },
  );
}
