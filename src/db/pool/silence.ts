/**
 * Silence: a server that stops answering without resetting the connection
 * (a frozen host, a firewall dropping packets, an address moved by a cloud
 * failover). No error ever arrives, so waiting is never the answer. Every
 * statement has two client-side bounds, because two different things are
 * decided:
 *
 * - The caller's answer, at statement_timeout + ANSWER_MARGIN_MS (or
 *   ANSWER_MARGIN_MS after its request is abandoned, when cancel.ts asks the
 *   server to cancel). By then a live server has sent its own 57014, even
 *   saturated (docs/FAILOVER.md, "Silence": bench/timeout-lateness.ts), so
 *   the caller gets 503 DB_UNAVAILABLE and goes; a late answer only turns a
 *   QUERY_TIMEOUT into a DB_UNAVAILABLE, both 503 with Retry-After.
 * - The connection's fate, at statement_timeout + SILENCE_MARGIN_MS: only
 *   then is it declared silent: the socket is destroyed (never returned to
 *   the pool, whose `client.end()` would wait on the same silence), idle
 *   siblings become suspect, and with several hosts the host is lost. A
 *   wrong verdict costs reconnects (all of them, with several hosts), so it
 *   keeps the wider margin; until it falls the connection stays out of the
 *   pool, and comes back if the server answers after all.
 *
 * Both bounds come sooner when the host is found silent: a statement
 * unanswered for SLOW_AFTER_MS tells the pool's probe, which asks the
 * host on a connection of its own (host-probe.ts); when it does not answer,
 * every statement in flight to it is `silent()` at once.
 *
 * Each bound, when its timer fires, waits one more turn of the event loop
 * (setImmediate) before acting: timers run before sockets are read, so after
 * a stall of the loop (GC, a burst of work) an answer that arrived in time
 * would otherwise lose to its own deadline.
 *
 * @example
 * const guard = guardSilence(conn, conn.client.query(config), 10_000, () => core.connectionLost(conn));
 * const disarm = armCancel(conn.client, signal, clientGone, undefined, guard.abandoned); // its abort tells the guard
 * const rows = await guard.answer;              // or 503 DB_UNAVAILABLE after 10.25 s of silence
 * conn.cancelling = guard.unanswered();          // the pool reuses conn only once this resolves true
 */
import type pg from 'pg';
import type { HostConfig } from '../hosts/url.ts';
import type { PooledConnection } from './connection.ts';
import { databaseSilent } from './errors.ts';

/** Time after statement_timeout (or after a cancel is asked) that the caller waits for the server's own answer. */
export const ANSWER_MARGIN_MS = 250;
/** Time after statement_timeout the server gets to answer, before its connection is called silent. */
export const SILENCE_MARGIN_MS = 1000;
/** A statement unanswered this long is slow: the pool asks its host whether it is there (host-probe.ts). */
export const SLOW_AFTER_MS = 250;
/** Deadline when statement_timeout is off: silence must still end somewhere. */
export const UNBOUNDED_STATEMENT_DEADLINE_MS = 60_000;

/** When a statement's connection is declared silent, given the server's statement_timeout (0 = off). */
export function silenceDeadlineMs(statementTimeoutMs: number): number {
  return statementTimeoutMs > 0 ? statementTimeoutMs + SILENCE_MARGIN_MS : UNBOUNDED_STATEMENT_DEADLINE_MS;
}

/** How long the caller waits for a statement's answer (its request not abandoned), given statement_timeout (0 = off). */
export function answerDeadlineMs(statementTimeoutMs: number): number {
  return statementTimeoutMs > 0 ? statementTimeoutMs + ANSWER_MARGIN_MS : UNBOUNDED_STATEMENT_DEADLINE_MS;
}

/** Destroys a client's socket at once; pg then emits 'end' and fails whatever was pending. */
export function severSocket(client: pg.Client): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream;
  stream?.destroy?.();
}

