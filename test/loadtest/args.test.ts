import { describe, expect, it } from 'vitest';
import { parseLoadtestArgs } from '../../scripts/loadtest/args.ts';
import { parseDuration, parseIntList } from '../../scripts/loadtest/duration.ts';

describe('loadtest flags', () => {
  it('defaults to the original levels, 10 s each, the default mix and a started server', () => {
    const o = parseLoadtestArgs([], {});
    if (o === 'help') throw new Error('unexpected help');
    expect(o.levels).toEqual([50, 100, 150, 200, 400, 1000]);
    expect(o.durationMs).toBe(10_000);
    expect(o.url).toBeUndefined();
    expect(o.mix.map((e) => e.name)).toEqual(['health', 'product', 'list', 'orders']);
    expect(o.outDir).toBe('reports');
  });

  it('reads --ab with -n and -c, on /api/health unless --path says otherwise', () => {
    const o = parseLoadtestArgs(['--ab', '-n', '500', '-c', '50', '--url', 'http://127.0.0.1:5001'], {});
    if (o === 'help') throw new Error('unexpected help');
    expect(o.ab).toEqual({ requests: 500, concurrency: 50 });
    expect(o.path).toBe('/api/health');
    expect(() => parseLoadtestArgs(['--ab', '-n', '10', '-c', '50'], {})).toThrow(/-c must not exceed -n/);
  });

  it('takes DATABASE_URL when --database-url is absent, and server settings as KEY=VALUE', () => {
    const o = parseLoadtestArgs(['--server-env', 'DB_POOL_MAX=10', '--server-env', 'DB_ADAPTIVE_LIMIT=false'], {
      DATABASE_URL: 'postgres://x/y',
    });
    if (o === 'help') throw new Error('unexpected help');
    expect(o.databaseUrl).toBe('postgres://x/y');
    expect(o.serverEnv).toEqual({ DB_POOL_MAX: '10', DB_ADAPTIVE_LIMIT: 'false' });
  });

  it('rejects bad values with the flag named', () => {
    expect(() => parseLoadtestArgs(['--levels', '10,x'], {})).toThrow(/--levels/);
    expect(() => parseLoadtestArgs(['--duration', 'soon'], {})).toThrow(/--duration/);
    expect(() => parseLoadtestArgs(['--url', 'localhost:5001'], {})).toThrow(/--url/);
    expect(() => parseLoadtestArgs(['--bogus'], {})).toThrow();
  });

  it('parses durations and lists', () => {
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('3')).toBe(3000);
    expect(parseIntList(' 5, 10 ,20', 'pool-sizes')).toEqual([5, 10, 20]);
  });
});
