/**
 * A logger whose output tests can read, to assert what was (and was not) logged.
 */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger.ts';

/**
 * A logger and what it wrote.
 *
 * @example
 * const { logger, lines, raw } = captureLogs('info');
 */
export interface CapturedLogs {
  logger: Logger;
  /** Every line, parsed. */
  lines: Record<string, unknown>[];
  /** Every line exactly as written, for searching for leaked secrets. */
  raw(): string;
}

/**
 * Creates a logger at `level` (default: everything) that writes into memory.
 *
 * @example
 * const logs = captureLogs();
 * doSomething(logs.logger);
 * expect(logs.lines.some((l) => l.msg === 'done')).toBe(true);
 */
export function captureLogs(level = 'trace'): CapturedLogs {
  const chunks: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      const text = String(chunk);
      chunks.push(text);
      for (const line of text.split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger(level, stream), lines, raw: () => chunks.join('') };
}
