import { EventEmitter } from 'node:events';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { nextCrashCount, restartDelayMs } from '../../src/cluster/backoff.ts';
import { createClusterMetrics, type MetricJson } from '../../src/cluster/cluster-metrics.ts';
import { computeBudget, ConnectionBudgetError } from '../../src/cluster/connection-budget.ts';
import { createRpc, type Endpoint } from '../../src/cluster/rpc.ts';
import { observed, registerAll } from '../../src/metrics/observed.ts';
import { workerLabel } from '../../src/cluster/worker.ts';
import { loadConfig } from '../../src/config/index.ts';

describe('X-Worker label', () => {
  it('publishes the worker id and pid only with HTTP_EXPOSE_WORKER=true', () => {
    expect(workerLabel(loadConfig({}), 2, 4242)).toBeUndefined();
    expect(workerLabel(loadConfig({ HTTP_EXPOSE_WORKER: 'false' }), 2, 4242)).toBeUndefined();
    expect(workerLabel(loadConfig({ HTTP_EXPOSE_WORKER: 'true' }), 2, 4242)).toBe('2; pid=4242');
  });
});

describe('restart backoff', () => {
  it('doubles per crash in a row from 250 ms, capped at 15 s, with at most 10% jitter', () => {
    const none = () => 0;
    expect([1, 2, 3, 4, 5].map((n) => restartDelayMs(n, undefined, none))).toEqual([250, 500, 1000, 2000, 4000]);
    expect(restartDelayMs(50, undefined, none)).toBe(15_000);
    expect(restartDelayMs(1, undefined, () => 0.999)).toBeLessThanOrEqual(275);
  });

  it('starts counting afresh after a worker stayed up 30 s', () => {
    expect(nextCrashCount(4, 1_000)).toBe(5);
    expect(nextCrashCount(4, 30_000)).toBe(1);
  });
});

describe('connection budget arithmetic', () => {
  const limits = { maxConnections: 100, superuserReserved: 3, reserved: 0 };

  it('fits when workers × DB_POOL_MAX ≤ max_connections − reserved − headroom', () => {
    expect(computeBudget(limits, { workers: 2, poolMax: 40, headroom: 10 })).toMatchObject({ available: 87, needed: 80, fits: true });
    expect(computeBudget(limits, { workers: 3, poolMax: 29, headroom: 10 }).fits).toBe(true);
    expect(computeBudget({ ...limits, reserved: 5 }, { workers: 3, poolMax: 29, headroom: 10 }).fits).toBe(false);
  });

  it('explains a shortfall with every number and a value for each knob that would fix it', () => {
    const message = new ConnectionBudgetError(computeBudget(limits, { workers: 3, poolMax: 40, headroom: 10 })).message;
    expect(message).toContain('WEB_CONCURRENCY=3 workers × DB_POOL_MAX=40 = 120 connections, but the server leaves 87');
    expect(message).toContain('max_connections 100 − 3 superuser-reserved − 0 reserved − headroom 10');
    expect(message).toContain('lower DB_POOL_MAX to 29 or less');
    expect(message).toContain('lower WEB_CONCURRENCY to 2 or less');
    expect(message).toContain('raise max_connections on the server (to at least 133)');
    expect(message).toContain('PgBouncer');
  });
});

/** Two Rpc ends joined back to back, as a worker and the primary are. */
function pair(): [Endpoint, Endpoint] {
  const a = new EventEmitter();
  const b = new EventEmitter();
  const end = (self: EventEmitter, peer: EventEmitter): Endpoint => ({
    send: (m) => void setImmediate(() => peer.emit('message', JSON.parse(JSON.stringify(m)))),
    subscribe: (l) => {
      self.on('message', l);
      return () => self.off('message', l);
    },
  });
  return [end(a, b), end(b, a)];
}

describe('rpc over IPC', () => {
  it('answers calls both ways, passes handler errors back, and bounds an unanswered call', async () => {
    const [left, right] = pair();
    const worker = createRpc(left);
    const primary = createRpc(right);
    primary.handle('double', (body) => (body as number) * 2);
    worker.handle('fail', () => {
      throw new Error('nope');
    });
    expect(await worker.call('double', 21, 1000)).toBe(42);
    await expect(primary.call('fail', null, 1000)).rejects.toThrow('nope');
    await expect(primary.call('missing', null, 1000)).rejects.toThrow('no handler for missing');
    worker.handle('slow', () => new Promise(() => undefined));
    await expect(primary.call('slow', null, 50)).rejects.toThrow('slow: no answer within 50 ms');
    primary.close();
    await expect(primary.call('double', 1, 1000)).rejects.toThrow('channel closed');
  });
});

