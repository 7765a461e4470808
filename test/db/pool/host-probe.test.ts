/**
 * The host probe: a statement unanswered for 250 ms makes the pool ask its
 * host `SELECT 1` on a connection of its own. A silent host (the freeze
 * proxy) fails the statements in flight long before their statement_timeout;
 * a live host whose statement is slow (blocked on a lock) is left alone.
 */
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeadlineError } from '../../../src/async/deadline.ts';
import { hostProbe, PROBE_DEADLINE_MS, PROBE_EVERY_MS } from '../../../src/db/pool/host-probe.ts';
import { isAppError } from '../../../src/errors/app-error.ts';
import { TEST } from '../../helpers/context.ts';
import { eventually, poolBehindFreezeProxy, timed, type FrozenPool } from '../../helpers/frozen-pool.ts';
import { captureLogs } from '../../helpers/logs.ts';

/** Far beyond the probe's own bound (250 ms + 1 s), far below the statement timeout: room for a loaded machine. */
const STATEMENT_TIMEOUT_MS = 30_000;
const BOUND_MS = 5_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(overrides: Parameters<typeof poolBehindFreezeProxy>[0] = {}): Promise<FrozenPool> {
  const frozen = await poolBehindFreezeProxy({ statementTimeoutMs: STATEMENT_TIMEOUT_MS, acquireTimeoutMs: 1000, ...overrides });
  cleanups.push(frozen.close);
  return frozen;
}

describe('the host probe, against real servers', () => {
  it('fails every statement in flight on a silent host long before statement_timeout, and closes their connections', async () => {
    const logs = captureLogs('warn');
    const { pool, proxy } = await setup({ min: 2, max: 2, logger: logs.logger });
    await Promise.all([pool.query(TEST, { text: 'select 1' }), pool.query(TEST, { text: 'select 1' })]);
    const destroyed = pool.counters.destroyed;

    proxy.freeze();
    const runs = await Promise.all([timed(pool.query(TEST, { text: 'select 1' })), timed(pool.query(TEST, { text: 'select 1' }))]);
    for (const run of runs) {
      expect(isAppError(run.error, 'DB_UNAVAILABLE'), String(run.error)).toBe(true);
      expect(run.ms).toBeLessThan(BOUND_MS);
    }
    expect(pool.counters.hostSilences).toBe(1);
    // Severed with the verdict, not kept out of the pool until statement_timeout + 1 s.
    expect(pool.counters.destroyed - destroyed).toBe(2);
    expect(logs.lines.some((l) => String(l.msg).startsWith('database host silent') && l.statements === 2)).toBe(true);

    proxy.thaw();
    expect(await eventually(async () => (await timed(pool.query(TEST, { text: 'select 1' }))).error === undefined, BOUND_MS)).toBe(true);
  });

  it('leaves a slow statement on a live host alone, asking again while it stays slow', async () => {
    const { pool, url } = await setup({ min: 1, max: 2 });
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    cleanups.push(() => locker.end());
    await locker.query('create table held (id int)');
    await locker.query('begin');
    await locker.query('lock table held in access exclusive mode');
    const { created, destroyed } = pool.counters;

    const slow = timed(pool.query(TEST, { text: 'select count(*) from held' }));
    // Asked at 250 ms, answered, and asked again a second later since the statement is still waiting.
    expect(await eventually(() => pool.counters.hostProbes >= 2, BOUND_MS + PROBE_EVERY_MS)).toBe(true);
    await locker.query('commit');

    const run = await slow;
    expect(run.error).toBeUndefined();
    expect(pool.counters.hostSilences).toBe(0);
    expect(pool.counters.destroyed).toBe(destroyed);
    expect(pool.counters.created).toBe(created);
  });

  it('asks nothing with hostProbe off (behind a pooler): silence is then found at statement_timeout + the margin', async () => {
    const { pool, proxy } = await setup({ statementTimeoutMs: 300, min: 1, max: 1, hostProbe: false });
    await pool.query(TEST, { text: 'select 1' });
    proxy.freeze();
    const run = await timed(pool.query(TEST, { text: 'select 1' }));
    expect(isAppError(run.error, 'DB_UNAVAILABLE'), String(run.error)).toBe(true);
    expect(pool.counters.hostProbes).toBe(0);
    proxy.thaw();
  });
});

describe('hostProbe', () => {
  function probeWith(ask: () => Promise<void>) {
    const silent = vi.fn();
    const asked = vi.fn(ask);
    const probe = hostProbe({ ask: asked, slow: () => true, silent });
    return { probe, asked, silent };
  }

  it('asks a host once at a time, however many statements turn slow meanwhile', async () => {
    let answer!: () => void;
    const { probe, asked } = probeWith(() => new Promise<void>((resolve) => (answer = resolve)));
    probe.slowStatement(undefined);
    probe.slowStatement(undefined);
    expect(asked).toHaveBeenCalledTimes(1);
    expect(probe.running).toBe(1);
    answer();
    await Promise.resolve();
    expect(probe.running).toBe(0);
    probe.stop();
  });

  it('asks again PROBE_EVERY_MS after an answer while statements stay slow, and not sooner', async () => {
    vi.useFakeTimers();
    const { probe, asked } = probeWith(() => Promise.resolve());
    probe.slowStatement(undefined);
    await vi.advanceTimersByTimeAsync(0);
    probe.slowStatement(undefined);
    expect(asked).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(PROBE_EVERY_MS);
    expect(asked).toHaveBeenCalledTimes(2);
    probe.stop();
  });

  it('calls the host silent only when it stayed silent, not when it refused', async () => {
    const refused = probeWith(() => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
    refused.probe.slowStatement(undefined);
    await new Promise((r) => setImmediate(r));
    expect(refused.silent).not.toHaveBeenCalled();

    const silent = probeWith(() => Promise.reject(new DeadlineError('database host probe', PROBE_DEADLINE_MS)));
    silent.probe.slowStatement(undefined);
    await new Promise((r) => setImmediate(r));
    expect(silent.silent).toHaveBeenCalledTimes(1);
  });
});
