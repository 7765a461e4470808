import { describe, expect, it } from 'vitest';
import { parseBenchArgs, type BenchOptions } from '../../bench/args.ts';
import { pathFor, parseEndpoints, type DeepPage } from '../../bench/endpoints.ts';
import { buildPlan, parseContenders } from '../../bench/plan.ts';

const deep: DeepPage = {
  page: 5000,
  pageSize: 20,
  offset: 99_980,
  after: { createdAt: '2026-01-01T00:00:00.000001Z', id: 21 },
  holdfastCursor: 'abc.def',
};

function options(argv: string[]): BenchOptions {
  const o = parseBenchArgs(argv);
  if (o === 'help') throw new Error('unexpected help');
  return o;
}

describe('bench endpoints', () => {
  it('gives each contender its own route for the same endpoint, or none', () => {
    expect(pathFor('holdfast', 'deep', deep)).toBe('/api/products?limit=20&cursor=abc.def');
    expect(pathFor('fastify-pg', 'deep', deep)).toBe('/api/products?limit=20&after=2026-01-01T00%3A00%3A00.000001Z,21');
    expect(pathFor('express-naive', 'deep', deep)).toBeUndefined();
    expect(pathFor('express-naive', 'deep-offset', deep)).toBe('/api/products?limit=20&offset=99980');
    expect(pathFor('holdfast', 'deep-offset', deep)).toBeUndefined();
    expect(pathFor('fastify-constant', 'product', deep)).toBeUndefined();
    expect(pathFor('fastify-constant', 'health', deep)).toBe('/api/health');
  });

  it('parses --only with aliases, in a fixed order', () => {
    expect(parseEndpoints('product,health')).toEqual(['health', 'product']);
    expect(parseEndpoints('pages')).toEqual(['page1', 'deep', 'deep-offset']);
    expect(() => parseEndpoints('everything')).toThrow(/unknown endpoint/);
    expect(parseContenders('pgbench,holdfast')).toEqual(['holdfast', 'pgbench']);
    expect(() => parseContenders('django')).toThrow(/unknown/);
  });
});

