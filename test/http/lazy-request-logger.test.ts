import { Writable } from 'node:stream';
import Fastify, { LogController } from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazyChildLoggerFactory } from '../../src/log/lazy-request-logger.ts';
import { createLogger } from '../../src/log/logger.ts';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger(level, stream), lines };
}

describe('lazyChildLoggerFactory', () => {
  it('creates no pino child until something logs', () => {
    const { logger } = capture('warn');
    let children = 0;
    const parent = Object.assign(Object.create(logger) as typeof logger, {
      child: (...args: Parameters<typeof logger.child>) => {
        children += 1;
        return logger.child(...args);
      },
    });
    const log = lazyChildLoggerFactory(parent, { requestId: 'r-1' }, {});
    log.info('below the level: dropped');
    log.debug('dropped too');
    expect(children).toBe(0);
    log.warn('kept');
    log.error('kept too');
    expect(children).toBe(1);
  });

  it('keeps requestId and the parent bindings in every line of a request', async () => {
    const { logger, lines } = capture('info');
    const app = Fastify({
      loggerInstance: logger.child({ component: 'http' }),
      childLoggerFactory: lazyChildLoggerFactory,
      logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
      genReqId: () => 'req-42',
    });
    app.get('/x', async (request) => {
      request.log.info({ step: 1 }, 'one');
      request.log.warn({ authorization: 'secret' }, 'two');
      return { ok: true };
    });
    const response = await app.inject({ url: '/x' });
    expect(response.statusCode).toBe(200);
    expect(lines.map((l) => [l.msg, l.requestId, l.component])).toEqual([
      ['one', 'req-42', 'http'],
      ['two', 'req-42', 'http'],
    ]);
    expect(lines[1]?.authorization).toBe('<redacted>');
    expect(app.log.level).toBe('info');
    await app.close();
  });
});
