/**
 * GET /api/reports/top-products: products ranked by units sold in the last
 * `days` days, with units and revenue, paginated by keyset over the ranking.
 *
 * `days` is one of a few windows, so the cache can hold every first page an
 * anonymous client may ask for instead of each distinct value costing a full
 * aggregate (docs/SECURITY.md, "Expensive queries"); anything else is 400.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ReportStore } from '../../store/reports.ts';
import type { CursorCodec } from '../cursor.ts';
import { fromRankKey, isRankKey, toRankKey } from '../keys.ts';
import { TopProductSchema } from '../models.ts';
import { page } from '../pagination.ts';
import { Page, PageQuery, problems } from '../schemas.ts';
import { contextOf } from '../context.ts';
import { PUBLIC } from '../auth/security.ts';

/** The report windows offered, in days. */
export const REPORT_WINDOWS_DAYS = [1, 7, 30, 90, 365] as const;

const TopProductsQuery = Type.Object({
  days: Type.Integer({
    enum: [...REPORT_WINDOWS_DAYS],
    default: 30,
    description: `Window length in days, ending now (pinned by the cursor): one of ${REPORT_WINDOWS_DAYS.join(', ')}.`,
  }),
  ...PageQuery,
});

/**
 * @example
 * api.register(reportRoutes({ reports: createReportStore(pool), cursors }));
 */
export function reportRoutes(deps: { reports: ReportStore; cursors: CursorCodec }): FastifyPluginAsyncTypebox {
  const { reports, cursors } = deps;
  return async function reportsPlugin(app) {
    app.get(
      '/reports/top-products',
      {
        schema: {
          tags: ['reports'],
          summary: 'Best-selling products by units',
          operationId: 'topProducts',
          security: PUBLIC,
          querystring: TopProductsQuery,
          response: { 200: Page(TopProductSchema), ...problems(400, 429, 503) },
        },
      },
      async function topProducts(request, reply) {
        const { days, limit, cursor } = request.query;
        const filters = { days };
        const after = cursor === undefined ? undefined : fromRankKey(cursors.decode('top-products', filters, cursor, isRankKey));
        const result = await reports.topProducts(contextOf(request), { days, limit, after });
        const next = result.next === null ? null : cursors.encode('top-products', filters, toRankKey(result.next));
        return page(request, reply, result.items, next);
      },
    );
  };
}