describe('buildPlan', () => {
  it('keeps the default full run under 10 minutes', () => {
    const plan = buildPlan({ ...options([]), deep });
    expect(plan.estimateS).toBeLessThan(540);
    expect(plan.servers.map((s) => s.label)).toEqual(['fastify-constant', 'fastify-pg', 'express-naive', 'holdfast']);
    expect(plan.pgbenchClients).toEqual([32, 100]);
    expect(plan.servers.find((s) => s.kind === 'holdfast')?.resilience).toBe(true);
  });

  it('runs only what a contender serves: the constant server only health', () => {
    const plan = buildPlan({ ...options(['--only', 'health,product', '--concurrency', '100']), deep });
    expect(plan.servers[0]).toMatchObject({ label: 'fastify-constant', cells: [{ endpoint: 'health', concurrency: 100 }] });
    expect(plan.servers[1]?.cells).toEqual([
      { endpoint: 'health', concurrency: 100 },
      { endpoint: 'product', concurrency: 100 },
    ]);
  });

  it('runs Holdfast once per adaptive setting, the first being the reference, and sweeps pool sizes on product by id', () => {
    const plan = buildPlan({
      ...options([
        '--contenders',
        'holdfast',
        '--adaptive',
        'false,true',
        '--pool-sizes',
        '5,40',
        '--sweep-rounds',
        '1',
        '--sustain',
        '0',
        '--overload',
        '0',
      ]),
      deep,
    });
    expect(plan.reference).toBe('holdfast (adaptive off)');
    expect(plan.servers.map((s) => [s.label, s.env])).toEqual([
      ['holdfast (adaptive off)', { DB_ADAPTIVE_LIMIT: 'false' }],
      ['holdfast (adaptive on)', { DB_ADAPTIVE_LIMIT: 'true' }],
      ['holdfast pool 5', { DB_ADAPTIVE_LIMIT: 'false', DB_POOL_MAX: '5', DB_POOL_MIN: '5' }],
      ['holdfast pool 40', { DB_ADAPTIVE_LIMIT: 'false', DB_POOL_MAX: '40', DB_POOL_MIN: '5' }],
    ]);
    expect(plan.servers[2]?.cells.every((c) => c.endpoint === 'product')).toBe(true);
    expect(plan.servers.some((s) => s.resilience)).toBe(false);
    expect(plan.pgbenchClients).toEqual([]);
  });

  it('crosses --adaptive with --batch, in the order given, and sweeps pool sizes with the reference settings', () => {
    const plan = buildPlan({
      ...options([
        '--contenders',
        'holdfast',
        '--adaptive',
        'true',
        '--batch',
        'true,false',
        '--pool-sizes',
        '10',
        '--sweep-rounds',
        '1',
        '--sustain',
        '15s',
      ]),
      deep,
    });
    expect(plan.reference).toBe('holdfast (adaptive on, batching on)');
    expect(plan.servers.map((s) => [s.label, s.env, s.resilience])).toEqual([
      ['holdfast (adaptive on, batching on)', { DB_ADAPTIVE_LIMIT: 'true', DB_BATCH_READS: 'true' }, true],
      ['holdfast (adaptive on, batching off)', { DB_ADAPTIVE_LIMIT: 'true', DB_BATCH_READS: 'false' }, false],
      ['holdfast pool 10', { DB_ADAPTIVE_LIMIT: 'true', DB_BATCH_READS: 'true', DB_POOL_MAX: '10', DB_POOL_MIN: '5' }, false],
    ]);
  });

  it('runs the pool sweep round-robin, each size once per round (3 rounds by default)', () => {
    const plan = buildPlan({ ...options(['--contenders', 'holdfast', '--pool-sizes', '5,40', '--sustain', '0', '--overload', '0']), deep });
    expect(plan.servers.filter((s) => s.sweepPoolSize !== undefined).map((s) => `${s.sweepPoolSize}/${s.sweepRound}`)).toEqual([
      '5/1',
      '40/1',
      '5/2',
      '40/2',
      '5/3',
      '40/3',
    ]);
  });

  it('rejects bad flags with the flag named', () => {
    expect(() => options(['--adaptive', 'maybe'])).toThrow(/--adaptive/);
    expect(() => options(['--batch', 'sometimes'])).toThrow(/--batch/);
    expect(() => options(['--driver', 'ab'])).toThrow(/--driver/);
    expect(() => options(['--pool-sizes', '0'])).toThrow(/--pool-sizes/);
    expect(() => options(['--sweep-rounds', '0'])).toThrow(/--sweep-rounds/);
  });
});

describe('the overload cell in the plan', () => {
  it('runs on the reference Holdfast with --overload alone, and not with both checks off', () => {
    const only = buildPlan({ ...options(['--contenders', 'holdfast', '--sustain', '0', '--overload', '2s']), deep });
    expect(only.servers[0]?.resilience).toBe(true);
    const none = buildPlan({ ...options(['--contenders', 'holdfast', '--sustain', '0', '--overload', '0']), deep });
    expect(none.servers[0]?.resilience).toBe(false);
  });
});

describe('--rounds and --cache', () => {
  it('repeats every contender and variant round-robin, with the sustained check only once', () => {
    const plan = buildPlan({
      ...options(['--contenders', 'holdfast,fastify-pg', '--only', 'product', '--cache', 'true,false', '--rounds', '2']),
      deep,
    });
    expect(plan.reference).toBe('holdfast (cache on)');
    expect(plan.servers.map((s) => [s.label, s.round, s.env.CACHE_ENABLED, s.resilience])).toEqual([
      ['fastify-pg', 1, undefined, false],
      ['holdfast (cache on)', 1, 'true', true],
      ['holdfast (cache off)', 1, 'false', false],
      ['fastify-pg', 2, undefined, false],
      ['holdfast (cache on)', 2, 'true', false],
      ['holdfast (cache off)', 2, 'false', false],
    ]);
  });

  it('leaves one round untagged, as before', () => {
    const plan = buildPlan({ ...options(['--contenders', 'holdfast', '--only', 'product']), deep });
    expect(plan.servers.map((s) => s.round)).toEqual([undefined]);
  });
});
