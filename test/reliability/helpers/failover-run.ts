/**
 * One failover under load, as the failover suites run it: a real primary
 * and synchronous streaming standby (test/helpers/replication.ts), the app
 * in process with DATABASE_URL naming both (target_session_attrs=read-write),
 * mixed reads and orders from 12 clients; `pg_ctl stop -m immediate` on the
 * primary, the promotion once a held write has been refused (as a failover
 * manager's would come later than the hold bound), then load until 20 orders
 * landed on the new primary.
 *
 * Shared so that the suite without replicas (failover.test.ts) and the one
 * with the standby also serving reads (failover-replicas.test.ts) measure the
 * same timeline. `checkFailover` asserts what both promise: no hang, no cut
 * connection, every failure a 503 with Retry-After, each refused order
 * retried with its key gives exactly one order, and the new primary holds
 * every acknowledged order with stock equal to units ordered.
 *
 * @example
 * const stack = await startFailoverStack({ DB_POOL_TIMEOUT: '3' });
 * const run = await runFailover(stack);
 * const figures = await checkFailover(stack, run);
 */
import type pg from 'pg';
import { expect } from 'vitest';
import { startHoldfast, type Holdfast } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config/index.ts';
import { captureLogs, type CapturedLogs } from '../../helpers/logs.ts';
import { startReplicatedPostgres, type ReplicatedPostgres } from '../../helpers/replication.ts';
import { acknowledgedOrders, expectStoreConsistent } from './invariants.ts';
import { describeOutcome, durationOf, fire, startLoad, tally, waitFor, type Outcome, type Shot } from './load.ts';
import { baseEnvironment, orderShot, seedStore, type Store } from './stack.ts';

export interface FailoverStack {
  pair: ReplicatedPostgres;
  app: Holdfast;
  store: Store;
  logs: CapturedLogs;
  /** `127.0.0.1:<port>`: the hosts as /api/health and the metrics name them. */
  primaryLabel: string;
  standbyLabel: string;
  poolTimeoutS: number;
  close(): Promise<void>;
}

export interface FailoverRun {
  outcomes: Outcome[];
  origin: number;
  /** performance.now() when `pg_ctl stop -m immediate` was started, and when it returned. */
  death: number;
  down: number;
  /** When `pg_ctl promote -w` was started, and when it returned (the standby accepts writes). */
  promoting: number;
  promoted: number;
}

/**
 * Starts the pair with synchronous replication, the app over it and the store.
 * `env(pair)` adds settings that need the servers' ports (DATABASE_REPLICA_URLS).
 */
export async function startFailoverStack(
  options: { poolTimeoutS: number; env?: (pair: ReplicatedPostgres) => Record<string, string> } = { poolTimeoutS: 3 },
): Promise<FailoverStack> {
  const pair = await startReplicatedPostgres();
  let app: Holdfast | undefined;
  try {
    const admin = await pair.admin('primary');
    try {
      // Commits wait for the standby's flush: an acknowledged order survives the primary.
      await admin.query("alter system set synchronous_standby_names = '*'");
      await admin.query('select pg_reload_conf()');
    } finally {
      await admin.end();
    }
    const primaryLabel = `127.0.0.1:${pair.primary.port}`;
    const standbyLabel = `127.0.0.1:${pair.standby.port}`;
    const url = `postgres://postgres@${primaryLabel},${standbyLabel}/postgres?target_session_attrs=read-write`;
    const logs = captureLogs('info');
    const config = loadConfig(
      baseEnvironment(url, {
        DB_POOL_TIMEOUT: String(options.poolTimeoutS),
        DB_POOL_MIN: '2',
        DB_POOL_MAX: '8',
        CACHE_ENABLED: 'false',
        ...options.env?.(pair),
      }),
    );
    app = await startHoldfast(config, logs.logger);
    const store = await seedStore({ app }, { products: 10, customers: 10, stock: 1_000_000 });
    await pair.waitForReplay();
    const started = app;
    let closing: Promise<void> | undefined;
    return {
      pair,
      app,
      store,
      logs,
      primaryLabel,
      standbyLabel,
      poolTimeoutS: options.poolTimeoutS,
      close: () =>
        (closing ??= (async () => {
          try {
            await started.stop();
          } finally {
            await pair.destroy();
          }
        })()),
    };
  } catch (err) {
    await app?.stop().catch(() => undefined);
    await pair.destroy();
    throw err;
  }
}

