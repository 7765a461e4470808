/**
 * A child logger made only when something is logged through it.
 *
 * Why: pino's `child()` serialises its bindings (through the redaction
 * paths) when it is made. Tracing binds `trace_id` and `span_id` to every
 * request's logger, and most requests never log a line, so an eager child
 * per request was a measurable share of the CPU of a cheap route
 * (docs/BENCHMARKS.md, "Tracing cost"). This object has the logger's
 * surface and makes the real child on first use; pino has no lazy child of
 * its own.
 *
 * @example
 * request.log = lazyChild(request.log, { trace_id, span_id }); // no child made yet
 * request.log.info('hello');                                  // made now (if info is on), then reused
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, LevelWithSilentOrString, Logger } from 'pino';

class LazyChild {
  #parent: FastifyBaseLogger;
  #bindings: Bindings;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  /** A line below the level makes no child (Fastify logs every request at info, and production often runs at warn). */
  #enabled(level: Level): boolean {
    const logger = this.#child ?? this.#parent;
    return (logger as Partial<Pick<Logger, 'isLevelEnabled'>>).isLevelEnabled?.(level) ?? true;
  }

  #real(): FastifyBaseLogger {
    return (this.#child ??= this.#parent.child(this.#bindings));
  }

  get level(): LevelWithSilentOrString {
    return (this.#child ?? this.#parent).level;
  }

  set level(level: LevelWithSilentOrString) {
    this.#real().level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }

  fatal(...args: Parameters<FastifyBaseLogger['fatal']>): void {
    if (this.#enabled('fatal')) this.#real().fatal(...args);
  }

  error(...args: Parameters<FastifyBaseLogger['error']>): void {
    if (this.#enabled('error')) this.#real().error(...args);
  }

  warn(...args: Parameters<FastifyBaseLogger['warn']>): void {
    if (this.#enabled('warn')) this.#real().warn(...args);
  }

  info(...args: Parameters<FastifyBaseLogger['info']>): void {
    if (this.#enabled('info')) this.#real().info(...args);
  }

  debug(...args: Parameters<FastifyBaseLogger['debug']>): void {
    if (this.#enabled('debug')) this.#real().debug(...args);
  }

  trace(...args: Parameters<FastifyBaseLogger['trace']>): void {
    if (this.#enabled('trace')) this.#real().trace(...args);
  }

  silent(...args: Parameters<FastifyBaseLogger['silent']>): void {
    this.#real().silent(...args);
  }
}

/** `parent.child(bindings)`, made on first use. */
export function lazyChild(parent: FastifyBaseLogger, bindings: Bindings): FastifyBaseLogger {
  return new LazyChild(parent, bindings);
}