async function workerJson(setup: (r: Registry) => void): Promise<MetricJson[]> {
  const registry = new Registry();
  setup(registry);
  return (await registry.getMetricsAsJSON()) as unknown as MetricJson[];
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('cluster metrics aggregation', () => {
  const worker = (requests: number, poolMax: number, delayS: number) =>
    workerJson((r) => {
      registerAll(r, [
        observed('gauge', 'holdfast_db_pool_max', 'max', () => poolMax),
        observed('counter', 'holdfast_db_pool_acquires_total', 'acquires', () => requests),
        observed('gauge', 'holdfast_pressure_event_loop_delay_p99_seconds', 'p99', () => delayS),
        observed('gauge', 'holdfast_pressure_state', 'state', () => [
          { value: 1, labels: { state: 'ok' } },
          { value: 0, labels: { state: 'critical' } },
        ]),
      ]);
      const h = new Histogram({
        name: 'holdfast_http_request_duration_seconds',
        help: 'h',
        labelNames: ['route'],
        buckets: [0.1],
        registers: [r],
      });
      for (let i = 0; i < requests; i++) h.observe({ route: '/x' }, 0.05);
      new Counter({ name: 'holdfast_unused_total', help: 'c', registers: [r] });
      new Gauge({ name: 'holdfast_unused', help: 'g', registers: [r] });
    });

  it('sums totals, takes the worst worker for per-process p99s, counts workers per state, and adds its own series', async () => {
    const snapshots = new Map([
      [1, await worker(10, 5, 0.02)],
      [2, await worker(30, 5, 0.4)],
    ]);
    const metrics = createClusterMetrics({
      workers: () => [...snapshots].map(([id, json]) => ({ id, collect: async () => json })),
      configuredWorkers: 2,
      restarts: () => 0,
      relay: () => ({ sent: 0, failed: 0 }),
    });
    const text = await metrics.scrape();
    expect(value(text, 'holdfast_db_pool_max')).toBe(10);
    expect(value(text, 'holdfast_db_pool_acquires_total')).toBe(40);
    expect(value(text, 'holdfast_http_request_duration_seconds_count{route="/x"}')).toBe(40);
    expect(value(text, 'holdfast_http_request_duration_seconds_bucket{le="0.1",route="/x"}')).toBe(40);
    expect(value(text, 'holdfast_pressure_event_loop_delay_p99_seconds')).toBe(0.4);
    expect(value(text, 'holdfast_pressure_state{state="ok"}')).toBe(2);
    expect(value(text, 'holdfast_cluster_workers_ready')).toBe(2);
  });

  it("keeps an exited worker's last counters, so the cluster's sums never go down across a restart", async () => {
    const snapshots = new Map([
      [1, await worker(10, 5, 0)],
      [2, await worker(30, 5, 0)],
    ]);
    let failing = false;
    const metrics = createClusterMetrics({
      workers: () =>
        [...snapshots].map(([id, json]) => ({
          id,
          collect: async () => {
            if (failing && id === 3) throw new Error('timeout');
            return json;
          },
        })),
      configuredWorkers: 2,
      restarts: () => 1,
      relay: () => ({ sent: 0, failed: 0 }),
    });
    expect(value(await metrics.scrape(), 'holdfast_db_pool_acquires_total')).toBe(40);
    snapshots.delete(2);
    await metrics.retire(2);
    snapshots.set(3, await worker(1, 5, 0)); // the replacement starts from zero
    const after = await metrics.scrape();
    expect(value(after, 'holdfast_db_pool_acquires_total')).toBe(41);
    expect(value(after, 'holdfast_http_request_duration_seconds_count{route="/x"}')).toBe(41);
    expect(value(after, 'holdfast_db_pool_max')).toBe(10); // gauges are never carried over
    failing = true;
    const partial = await metrics.scrape();
    expect(value(partial, 'holdfast_cluster_scrape_missing_workers')).toBe(1);
    expect(value(partial, 'holdfast_db_pool_max')).toBe(5);
  });
});