export interface SilenceGuard<T> {
  /** When the statement was sent (`performance.now()`). */
  readonly sentAt: number;
  /** Settles like the statement, or rejects with 503 DB_UNAVAILABLE once the caller has waited its bound. */
  readonly answer: Promise<T>;
  /**
   * Undefined when the statement settled before the caller stopped waiting.
   * Otherwise resolves once the connection's fate is known: true when the
   * server answered after all, false when the connection was severed.
   */
  unanswered(): Promise<boolean> | undefined;
  /**
   * The statement's request was abandoned and the server asked to cancel it
   * (cancel.ts calls this from its one abort listener): the caller is
   * answered within ANSWER_MARGIN_MS. A statement sent after its request
   * was abandoned (a ROLLBACK) is not cancelled, so never told: it gets the
   * full bound.
   */
  abandoned(): void;
  /** The host did not answer a probe (host-probe.ts): unless settled, the caller gets `err` and the connection is severed now. */
  silent(err: Error): void;
}

/**
 * Watches `work`, a statement just sent on `conn`, with both bounds (see
 * the module comment), given the server's statement_timeout; `onSilent` (the pool
 * suspects the siblings) runs when the connection is severed; `probe` (the
 * pool's host probe, if on) hears of the statement once it has been
 * unanswered SLOW_AFTER_MS. While it is unsettled,
 * `conn.inFlight` is the guard.
 */
export function guardSilence<T>(
  conn: PooledConnection,
  work: Promise<T>,
  statementTimeoutMs: number,
  onSilent: () => void,
  probe?: { slowStatement(host: HostConfig | undefined): void },
): SilenceGuard<T> {
  const sentAt = performance.now();
  const silentAt = sentAt + silenceDeadlineMs(statementTimeoutMs);
  let answerAt = Math.min(sentAt + answerDeadlineMs(statementTimeoutMs), silentAt);
  let slowAt = probe === undefined ? Infinity : sentAt + SLOW_AFTER_MS;
  let settled = false;
  let timer: NodeJS.Timeout | undefined;
  let fate: ((reusable: boolean) => void) | undefined;
  let unanswered: Promise<boolean> | undefined;
  let rejectAnswer!: (err: Error) => void;

  const answer = new Promise<T>((resolve, reject) => {
    rejectAnswer = reject;
    work.then(
      (value) => {
        finish();
        resolve(value);
      },
      (err: Error) => {
        finish();
        reject(err);
      },
    );
  });
  // Whoever awaits `answer` may be gone by the time a late answer settles it.
  answer.catch(() => {});

  function finish(): void {
    settled = true;
    if (conn.inFlight === guard) conn.inFlight = undefined;
    conn.unanswered = false;
    clearTimeout(timer);
    fate?.(true);
  }

  function arm(at: number, then: () => void): void {
    clearTimeout(timer);
    // One more turn first: an answer already in the socket is read before we give up on it. Whole
    // milliseconds: Node keeps one timer list per distinct delay, and a fractional one made a list per statement.
    timer = setTimeout(() => setImmediate(() => settled || then()), Math.max(Math.ceil(at - performance.now()), 0));
  }

  function stopWaiting(): void {
    const silent = databaseSilent(`a statement within ${Math.round(performance.now() - sentAt)} ms`);
    if (performance.now() >= silentAt) {
      sever();
      rejectAnswer(silent);
      return;
    }
    unanswered = new Promise<boolean>((resolve) => (fate = resolve));
    conn.unanswered = true;
    rejectAnswer(silent);
    arm(silentAt, () => {
      sever();
      fate?.(false);
    });
  }

  /** The next bound: the slow mark if it comes first, else the caller's answer. */
  function armNext(): void {
    if (slowAt < answerAt) {
      arm(slowAt, () => {
        slowAt = Infinity;
        // The probe answers later (never in this turn), so the caller's bound is armed next as before.
        probe?.slowStatement(conn.host);
        armNext();
      });
    } else {
      arm(answerAt, stopWaiting);
    }
  }

  function sever(): void {
    conn.inFlight = undefined;
    conn.broken = true;
    onSilent();
    severSocket(conn.client);
  }

  const guard: SilenceGuard<T> = {
    sentAt,
    answer,
    unanswered: () => unanswered,
    abandoned() {
      // Settled, or already past the caller's bound: nothing is left to shorten.
      if (settled || unanswered !== undefined) return;
      // A live server confirms the cancel within the margin.
      answerAt = Math.min(answerAt, performance.now() + ANSWER_MARGIN_MS);
      armNext();
    },
    silent(err) {
      if (settled || conn.inFlight !== guard) return;
      clearTimeout(timer);
      sever();
      rejectAnswer(err);
      fate?.(false);
    },
  };
  conn.inFlight = guard;
  armNext();
  return guard;
}
