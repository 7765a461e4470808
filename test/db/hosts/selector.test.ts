import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHostSelector, HostUnavailableError, type Probe } from '../../../src/db/hosts/selector.ts';
import type { HostState } from '../../../src/db/hosts/target.ts';
import type { HostConfig } from '../../../src/db/hosts/url.ts';

const h1: HostConfig = { label: 'h1:5432', address: 'h1', port: 5432, connectionString: 'postgres://u:pw@h1/db' };
const h2: HostConfig = { label: 'h2:5432', address: 'h2', port: 5432, connectionString: 'postgres://u:pw@h2/db' };
const PRIMARY: HostState = { inRecovery: false, readOnly: false };
const STANDBY: HostState = { inRecovery: true, readOnly: true };

/** A probe answering from a table the test changes; 'down' rejects like a refused connection. */
function stubProbe(states: Map<string, HostState | 'down'>): Probe & { calls: string[] } {
  const calls: string[] = [];
  const probe = async (host: HostConfig) => {
    calls.push(host.label);
    const s = states.get(host.label);
    if (s === undefined || s === 'down') throw new Error('connect ECONNREFUSED');
    return s;
  };
  return Object.assign(probe, { calls });
}

function logger() {
  return { info: vi.fn(), warn: vi.fn() };
}

describe('host selector', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('selects the first host matching read-write, skipping the standby', async () => {
    const states = new Map<string, HostState | 'down'>([
      ['h1:5432', STANDBY],
      ['h2:5432', PRIMARY],
    ]);
    const selector = createHostSelector({ hosts: [h1, h2], target: 'read-write', probe: stubProbe(states), logger: logger() });
    await expect(selector.waitForHost(Date.now() + 1000)).resolves.toBe(h2);
    expect(selector.view()).toEqual([
      { label: 'h1:5432', role: 'standby', selected: false },
      { label: 'h2:5432', role: 'primary', selected: true },
    ]);
  });

  it('prefer-standby falls back to the primary when no standby answers', async () => {
    const states = new Map<string, HostState | 'down'>([
      ['h1:5432', PRIMARY],
      ['h2:5432', 'down'],
    ]);
    const selector = createHostSelector({ hosts: [h1, h2], target: 'prefer-standby', probe: stubProbe(states), logger: logger() });
    await expect(selector.waitForHost(Date.now() + 1000)).resolves.toBe(h1);
  });

  it('holds waiters while no primary is known and releases them on promotion; counts one failover', async () => {
    const states = new Map<string, HostState | 'down'>([
      ['h1:5432', PRIMARY],
      ['h2:5432', STANDBY],
    ]);
    const probe = stubProbe(states);
    const onFailover = vi.fn();
    const log = logger();
    const selector = createHostSelector({ hosts: [h1, h2], target: 'read-write', probe, logger: log, onFailover });
    await selector.waitForHost(Date.now() + 1000);
    const gen = selector.generation();

    states.set('h1:5432', 'down');
    selector.lost(h1);
    expect(selector.generation()).toBe(gen + 1); // the pool evicts connections of older generations
    expect(selector.current()).toBeUndefined();

    let got: HostConfig | undefined;
    const held = selector.waitForHost(Date.now() + 60_000).then((h) => (got = h));
    await vi.advanceTimersByTimeAsync(1000); // several probe rounds with backoff: still no primary
    expect(got).toBeUndefined();
    expect(selector.held()).toBe(1);
    const callsBefore = probe.calls.length;
    await vi.advanceTimersByTimeAsync(10_000);
    // Backoff caps at 500 ms: about twenty rounds of two probes in 10 s, not one per 100 ms.
    expect(probe.calls.length - callsBefore).toBeLessThanOrEqual(44);

    states.set('h2:5432', PRIMARY); // promoted
    await vi.advanceTimersByTimeAsync(500); // found within one capped backoff
    expect(got).toBe(h2);
    await held;
    expect(selector.held()).toBe(0);
    expect(onFailover).toHaveBeenCalledTimes(1);
    // Each role change logged once: h1 primary→unknown→unreachable, h2 standby→primary.
    const changes = log.info.mock.calls.filter((c) => c[1] === 'database host role changed').map((c) => c[0]);
    expect(changes).toContainEqual({ host: 'h2:5432', from: 'standby', to: 'primary' });
    // Many probe rounds saw h2 as a standby; it is logged once when first seen, once when promoted.
    expect(changes.filter((c) => (c as { host: string }).host === 'h2:5432')).toEqual([
      { host: 'h2:5432', from: 'unknown', to: 'standby' },
      { host: 'h2:5432', from: 'standby', to: 'primary' },
    ]);
    selector.stop();
  });

  it('fails a held waiter at its own deadline with HostUnavailableError', async () => {
    const states = new Map<string, HostState | 'down'>([
      ['h1:5432', STANDBY],
      ['h2:5432', 'down'],
    ]);
    const selector = createHostSelector({ hosts: [h1, h2], target: 'read-write', probe: stubProbe(states), logger: logger() });
    const waiting = selector.waitForHost(Date.now() + 500);
    const assertion = expect(waiting).rejects.toBeInstanceOf(HostUnavailableError);
    await vi.advanceTimersByTimeAsync(500);
    await assertion;
    expect(selector.held()).toBe(0);
    selector.stop();
  });

  it('ignores a loss report for a host that is not selected', async () => {
    const states = new Map<string, HostState | 'down'>([['h1:5432', PRIMARY]]);
    const selector = createHostSelector({ hosts: [h1, h2], target: 'read-write', probe: stubProbe(states), logger: logger() });
    await selector.waitForHost(Date.now() + 1000);
    selector.lost(h2);
    expect(selector.current()).toBe(h1);
    expect(selector.generation()).toBe(0);
  });

  it('re-selecting the lost host is no failover; subscribers hear the loss after the generation went up, then the selection', async () => {
    const states = new Map<string, HostState | 'down'>([
      ['h1:5432', PRIMARY],
      ['h2:5432', STANDBY],
    ]);
    const onFailover = vi.fn();
    const selector = createHostSelector({ hosts: [h1, h2], target: 'read-write', probe: stubProbe(states), logger: logger(), onFailover });
    await selector.waitForHost(Date.now() + 1000);
    const events: [string, number][] = [];
    selector.subscribe((event) => events.push([event, selector.generation()]));
    selector.lost(h1); // a killed backend, say: h1 is still the primary
    await vi.advanceTimersByTimeAsync(0);
    expect(selector.current()).toBe(h1);
    expect(events).toEqual([
      ['lost', 1],
      ['selected', 1],
    ]);
    expect(selector.failovers()).toBe(0);
    expect(onFailover).not.toHaveBeenCalled();
    selector.stop();
  });
});
