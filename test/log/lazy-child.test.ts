import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyChild } from '../../src/log/lazy-child.ts';

function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe('lazyChild', () => {
  it('makes no child until a line is logged, then logs with the bindings through one child', () => {
    const { logger, lines } = capture();
    let made = 0;
    const original = logger.child;
    logger.child = function countingChild(this: pino.Logger, ...args: Parameters<typeof original>) {
      made++;
      return original.apply(this, args);
    } as typeof logger.child;
    const lazy = lazyChild(logger, { trace_id: 'abc' });
    expect(made).toBe(0);
    expect(lazy.level).toBe('info');
    lazy.debug('not written'); // below the level: no child made, nothing written
    expect(made).toBe(0);
    lazy.info({ n: 1 }, 'first');
    lazy.warn('second');
    expect(made).toBe(1);
    expect(lines.map((l) => [l.msg, l.trace_id, l.n])).toEqual([
      ['first', 'abc', 1],
      ['second', 'abc', undefined],
    ]);
    lazy.child({ extra: true }).info('third');
    expect(lines[2]).toMatchObject({ msg: 'third', trace_id: 'abc', extra: true });
  });
});
