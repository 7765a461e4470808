/**
 * The slice of the pino logger the pressure monitor uses, so tests and
 * callers can pass a child logger or a capture without the whole type.
 */
import type { Logger } from '../../log/logger.ts';

/**
 * @example
 * const logger: PressureLogger = rootLogger.child({ component: 'pressure' });
 */
export type PressureLogger = Pick<Logger, 'info' | 'warn' | 'error'>;
