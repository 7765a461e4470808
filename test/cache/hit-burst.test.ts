/**
 * The in-memory cache's hits are answered together in the check phase of
 * the turn they were asked in (src/cache/hit-burst.ts): none before the
 * turn's other callbacks, all in one flush, each a copy of its own.
 */
import { describe, expect, it } from 'vitest';
import { createHitBurst } from '../../src/cache/hit-burst.ts';

/** Resolves after the check-phase callbacks scheduled before it (setImmediate runs them in order). */
const afterCheckPhase = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('hit burst', () => {
  it('holds every answer of a turn until its check phase, then resolves them all together', async () => {
    const burst = createHitBurst();
    const settled: number[] = [];
    const answers = [1, 2, 3].map((id) => burst.answer<{ id: number }>(`{"id":${id}}`).then((v) => settled.push(v.id)));
    expect(burst.pending).toBe(3);
    // Microtasks alone (the rest of the request's own handling) do not release them.
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(settled).toEqual([]);
    await afterCheckPhase();
    await Promise.all(answers);
    expect(settled).toEqual([1, 2, 3]);
    expect(burst.pending).toBe(0);
  });

  it('gives each caller its own copy of the same entry', async () => {
    const burst = createHitBurst();
    const json = '{"id":7,"stock":3}';
    const [a, b] = await Promise.all([burst.answer<{ stock: number }>(json), burst.answer<{ stock: number }>(json)]);
    a.stock = 99;
    expect(b).toEqual({ id: 7, stock: 3 });
  });

  it('answers asked for during a flush wait for the next check phase', async () => {
    const burst = createHitBurst();
    let second: Promise<string> | undefined;
    const first = burst.answer<string>('"one"').then((v) => {
      second = burst.answer<string>('"two"');
      expect(burst.pending).toBe(1);
      return v;
    });
    await afterCheckPhase();
    expect(await first).toBe('one');
    expect(await second).toBe('two');
    expect(burst.pending).toBe(0);
  });

  it('rejects only the answer whose entry does not parse', async () => {
    const burst = createHitBurst();
    const results = await Promise.allSettled([burst.answer('"ok"'), burst.answer('{not json'), burst.answer('2')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(results[0]).toMatchObject({ value: 'ok' });
    expect(results[2]).toMatchObject({ value: 2 });
  });
});
