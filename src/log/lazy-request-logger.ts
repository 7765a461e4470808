/**
 * Fastify's `childLoggerFactory`, made lazy: a request's logger becomes a
 * real pino child (carrying `requestId`) only when something logs through it.
 *
 * Why: Fastify builds `request.log` for every request. A pino child costs a
 * prototype object, the bindings serialised to JSON and, with redaction on,
 * a pass of the redactor over them: about 2 µs per request, measured as
 * `child`/`asChindings`/`redact` in a CPU profile of GET /api/health, for a
 * logger that nearly every request never uses (request logging is off;
 * failures are logged by the error handler). The stand-in is one small
 * object; the first call to any method creates the child with exactly the
 * bindings and options Fastify passed, so every line still has `requestId`.
 * Calls below the parent's level are dropped without creating it, as pino
 * itself would drop them.
 *
 * @example
 * Fastify({ loggerInstance, childLoggerFactory: lazyChildLoggerFactory });
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** The parent as pino gives it; `isLevelEnabled` is optional so any Fastify logger fits. */
type ParentLogger = FastifyBaseLogger & { isLevelEnabled?(level: string): boolean };

class LazyRequestLogger implements FastifyBaseLogger {
  #parent: ParentLogger;
  #bindings: Bindings;
  #options: ChildLoggerOptions;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: ParentLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #real(): FastifyBaseLogger {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#options));
  }

  /** False only when the call would surely be dropped: no child yet, no own level, parent below it. */
  #wanted(level: Level): boolean {
    if (this.#child !== undefined || this.#options.level !== undefined) return true;
    return this.#parent.isLevelEnabled?.(level) ?? true;
  }

  get level(): string {
    return this.#child?.level ?? this.#options.level ?? this.#parent.level;
  }

  set level(value: string) {
    this.#real().level = value;
  }

  // Prototype methods, not arrow fields: seven closures per request would undo the saving.
  fatal(...args: unknown[]): void {
    this.#log('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#log('error', args);
  }
  warn(...args: unknown[]): void {
    this.#log('warn', args);
  }
  info(...args: unknown[]): void {
    this.#log('info', args);
  }
  debug(...args: unknown[]): void {
    this.#log('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#log('trace', args);
  }
  silent(): void {}

  #log(level: Level, args: unknown[]): void {
    if (!this.#wanted(level)) return;
    const logger = this.#real();
    (logger[level] as (...a: unknown[]) => void).apply(logger, args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }
}

/**
 * @example
 * const log = lazyChildLoggerFactory(parent, { requestId: 'abc' }, {}); // no pino child yet
 * log.error('boom');                                                     // now one, and the line has requestId
 */
export function lazyChildLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, options);
}
