import { describe, expect, it } from 'vitest';
import { defaultMaxConnections, openFileLimit, timeoutOptions } from '../../src/http/connection-limits.ts';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             63707                63707                processes
Max open files            4096                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('connection limits', () => {
  it('reads the soft open-file limit from /proc/self/limits text, and this process’s own', () => {
    expect(openFileLimit(LIMITS)).toBe(4096);
    expect(openFileLimit(LIMITS.replace('4096 ', 'unlimited '))).toBe(Number.MAX_SAFE_INTEGER);
    expect(openFileLimit('nothing here')).toBeUndefined();
    if (process.platform === 'linux') expect(openFileLimit()).toBeGreaterThan(0);
  });

  it('caps sockets at 80% of the open-file limit, leaving the rest to pools, Redis and files', () => {
    expect(defaultMaxConnections(1024)).toBe(819);
    expect(defaultMaxConnections(4096)).toBe(3276);
    expect(defaultMaxConnections(1)).toBe(1);
  });

  it('checks connections often enough that a timeout fires at most 10% (or 1 s) late', () => {
    const options = timeoutOptions({ requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 72_000, maxConnections: 0 });
    expect(options).toMatchObject({ requestTimeout: 30_000, keepAliveTimeout: 72_000 });
    expect(options.http).toEqual({ requestTimeout: 30_000, headersTimeout: 10_000, connectionsCheckingInterval: 1000 });
    expect(
      timeoutOptions({ requestTimeoutMs: 800, headersTimeoutMs: 400, keepAliveTimeoutMs: 300, maxConnections: 0 }).http
        .connectionsCheckingInterval,
    ).toBe(40);
  });
});
