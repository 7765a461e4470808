/**
 * The live operations dashboard at /admin/dashboard: see docs/DASHBOARD.md.
 *
 * @example
 * import { dashboardRoutes } from './dashboard/index.ts';
 * await app.register(dashboardRoutes({ config, pool, pressure, rateLimiter, cache, profiler, metrics }));
 */
export { dashboardRoutes, type DashboardDeps } from './routes.ts';
export { createDashboardFeed, type DashboardFeed, type DashboardFeedOptions } from './feed.ts';
export { createFrameSampler, type DashboardSources } from './sampler.ts';
export type { DashboardFrame, DashboardLevel, SlowQueryRow } from './frame.ts';
