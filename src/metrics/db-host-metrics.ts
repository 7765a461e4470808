/**
 * Failover metrics, when DATABASE_URL names several hosts: failovers, acquires
 * held while no primary was known and how long, and one gauge per host with
 * its last known role (1 for the selected host, 0 for the others).
 *
 * @example
 * registerAll(registry, dbHostMetrics(hosts, pool.counters));
 */
import type { HostSelector } from '../db/hosts/selector.ts';
import type { PoolStats } from '../db/pool/counters.ts';
import { observed, observedHistogram, type ObservedMetric } from './observed.ts';

export function dbHostMetrics(hosts: Pick<HostSelector, 'failovers' | 'view' | 'held'>, pool: PoolStats): ObservedMetric[] {
  return [
    observed(
      'counter',
      'holdfast_db_failovers_total',
      'Selections that moved to another database host after the selected one was lost',
      () => hosts.failovers(),
    ),
    observed(
      'counter',
      'holdfast_db_held_acquires_total',
      'Acquires that waited while no database host was selected (held for a primary, up to DB_POOL_TIMEOUT)',
      () => pool.held,
    ),
    observedHistogram('holdfast_db_hold_seconds', 'How long each held acquire waited, served or refused', () => pool.holdWait.snapshot()),
    observed(
      'gauge',
      'holdfast_db_host_selected',
      'One per configured host, labelled with its last known role: 1 if the pool uses it',
      () => hosts.view().map((h) => ({ value: h.selected ? 1 : 0, labels: { host: h.label, role: h.role } })),
    ),
  ];
}
