/**
 * Redis with a fallback: the one breaker behind both users of Redis, the
 * query cache (falls back to bypassing itself) and the rate limiter (falls
 * back to deciding in memory). Redis is an optimisation, never a dependency.
 *
 * - Degrade: the first failure opens the breaker. Callers then serve from
 *   their fallback without touching Redis, so no request waits for a dead
 *   or hung Redis twice. One warning per outage.
 * - Probe: in the background, every `probeIntervalMs`, with a real command
 *   of the caller's choosing (the rate-limit script; PING plus the replay of
 *   lost invalidations), or at once on `recover()` (the client's `ready`).
 *   A failure reported while a probe runs voids that probe.
 * - Recover: the probe answered, `onRecover` runs, callers use Redis again.
 *   One info line.
 *
 * Our own rather than cockatiel's or opossum's circuit breaker: both test a
 * half-open circuit with the next live call, so a request pays the timeout
 * against a Redis that still hangs, once per interval; here no request ever
 * probes. The cache must also replay lost invalidations before its first
 * read after an outage, and must start quietly while the client first
 * connects; neither library models a probe that is not a call, nor "try now
 * on the ready event". Their thresholds, rolling windows and timeouts would
 * go unused, and cockatiel's current major needs a newer Node than ours.
 * What remains is a flag, a timer and "already logged".
 */

/** The slice of the pino logger the breaker uses. */
export interface FallbackLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RedisFallbackOptions {
  logger: FallbackLogger;
  /** Resolves when Redis works again for this caller; runs a real command. */
  probe(): Promise<void>;
  /** Pause between probes while degraded. */
  probeIntervalMs: number;
  /** Whether a probe may run now (e.g. the client is connected); a false skips the tick without counting as a failure. */
  canProbe?(): boolean;
  /** Log lines: `connected` for the first success of a breaker started degraded, else `recovered`. */
  messages: { unavailable: string; recovered: string; connected?: string };
  /** Fields of both log lines. Never the error object: a client's may carry its URL, password included. */
  context?(): Record<string, unknown>;
  /** Runs on recovery before Redis is used again, e.g. to drop what memory counted meanwhile. */
  onRecover?(): void;
  /** False: start degraded and quiet (connecting is not an outage) until the first probe answers. Default true. */
  startHealthy?: boolean;
}

export interface RedisFallback {
  /** True while Redis is used, false while callers serve from their fallback. */
  readonly healthy: boolean;
  /** `attempt()` while healthy, `fallback()` while not or when the attempt fails (which degrades). */
  run<T, F>(attempt: () => Promise<T>, fallback: () => F, during: string): Promise<T | F> | F;
  /** Reports a failure: degrades (warning once per outage) and starts probing. */
  fail(err: unknown, during: string): void;
  /** Probes now instead of at the next tick; resolves when that probe settles. No-op while healthy. */
  recover(): Promise<void>;
  /** Stops probing. Idempotent. */
  close(): void;
}

/**
 * @example
 * const breaker = createRedisFallback({
 *   logger, probeIntervalMs: 1000, probe: () => redisStore.probe(),
 *   messages: { unavailable: 'Redis unavailable…', recovered: 'Redis answers again…' },
 *   onRecover: () => memory.clear(),
 * });
 * const decision = await breaker.run(() => redisStore.take(key, policy), () => memory.take(key, policy), 'take');
 */
export function createRedisFallback(options: RedisFallbackOptions): RedisFallback {
  const { logger, messages } = options;
  const context = options.context ?? (() => ({}));
  let healthy = options.startHealthy ?? true;
  let everHealthy = healthy;
  /** Whether the current outage has been logged. */
  let warned = false;
  let closed = false;
  /** Failures reported so far; a probe during which this moved proves nothing. */
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let probing: Promise<void> | undefined;

  function schedule(): void {
    if (closed || healthy || timer !== undefined || probing !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (options.canProbe?.() === false) schedule();
      else void recover();
    }, options.probeIntervalMs);
    timer.unref();
  }

  function fail(err: unknown, during: string): void {
    if (closed) return;
    failures++;
    healthy = false;
    if (!warned) {
      warned = true;
      logger.warn({ ...context(), during, err: err instanceof Error ? err.message : String(err) }, messages.unavailable);
    }
    schedule();
  }

  async function probeOnce(): Promise<void> {
    const before = failures;
    try {
      await options.probe();
    } catch (err) {
      fail(err, 'probe');
      return;
    }
    if (closed || healthy || failures !== before) return;
    healthy = true;
    warned = false;
    options.onRecover?.();
    logger.info({ ...context() }, everHealthy ? messages.recovered : (messages.connected ?? messages.recovered));
    everHealthy = true;
  }

  function recover(): Promise<void> {
    if (closed || healthy) return Promise.resolve();
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    probing ??= probeOnce().finally(() => {
      probing = undefined;
      schedule();
    });
    return probing;
  }

  function run<T, F>(attempt: () => Promise<T>, fallback: () => F, during: string): Promise<T | F> | F {
    if (!healthy) return fallback();
    return attempt().catch((err: unknown) => {
      fail(err, during);
      return fallback();
    });
  }

  if (!healthy) schedule();

  return {
    get healthy() {
      return healthy;
    },
    run,
    fail,
    recover,
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
