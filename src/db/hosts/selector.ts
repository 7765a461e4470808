/**
 * Which host the pool connects to when DATABASE_URL names several. Hosts are
 * probed in the order given (`SELECT pg_is_in_recovery()` and
 * `SHOW transaction_read_only`), and the first that matches
 * target_session_attrs is selected. When the selected host is lost (a
 * connection error, or a write answered 25006 because it was demoted) the
 * selection is cleared, the generation goes up so that the pool can evict
 * every connection to the lost host, and the hosts are probed again with a
 * backoff that doubles from 100 ms to 500 ms until one matches: a promotion
 * is found within half a second (issue 14: writes held no longer than the
 * promotion plus 1 s), for one short connection per host probed, only while
 * no host is selected.
 *
 * While nothing is selected, `waitForHost` holds its callers (writes) until a
 * host is found or their own deadline passes. Role changes are logged once.
 *
 * @example
 * const selector = createHostSelector({ hosts, target: 'read-write', probe: pgProbe, logger });
 * const host = await selector.waitForHost(Date.now() + 5000); // held while no primary is known
 * selector.lost(host); // after a connection error on it
 */
import type { Logger } from '../../log/logger.ts';
import { parseHostsUrl, type HostConfig } from './url.ts';
import { createPgProbe } from './probe.ts';
import { matches, roleOf, type HostState, type TargetSessionAttrs } from './target.ts';

export type Probe = (host: HostConfig) => Promise<HostState>;

export interface HostView {
  label: string;
  /** Unknown until probed, and after a failed probe. */
  role: 'primary' | 'standby' | 'unreachable' | 'unknown';
  selected: boolean;
}

export interface HostSelectorOptions {
  hosts: HostConfig[];
  target: TargetSessionAttrs;
  probe: Probe;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** Called once per failover (a selection lost and another one made), for holdfast_db_failovers_total. */
  onFailover?: () => void;
  firstBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface HostSelector {
  /** The selected host, or undefined while none is known. */
  current(): HostConfig | undefined;
  /** Goes up each time a selection is lost: connections opened under an older one must be evicted. */
  generation(): number;
  /** Resolves with a selected host (probing if none), or rejects with HostUnavailableError at `deadline` (epoch ms). */
  waitForHost(deadline: number): Promise<HostConfig>;
  /** Reports the host as lost; no-op unless it is the selected one. */
  lost(host: HostConfig): void;
  /** Each host, its last known role, and whether it is selected (for /api/health). */
  view(): HostView[];
  /** Held callers waiting for a host now (a gauge). */
  held(): number;
  /** Selections that moved to another host after a loss (holdfast_db_failovers_total). */
  failovers(): number;
  /** Told of each loss (after the generation went up) and each selection; returns the unsubscribe. */
  subscribe(listener: (event: 'lost' | 'selected') => void): () => void;
  stop(): void;
}

export class HostUnavailableError extends Error {
  readonly code = 'HOST_UNAVAILABLE';
  constructor(target: TargetSessionAttrs) {
    super(`no database host matching target_session_attrs=${target} was found before the deadline`);
  }
}

interface Waiter {
  resolve: (host: HostConfig) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export function createHostSelector(options: HostSelectorOptions): HostSelector {
  const { hosts, target, probe, logger } = options;
  const firstBackoff = options.firstBackoffMs ?? 100;
  const maxBackoff = options.maxBackoffMs ?? 500;
  const roles = new Map<string, HostView['role']>(hosts.map((h) => [h.label, 'unknown']));
  const waiters = new Set<Waiter>();
  let selected: HostConfig | undefined;
  let gen = 0;
  let probing: Promise<void> | undefined;
  let backoff = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  // The host lost last, until another selection: re-selecting it is no failover.
  let lostHost: string | undefined;
  let failovers = 0;
  let stopped = false;
  const listeners = new Set<(event: 'lost' | 'selected') => void>();
  const tell = (event: 'lost' | 'selected'): void => {
    for (const l of listeners) l(event);
  };

  function setRole(label: string, role: HostView['role']): void {
    const before = roles.get(label);
    if (before === role) return;
    roles.set(label, role);
    // Logged once per change; 'unknown' is only the state before the first probe.
    if (before !== 'unknown' || role !== 'unreachable') logger.info({ host: label, from: before, to: role }, 'database host role changed');
  }

  async function probeAll(startedAt: number): Promise<void> {
    let fallback: HostConfig | undefined;
    for (const host of hosts) {
      let state: HostState;
      try {
        state = await probe(host);
      } catch {
        setRole(host.label, 'unreachable');
        continue;
      }
      // A loss reported while this round ran makes its answers stale: run again.
      if (gen !== startedAt) return;
      setRole(host.label, roleOf(state));
      if (matches(target, state)) return select(host);
      if (target === 'prefer-standby' && fallback === undefined) fallback = host;
    }
    if (fallback !== undefined && gen === startedAt) select(fallback);
  }

  function select(host: HostConfig): void {
    selected = host;
    backoff = 0;
    if (lostHost !== undefined && lostHost !== host.label) {
      failovers++;
      options.onFailover?.();
    }
    lostHost = undefined;
    logger.info({ host: host.label, target }, 'database host selected');
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.resolve(host);
    }
    waiters.clear();
    tell('selected');
  }

