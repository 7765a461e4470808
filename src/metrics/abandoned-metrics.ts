/**
 * `holdfast_abandoned_requests_total{stage}`: requests whose client left
 * before the answer, by where they were (queue, statement, after). The
 * counts live beside the code that sees the abandonment
 * (src/context/deadline.ts); this reads them at scrape time, so the hot
 * path pays one integer increment and no label lookup.
 *
 * @example
 * registerAbandonedMetrics(registry);
 */
import { Counter, type Registry } from 'prom-client';
import { abandoned } from '../context/deadline.ts';

export function registerAbandonedMetrics(registry: Registry): void {
  if (registry.getSingleMetric('holdfast_abandoned_requests_total') !== undefined) return;
  new Counter({
    name: 'holdfast_abandoned_requests_total',
    help: 'Requests whose client closed the connection before the answer, by stage: queue (withdrawn from the pool queue), statement (cancelled on the server), after (elsewhere)',
    labelNames: ['stage'],
    registers: [registry],
    collect() {
      this.reset();
      for (const stage of ['queue', 'statement', 'after'] as const) this.inc({ stage }, abandoned[stage]);
    },
  });
}
