/**
 * Telling a slow statement from a silent server before statement_timeout.
 *
 * A statement unanswered for SLOW_AFTER_MS makes the pool ask its host one
 * question on a connection of its own: `SELECT 1` within PROBE_DEADLINE_MS
 * (validation's bound). A live server answers it however long its other
 * statements run; a silent network does not, and then every statement in
 * flight to that host is silent: its caller gets 503 DB_UNAVAILABLE and
 * its connection is severed at once, instead of at statement_timeout + 1 s
 * (silence.ts), which with the default 10 s statement timeout is what kept
 * a request alive for 10 s of silence.
 *
 * One probe per host at a time: a statement turning slow while one runs
 * waits for its verdict. After an answer, the host is asked again every
 * PROBE_EVERY_MS while statements to it stay unanswered past SLOW_AFTER_MS,
 * so a silence that begins under long statements is found too. A probe
 * that fails in any other way (refused, reset, too many connections) is no
 * verdict: statements on a dead server get their own errors.
 *
 * Why a connection of its own: the pooled ones may all be busy with the
 * slow statements (a connection runs one at a time), and an idle one handed
 * to the probe would be taken from a waiting request. The price is one
 * backend start per probe, at most one a second per host, and only while
 * statements run longer than SLOW_AFTER_MS.
 *
 * @example
 * const probe = hostProbe({ ask: (host) => askHost(options, host), slow: (host) => …, silent: (host) => … });
 * probe.slowStatement(conn.host); // from the statement's silence guard, SLOW_AFTER_MS after it was sent
 * probe.stop();                   // on pool close
 */
import pg from 'pg';
import { DeadlineError } from '../../async/deadline.ts';
import type { Logger } from '../../log/logger.ts';
import type { HostConfig } from '../hosts/url.ts';
import { openClient, type ConnectOptions, type PooledConnection } from './connection.ts';
import type { PoolCounters } from './counters.ts';
import { databaseSilent } from './errors.ts';
import { SLOW_AFTER_MS, severSocket } from './silence.ts';
import { VALIDATE_TIMEOUT_MS } from './validation.ts';

/** The host's bound to answer: validation's, since a live server's `SELECT 1` is the same question. */
export const PROBE_DEADLINE_MS = VALIDATE_TIMEOUT_MS;
/** Time between two probes of a host that keeps answering while statements to it stay slow. */
export const PROBE_EVERY_MS = 1000;

export interface HostProbeOptions {
  /** Asks `host` (undefined: the pool's one host) one question; rejects with DeadlineError when it stays silent. */
  ask(host: HostConfig | undefined): Promise<void>;
  /** Whether a statement to `host` is still unanswered past SLOW_AFTER_MS. */
  slow(host: HostConfig | undefined): boolean;
  /** `host` did not answer: its statements in flight are silent. */
  silent(host: HostConfig | undefined, err: DeadlineError): void;
}

export interface HostProbe {
  /** A statement to `host` has been unanswered SLOW_AFTER_MS. */
  slowStatement(host: HostConfig | undefined): void;
  /** How many hosts are being asked now (tests). */
  readonly running: number;
  stop(): void;
}

/** @example const probe = hostProbe({ ask, slow, silent }); */
export function hostProbe(options: HostProbeOptions): HostProbe {
  const running = new Set<string>();
  const again = new Map<string, NodeJS.Timeout>();
  let stopped = false;

  function run(host: HostConfig | undefined): void {
    const key = host?.label ?? '';
    if (stopped || running.has(key)) return;
    running.add(key);
    clearTimeout(again.get(key));
    again.delete(key);
    options.ask(host).then(
      () => {
        running.delete(key);
        if (stopped) return;
        // Answered: ask again later while statements to it stay slow (a silence may begin under them).
        const timer = setTimeout(() => {
          again.delete(key);
          if (options.slow(host)) run(host);
        }, PROBE_EVERY_MS);
        timer.unref();
        again.set(key, timer);
      },
      (err: unknown) => {
        running.delete(key);
        if (!stopped && err instanceof DeadlineError) options.silent(host, err);
      },
    );
  }

  return {
    slowStatement(host) {
      // Asked recently and answered: the timer set then asks again if this statement is still slow.
      if (again.has(host?.label ?? '')) return;
      run(host);
    },
    get running() {
      return running.size;
    },
    stop() {
      stopped = true;
      for (const timer of again.values()) clearTimeout(timer);
      again.clear();
    },
  };
}