  function scheduleRetry(): void {
    if (stopped || retryTimer !== undefined || waiters.size === 0) return;
    backoff = Math.min(maxBackoff, backoff === 0 ? firstBackoff : backoff * 2);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      startProbe();
    }, backoff);
    retryTimer.unref();
  }

  function startProbe(): void {
    if (stopped || probing !== undefined || selected !== undefined) return;
    const round = gen;
    probing = probeAll(round).finally(() => {
      probing = undefined;
      if (selected !== undefined) return;
      // A loss came in while this round ran (its answers are stale): probe again now.
      if (gen !== round) startProbe();
      // Nothing matched: try again after a backoff while someone waits.
      else scheduleRetry();
    });
  }

  return {
    current: () => selected,
    generation: () => gen,
    held: () => waiters.size,
    failovers: () => failovers,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitForHost(deadline) {
      if (selected !== undefined) return Promise.resolve(selected);
      return new Promise<HostConfig>((resolve, reject) => {
        const waiter: Waiter = {
          resolve,
          reject,
          timer: setTimeout(
            () => {
              waiters.delete(waiter);
              reject(new HostUnavailableError(target));
            },
            Math.max(0, deadline - Date.now()),
          ),
        };
        waiter.timer.unref();
        waiters.add(waiter);
        // Starts a round unless one runs now (its end schedules the next) or a retry is due.
        if (retryTimer === undefined) startProbe();
      });
    },
    lost(host) {
      if (selected === undefined || selected.label !== host.label) return;
      logger.warn({ host: host.label, target }, 'database host lost; probing the hosts again');
      selected = undefined;
      gen++;
      lostHost = host.label;
      setRole(host.label, 'unknown');
      tell('lost');
      // Probe now even with nobody held yet: the pool's next acquire should find the new host waiting.
      startProbe();
    },
    view: () => hosts.map((h) => ({ label: h.label, role: roles.get(h.label) ?? 'unknown', selected: selected?.label === h.label })),
    stop() {
      stopped = true;
      listeners.clear();
      clearTimeout(retryTimer);
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.reject(new HostUnavailableError(target));
      }
      waiters.clear();
    },
  };
}

/**
 * A selector for DATABASE_URL when it names several hosts or a target_session_attrs;
 * undefined for the plain single-host form, which then behaves exactly as before.
 *
 * @example
 * const hosts = createHostsFromUrl(config.database.url, logger); // pass to createPool({ hosts, … })
 */
export function createHostsFromUrl(url: string, logger: Pick<Logger, 'info' | 'warn'>, onFailover?: () => void): HostSelector | undefined {
  const parsed = parseHostsUrl(url);
  if (parsed.hosts.length === 1 && parsed.target === 'any') return undefined;
  const probe = createPgProbe({ connectTimeoutMs: 2000, applicationName: 'holdfast-probe' });
  return createHostSelector({ hosts: parsed.hosts, target: parsed.target, probe, logger, ...(onFailover ? { onFailover } : {}) });
}
