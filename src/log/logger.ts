/**
 * The process logger: pino, JSON lines, with secrets redacted by path.
 *
 * Redaction is by key so that a header or config object that slips into a
 * log line still loses its secret members.
 *
 * @example
 * const log = createLogger('info');
 * log.info({ pool: { min: 5, max: 40 } }, 'pool ready');
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

const REDACTED_PATHS = [
  'password',
  '*.password',
  'connectionString',
  '*.connectionString',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'cursorSecret',
  '*.cursorSecret',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'holdfast' },
      redact: { paths: REDACTED_PATHS, censor: '<redacted>' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