/**
 * The pool's probe: asks with {@link askHost}, and on silence tells every
 * statement in flight to that host (`all`: the pool's connections).
 *
 * @example
 * const probe = poolHostProbe(core.all, connectOptions, logger, core.counters);
 * guardSilence(conn, work, statementTimeoutMs, onSilent, probe);
 */
export function poolHostProbe(all: Iterable<PooledConnection>, connect: ConnectOptions, log: Logger, counters: PoolCounters): HostProbe {
  return hostProbe({
    ask(host) {
      counters.hostProbes++;
      return askHost(connect, host);
    },
    slow(host) {
      const since = performance.now() - SLOW_AFTER_MS;
      for (const conn of all) if (conn.inFlight !== undefined && conn.inFlight.sentAt <= since && isOn(conn, host)) return true;
      return false;
    },
    silent(host, err) {
      counters.hostSilences++;
      const silenced = [...all].filter((conn) => conn.inFlight !== undefined && isOn(conn, host));
      log.warn(
        { host: host?.label, statements: silenced.length, probeMs: err.ms },
        'database host silent: it did not answer a probe, so its statements in flight are failed and their connections closed',
      );
      for (const conn of silenced) conn.inFlight?.silent(databaseSilent(`a probe of its host within ${err.ms} ms`));
    },
  });
}

/** Whether `conn` goes to `host` (undefined: the pool's one host, which every connection goes to). */
function isOn(conn: PooledConnection, host: HostConfig | undefined): boolean {
  return host === undefined || conn.host?.label === host.label;
}

/**
 * Opens a connection to `host` (or `options`' one), runs `SELECT 1` and
 * closes it, all within PROBE_DEADLINE_MS; rejects with DeadlineError when
 * the host stays silent that long. As elsewhere, the bound waits one more
 * turn of the event loop before it is called, so an answer that arrived
 * during a stall of the loop is read first.
 *
 * @example
 * await askHost({ connectionString, statementTimeoutMs: 0, connectTimeoutMs: 1000, applicationName: 'holdfast' }, undefined);
 */
export function askHost(options: ConnectOptions, host: HostConfig | undefined): Promise<void> {
  let client: pg.Client | undefined;
  let decided = false;
  return new Promise<void>((resolve, reject) => {
    const decide = (err?: Error): void => {
      if (decided) return;
      decided = true;
      clearTimeout(timer);
      if (client !== undefined) {
        severSocket(client);
        client.end().catch(() => {});
      }
      if (err === undefined) resolve();
      else reject(err);
    };
    const timer = setTimeout(
      () => setImmediate(() => decide(new DeadlineError('database host probe', PROBE_DEADLINE_MS))),
      PROBE_DEADLINE_MS,
    );
    openClient({
      ...options,
      ...(host === undefined ? {} : { connectionString: host.connectionString }),
      // Its own name, so that it is never counted as one of the pool's connections in pg_stat_activity.
      applicationName: `${options.applicationName} probe`,
      statementTimeoutMs: 0,
      connectTimeoutMs: PROBE_DEADLINE_MS,
    })
      .then((opened) => {
        client = opened;
        if (decided) {
          severSocket(opened);
          opened.end().catch(() => {});
          return;
        }
        return opened.query('SELECT 1').then(() => decide());
      })
      .catch((err: unknown) => decide(err instanceof Error ? err : new Error(String(err))));
  });
}
