/**
 * Single-flight: one run per key, shared results and errors, nothing kept
 * after settling, and flights detachable by tag.
 */
import { describe, expect, it } from 'vitest';
import { createSingleFlight } from '../../src/cache/single-flight.ts';
import { gateOf } from './helpers/waiting.ts';

describe('createSingleFlight', () => {
  it('runs once for concurrent callers of one key and shares the result', async () => {
    const flights = createSingleFlight<number>();
    const gate = gateOf<number>();
    let runs = 0;
    const start = () => {
      runs++;
      return gate.promise;
    };
    const calls = Array.from({ length: 10 }, () => flights.run('k', [], start));
    expect(calls.filter((c) => c.leader)).toHaveLength(1);
    gate.open(42);
    expect(await Promise.all(calls.map((c) => c.promise))).toEqual(Array(10).fill(42));
    expect(runs).toBe(1);
    expect(flights.size).toBe(0);
  });

  it('shares an error with every caller and forgets it', async () => {
    const flights = createSingleFlight<number>();
    const a = flights.run('k', [], async () => {
      throw new Error('boom');
    });
    const b = flights.run('k', [], async () => 1);
    await expect(a.promise).rejects.toThrow('boom');
    await expect(b.promise).rejects.toThrow('boom');
    expect(await flights.run('k', [], async () => 2).promise).toBe(2);
  });

  it('turns a synchronous throw into a rejection', async () => {
    const flights = createSingleFlight<number>();
    const run = flights.run('k', [], () => {
      throw new Error('sync');
    });
    await expect(run.promise).rejects.toThrow('sync');
  });

  it('lets new callers start afresh after detach, while old callers still get the old result', async () => {
    const flights = createSingleFlight<string>();
    const old = gateOf<string>();
    const first = flights.run('k', ['t'], () => old.promise);
    flights.detach(['other']);
    expect(flights.run('k', ['t'], async () => 'unused').leader).toBe(false);
    flights.detach(['t']);
    const second = flights.run('k', ['t'], async () => 'new');
    expect(second.leader).toBe(true);
    old.open('old');
    expect(await first.promise).toBe('old');
    expect(await second.promise).toBe('new');
    expect(flights.size).toBe(0);
  });
});
