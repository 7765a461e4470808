/**
 * The shared Redis breaker on its own, with fake timers and a scripted
 * probe: degrade on the first failure, probe in the background, recover,
 * and exactly one log line per transition.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRedisFallback, type RedisFallbackOptions } from '../../src/redis/fallback.ts';

const MESSAGES = { unavailable: 'down', recovered: 'back', connected: 'connected' };
const INTERVAL_MS = 1000;

interface Line {
  level: 'info' | 'warn';
  obj: Record<string, unknown>;
  msg: string;
}

function setup(overrides: Partial<RedisFallbackOptions> = {}) {
  const lines: Line[] = [];
  const logger = {
    info: (obj: object, msg: string) => lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
    warn: (obj: object, msg: string) => lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
  };
  const probe = { answers: false, calls: 0 };
  const recovered = vi.fn();
  const breaker = createRedisFallback({
    logger,
    probeIntervalMs: INTERVAL_MS,
    probe: async () => {
      probe.calls++;
      if (!probe.answers) throw new Error('ECONNREFUSED');
    },
    messages: MESSAGES,
    context: () => ({ component: 'test' }),
    onRecover: recovered,
    ...overrides,
  });
  return { breaker, lines, probe, recovered, msgs: () => lines.map((l) => l.msg) };
}

describe('createRedisFallback', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('uses the primary while healthy, and degrades on its first failure with one warning', async () => {
    const { breaker, lines } = setup();
    const attempt = vi.fn(async () => 'redis');
    expect(await breaker.run(attempt, () => 'memory', 'take')).toBe('redis');
    expect(lines).toEqual([]);

    const failing = vi.fn(() => Promise.reject(new Error('boom redis://:s3cret@h')));
    expect(await breaker.run(failing, () => 'memory', 'take')).toBe('memory');
    expect(breaker.healthy).toBe(false);
    // While open, the fallback answers synchronously and the primary is not touched.
    expect(breaker.run(attempt, () => 'memory', 'take')).toBe('memory');
    expect(attempt).toHaveBeenCalledTimes(1);
    breaker.fail(new Error('again'), 'connection');
    breaker.fail('and again', 'connection');

    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual({ level: 'warn', obj: { component: 'test', during: 'take', err: 'boom redis://:s3cret@h' }, msg: 'down' });
    breaker.close();
  });

  it('probes every interval while degraded and recovers once the probe answers, logging once', async () => {
    const { breaker, probe, recovered, msgs } = setup();
    breaker.fail(new Error('gone'), 'take');
    expect(probe.calls).toBe(0);

    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(probe.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 2);
    expect(probe.calls).toBe(3);
    expect(breaker.healthy).toBe(false);
    expect(recovered).not.toHaveBeenCalled();

    probe.answers = true;
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(breaker.healthy).toBe(true);
    expect(recovered).toHaveBeenCalledTimes(1);
    expect(msgs()).toEqual(['down', 'back']);

    // Healthy: no more probing.
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 5);
    expect(probe.calls).toBe(4);

    // A second outage is a new transition: one more warning, one more recovery.
    breaker.fail(new Error('gone again'), 'take');
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(msgs()).toEqual(['down', 'back', 'down', 'back']);
    breaker.close();
  });

  it('probes at once on recover(), one probe at a time', async () => {
    const { breaker, probe } = setup();
    breaker.fail(new Error('gone'), 'take');
    probe.answers = true;
    await Promise.all([breaker.recover(), breaker.recover()]);
    expect(probe.calls).toBe(1);
    expect(breaker.healthy).toBe(true);
    await breaker.recover();
    expect(probe.calls).toBe(1);
    breaker.close();
  });

  it('ignores a probe that succeeded while a failure was reported, and tries again', async () => {
    let release!: () => void;
    let gate: Promise<void> | undefined;
    const { breaker, msgs } = setup({
      probe: () => gate ?? Promise.resolve(),
    });
    breaker.fail(new Error('gone'), 'take');
    gate = new Promise<void>((r) => (release = r));
    const probing = breaker.recover();
    breaker.fail(new Error('lost while probing'), 'invalidate');
    release();
    await probing;
    expect(breaker.healthy).toBe(false);

    gate = undefined;
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(breaker.healthy).toBe(true);
    expect(msgs()).toEqual(['down', 'back']);
    breaker.close();
  });

  it('started degraded: stays quiet while it cannot probe, then logs "connected" once', async () => {
    let connected = false;
    const { breaker, probe, msgs } = setup({ startHealthy: false, canProbe: () => connected });
    probe.answers = true;
    expect(breaker.healthy).toBe(false);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 3);
    expect(probe.calls).toBe(0);
    expect(msgs()).toEqual([]);

    connected = true;
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(breaker.healthy).toBe(true);
    expect(msgs()).toEqual(['connected']);
    breaker.close();
  });

  it('started degraded: a real failure warns, and the first success still says "connected"', async () => {
    const { breaker, probe, msgs } = setup({ startHealthy: false });
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(msgs()).toEqual(['down']);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 3);
    expect(msgs()).toEqual(['down']);
    probe.answers = true;
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(msgs()).toEqual(['down', 'connected']);
    breaker.close();
  });

  it('stops probing when closed', async () => {
    const { breaker, probe, lines } = setup();
    breaker.fail(new Error('gone'), 'take');
    breaker.close();
    probe.answers = true;
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 5);
    expect(probe.calls).toBe(0);
    breaker.fail(new Error('after close'), 'take');
    expect(lines).toHaveLength(1);
  });
});
