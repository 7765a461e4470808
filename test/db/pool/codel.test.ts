import { describe, expect, it } from 'vitest';
import { createCodel, highReserve } from '../../../src/db/pool/codel.ts';

function clock() {
  let t = 1_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('CoDel shedding and recovery', () => {
  it('sheds only after the wait stayed above target for a whole interval, and recovers when it falls', () => {
    const c = clock();
    const codel = createCodel({ targetMs: 10, intervalMs: 100, now: c.now });
    codel.onDequeue(50); // a burst: above target, but not for an interval yet
    c.advance(99);
    codel.onDequeue(50);
    expect(codel.dropping).toBe(false);
    c.advance(1);
    codel.onDequeue(50);
    expect(codel.dropping).toBe(true);
    expect(codel.lifo).toBe(true);
    expect(codel.admit('normal', 40)).toBe(false);
    expect(codel.admit('low', 40)).toBe(false);
    expect(codel.admit('high', 40)).toBe(true);
    expect(codel.admit('critical', 40)).toBe(true);
    codel.onDequeue(3); // the delay fell under the target
    expect(codel.dropping).toBe(false);
    expect(codel.lifo).toBe(false);
    expect(codel.admit('normal', 3)).toBe(true);
  });

  it('an empty queue ends the dropping state', () => {
    const c = clock();
    const codel = createCodel({ targetMs: 10, intervalMs: 100, now: c.now });
    codel.onDequeue(50);
    c.advance(100);
    codel.onDequeue(50);
    expect(codel.dropping).toBe(true);
    expect(codel.admit('normal', 0)).toBe(true);
    expect(codel.dropping).toBe(false);
  });

  it('admits low only while the delay is well under the target, and normal through a burst shorter than the interval', () => {
    const c = clock();
    const codel = createCodel({ targetMs: 10, intervalMs: 100, now: c.now });
    expect(codel.admit('low', 4)).toBe(true);
    expect(codel.admit('low', 6)).toBe(false);
    expect(codel.admit('normal', 6)).toBe(true);
    expect(codel.admit('normal', 12)).toBe(true); // above target, but not for an interval yet
    c.advance(99);
    expect(codel.admit('normal', 60)).toBe(true);
    c.advance(1);
    expect(codel.admit('normal', 60)).toBe(false); // the wait stood above target for the interval
    expect(codel.admit('high', 60)).toBe(true);
  });

  it('admits low above half the target while nothing more important waits, since shedding it would protect no one', () => {
    const c = clock();
    const codel = createCodel({ targetMs: 10, intervalMs: 100, now: c.now });
    expect(codel.admit('low', 6, 0)).toBe(true);
    expect(codel.admit('low', 6, 1)).toBe(false);
    expect(codel.admit('low', 12, 0)).toBe(true); // above target, not yet for an interval
    c.advance(100);
    expect(codel.admit('low', 12, 0)).toBe(false); // a standing queue of lows is still bounded by dropping
  });

  it('keeps max(1, 20% of the limit) for high', () => {
    expect(highReserve(3, 0.2)).toBe(1);
    expect(highReserve(10, 0.2)).toBe(2);
    expect(highReserve(40, 0.2)).toBe(8);
  });
});