/** An order sent after the crash that was held for at least 1 s, then refused. */
export function heldThenRefused(death: number): (o: Outcome) => boolean {
  return (o) => o.label === 'order' && o.status === 503 && o.startedAt >= death && durationOf(o) >= 1000;
}

/**
 * The load, the crash and the promotion; resolves with every answer once 20 orders landed on the new primary.
 * `beforeCrash` runs under load just before the primary is stopped.
 */
export async function runFailover(stack: FailoverStack, hooks: { beforeCrash?: () => Promise<void> } = {}): Promise<FailoverRun> {
  const { app, store, pair } = stack;
  const origin = performance.now();
  const shot = (n: number): Shot => {
    const product = store.products[n % store.products.length]!;
    const customer = store.customers[n % store.customers.length]!;
    if (n % 3 === 0)
      return orderShot(app.url, { customerId: customer, items: [{ productId: product, quantity: 1 + (n % 2) }] }, `failover-${n}`);
    return n % 3 === 1
      ? { label: 'product', url: `${app.url}/api/products/${product}` }
      : { label: 'list', url: `${app.url}/api/products?limit=10` };
  };
  const load = startLoad({ concurrency: 12, maxDurationMs: 40_000, next: shot });
  const count = (where: (o: Outcome) => boolean) => load.outcomes.filter(where).length;

  await waitFor('orders before the fault', () => count((o) => o.status === 201) >= 20, 15_000);
  await hooks.beforeCrash?.();
  const death = performance.now();
  await pair.stop('primary', 'immediate');
  const down = performance.now();
  // The promotion comes later than the hold bound, as a failover manager's would: writes get their 503 first.
  // (Writes in flight at the crash fail at once; one sent after it is held for DB_POOL_TIMEOUT first.)
  await waitFor('a write held, then refused, while no primary is known', () => count(heldThenRefused(death)) >= 1, 15_000);
  const promoting = performance.now();
  await pair.promote();
  const promoted = performance.now();
  await waitFor('orders on the new primary', () => count((o) => o.status === 201 && o.startedAt >= promoted) >= 20, 20_000);
  const outcomes = await load.stop();
  return { outcomes, origin, death, down, promoting, promoted };
}

/** The figures docs/FAILOVER.md records, printed by the suites. */
export interface FailoverFigures {
  deathToFirst503Ms: number;
  stopCommandMs: number;
  deathToFirstHeldWrite503Ms: number;
  heldWrite503DurationMs: number;
  heldThenServed: number;
  deathToPromotionCalledMs: number;
  promoteCommandMs: number;
  promotionToFirstWriteMs: number;
  requests: number;
  tally: string;
  ordersRefused: number;
  readsRefused: number;
  /** Reads started between the crash and the end of the promotion, and how many of them were answered 200. */
  readsInWindow: number;
  readsInWindowServed: number;
  /** The longest read started in that window (ms). */
  longestReadInWindowMs: number;
  /** The longest read started after the crash (ms): reads held for the new primary show here. */
  longestReadAfterCrashMs: number;
  /**
   * When writes stopped being refused or held, from the end of the promotion (ms; the target is < 1000): the
   * end of the last write refused after the crash, or the moment the new primary was selected when a write
   * was held until then, whichever is later. A held write's hold ends at the selection; what it takes after
   * that is an ordinary write (under a full suite's load, 500 ms and more), reported apart below.
   */
  writeOutageEndAfterPromotionMs: number;
  /** When the service selected the new primary, from the end of the promotion (ms; from its 'database host selected' log line). */
  promotionToSelectedMs: number;
  /** When the last write held until the selection was answered 201, from the end of the promotion (ms). */
  lastHeldWriteServedAfterPromotionMs: number;
  /** The writes that set writeOutageEndAfterPromotionMs, described (for a failing assertion's message). */
  writeOutageCulprits: string[];
}

