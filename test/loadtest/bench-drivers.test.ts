import { describe, expect, it } from 'vitest';
import { parsePgbenchOutput, pgbenchScript } from '../../bench/drivers/pgbench.ts';
import { parseWrkOutput, wrkScript } from '../../bench/drivers/wrk.ts';

describe('wrk driver', () => {
  it('writes a constant request for a fixed path and a random id per request otherwise', () => {
    expect(wrkScript('/api/health', { product: 10, customer: 5 })).toContain(
      'if fixed == nil then fixed = wrk.format("GET", template) end',
    );
    const random = wrkScript('/api/customers/{customer}/orders', { product: 10, customer: 5 });
    expect(random).toContain('math.random(1, 5)');
    expect(random).toContain('local template = [==[/api/customers/{customer}/orders]==]');
  });

  it('reads the summary line the script prints', () => {
    const output =
      'Running 3s test @ http://127.0.0.1:1\n@@wrk {"requests":3000,"duration_us":3000000,"connect":0,"read":2,"write":0,"status":7,"timeout":1,"p50_us":1500,"p99_us":9800}\n';
    expect(parseWrkOutput(output)).toEqual({
      requests: 3000,
      durationS: 3,
      reqPerSec: 1000,
      p50Ms: 1.5,
      p99Ms: 9.8,
      timeouts: 1,
      socketErrors: 2,
      non2xx: 7,
    });
    expect(() => parseWrkOutput('unable to connect')).toThrow(/no summary/);
  });
});

describe('pgbench driver', () => {
  it('selects the product by a random id, with no pgbench variable hidden in the statement', () => {
    const script = pgbenchScript(100_000);
    expect(script.startsWith('\\set id random(1, 100000)\n')).toBe(true);
    expect(script.match(/:[a-z]+/gi)).toEqual([':id']);
  });

  it('reads tps, transactions and failures, with percentiles from the sampled log', () => {
    const output = [
      'number of transactions actually processed: 803701',
      'number of failed transactions: 3 (0.000%)',
      'latency average = 0.398 ms',
      'tps = 80370.123456 (without initial connection time)',
    ].join('\n');
    const latencies = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(parsePgbenchOutput(output, latencies, 10)).toEqual({
      requests: 803_701,
      durationS: 10,
      reqPerSec: 80_370.1,
      p50Ms: 50,
      p99Ms: 99,
      timeouts: 0,
      socketErrors: 0,
      non2xx: 3,
    });
    expect(() => parsePgbenchOutput('FATAL: sorry, too many clients already', [], 10)).toThrow(/no tps/);
  });
});

describe('wrk driver with Zipf ids', () => {
  it('draws ids through the Lua Zipf sampler instead of math.random', () => {
    const script = wrkScript('/api/products/{product}', { product: 100_000, customer: 5 }, 'zipf');
    expect(script).toContain('local function zipf(n)');
    expect(script).toContain('tostring(zipf(100000))');
    expect(script).not.toContain('math.random(1, 100000)');
  });
});