/** Asserts the promises both suites share (see the header) and returns the figures. */
export async function checkFailover(stack: FailoverStack, run: FailoverRun): Promise<FailoverFigures> {
  const { outcomes, origin, death, down, promoting, promoted } = run;
  const hangBoundMs = stack.poolTimeoutS * 1000 + 2000;
  const show = (list: readonly Outcome[]) => list.map((o) => describeOutcome(o, origin));

  // No hang, no cut connection; every failure a deliberate 503 with Retry-After.
  expect(show(outcomes.filter((o) => o.status === 0 || durationOf(o) > hangBoundMs))).toEqual([]);
  const unexpected = outcomes.filter((o) => (o.label === 'order' ? ![201, 503].includes(o.status) : o.status !== 200 && o.status !== 503));
  expect(show(unexpected), tally(outcomes)).toEqual([]);
  const refused = outcomes.filter((o) => o.status === 503);
  expect(show(refused.filter((o) => !(Number(o.retryAfter) >= 1) || o.code === undefined))).toEqual([]);

  // Retrying each refused order with its key gives it exactly once.
  const orders = outcomes.filter((o) => o.label === 'order');
  const retried: Outcome[] = [];
  for (const o of orders.filter((x) => x.status !== 201)) retried.push(await fire(o.shot));
  expect(show(retried.filter((o) => o.status !== 201))).toEqual([]);
  const acknowledged = acknowledgedOrders([...orders, ...retried]);
  const ids = new Set(acknowledged.map((o) => o.id));
  const keys = new Set(orders.map((o) => (o.shot.init?.headers as Record<string, string>)['idempotency-key']));
  expect(ids.size).toBe(keys.size); // one order per key, whatever the first answer was

  const admin: pg.Client = await stack.pair.admin('standby'); // now the primary
  try {
    const total = await expectStoreConsistent(admin, stack.store.initialStock, acknowledged);
    expect(total).toBe(keys.size);
  } finally {
    await admin.end();
  }

  const firstAfter = (where: (o: Outcome) => boolean, since: number) =>
    Math.min(...outcomes.filter((o) => where(o) && o.endedAt >= since).map((o) => o.endedAt));
  const held = heldThenRefused(death);
  const readsInWindow = outcomes.filter((o) => o.label !== 'order' && o.startedAt >= death && o.startedAt <= promoted);
  // The log's `time` is ISO (ms); performance.timeOrigin puts it on the outcomes' clock.
  const selectedAt = stack.logs.lines
    .filter((l) => l.msg === 'database host selected' && l.host === stack.standbyLabel)
    .map((l) => Date.parse(String(l.time)) - performance.timeOrigin)
    .find((at) => at >= death);
  if (selectedAt === undefined) throw new Error('the new primary was never logged as selected');
  // Every write sent after the crash waits for a primary: one answered 201 was held until the selection.
  const refusedWrites = orders.filter((o) => o.endedAt >= death && o.status === 503);
  const heldWrites = orders.filter((o) => o.startedAt >= death && o.startedAt < selectedAt && o.status === 201);
  const outageEnd = Math.max(...refusedWrites.map((o) => o.endedAt), heldWrites.length > 0 ? selectedAt : -Infinity);
  return {
    deathToFirst503Ms: Math.round(firstAfter((o) => o.status === 503, death) - death),
    stopCommandMs: Math.round(down - death),
    deathToFirstHeldWrite503Ms: Math.round(firstAfter(held, death) - death),
    heldWrite503DurationMs: Math.round(Math.min(...outcomes.filter(held).map(durationOf))),
    heldThenServed: outcomes.filter((o) => o.startedAt >= down && o.startedAt < promoting && o.status < 300).length,
    deathToPromotionCalledMs: Math.round(promoting - death),
    promoteCommandMs: Math.round(promoted - promoting),
    promotionToFirstWriteMs: Math.round(firstAfter((o) => o.status === 201, promoted) - promoted),
    requests: outcomes.length,
    tally: tally(outcomes),
    ordersRefused: orders.length - orders.filter((o) => o.status === 201).length,
    readsRefused: refused.filter((o) => o.label !== 'order').length,
    readsInWindow: readsInWindow.length,
    readsInWindowServed: readsInWindow.filter((o) => o.status === 200).length,
    longestReadInWindowMs: Math.round(Math.max(0, ...readsInWindow.map(durationOf))),
    writeOutageEndAfterPromotionMs: Math.round(outageEnd - promoted),
    promotionToSelectedMs: Math.round(selectedAt - promoted),
    lastHeldWriteServedAfterPromotionMs: Math.round(Math.max(-Infinity, ...heldWrites.map((o) => o.endedAt)) - promoted),
    writeOutageCulprits: [
      `selected at ${Math.round(selectedAt - promoted)} ms (${heldWrites.length} writes held until then)`,
      ...refusedWrites.filter((o) => o.endedAt >= outageEnd - 250).map((o) => describeOutcome(o, promoted)),
    ],
    longestReadAfterCrashMs: Math.round(
      Math.max(0, ...outcomes.filter((o) => o.label !== 'order' && o.startedAt >= death).map(durationOf)),
    ),
  };
}
