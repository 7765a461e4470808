/**
 * The command line of `npm run bench`. Every setting is a flag; Holdfast's
 * own settings travel as `--holdfast-env KEY=VALUE`.
 */
import { parseArgs } from 'node:util';
import { parseAssignments, parseDuration, parseIntList, parsePositiveInt } from '../scripts/loadtest/duration.ts';
import { parseEndpoints, type EndpointId } from './endpoints.ts';
import { CONTENDER_KINDS, parseContenders, type ContenderKind } from './plan.ts';
import type { IdDistribution } from '../scripts/loadtest/mix.ts';

/**
 * The help text.
 *
 * @example
 * console.log(BENCH_USAGE);
 */
export const BENCH_USAGE = `Usage: npm run bench -- [options]

Runs each contender in turn on the same seeded data, with the same load driver,
and writes reports/bench-<time>.{json,md}. See docs/LOADTEST.md.

  --only LIST            endpoints: health, product, orders, page1, deep, deep-offset,
                         or pages (the last three) or all (default all)
  --contenders LIST      ${CONTENDER_KINDS.join(', ')} (default all)
  --concurrency LIST     HTTP connections (default 100,1000)
  --duration 10s         measured time per cell (default 10s)
  --warmup 2s            unrecorded load before each cell (default 2s)
  --sustain 15s          Holdfast at c=1000 on product by id, after a c=100 baseline,
                         for the resilience targets (default 15s; 0 skips it)
  --overload 30s         open model on the reference Holdfast, product by id: capacity by a
                         closed loop (c=100), then arrivals at ½ and 2× it, 2× for this long
                         (default 30s; 0 skips it)
  --timeout 10s          a request without an answer by then is a timeout
  --driver auto          wrk, autocannon, or auto (wrk when installed)
  --pgbench-clients LIST pgbench clients (default 32,100)
  --adaptive LIST        run Holdfast once per DB_ADAPTIVE_LIMIT value, e.g. true,false
  --batch LIST           and once per DB_BATCH_READS value, e.g. true,false
  --tracing LIST         and once per trace sampling: off, or a percentage, e.g. off,1%,100%
                         (spans exported over OTLP/HTTP to a local sink that discards them)
  --cache LIST           and once per CACHE_ENABLED value, e.g. true,false
  --rounds N             run every contender and variant N times, round-robin, and report
                         each cell's median with the rounds' spread (default 1)
  --ids uniform|zipf     how {product}/{customer} ids are drawn (zipf: s=1, id 1 the hottest)
  --pool-sizes LIST      also run Holdfast on product by id per DB_POOL_MAX, e.g. 5,10,20,40
  --sweep-rounds N       run each pool size N times, interleaved, and compare medians (default 3)
  --holdfast-env K=V     a Holdfast setting (repeatable), e.g. CACHE_ENABLED=true
  --database-url URL     use this database (created if missing); default: embedded
                         Postgres in a temporary directory
  --products N --customers N --orders N
                         rows to seed (default 100000 / 10000 / 100000)
  --deep-page N          the deep page (default 5000, i.e. OFFSET 99,980 at 20 per page)
  --out DIR              report directory (default reports/)`;

/** @example const o: BenchOptions = parseBenchArgs(['--duration', '3s', '--only', 'health,product']) as BenchOptions; */
export interface BenchOptions {
  endpoints: EndpointId[];
  contenders: ContenderKind[];
  concurrency: number[];
  durationMs: number;
  warmupMs: number;
  sustainMs: number;
  /** Length of the open-model overload at 2× capacity; 0 skips it. */
  overloadMs: number;
  timeoutS: number;
  driver: 'auto' | 'wrk' | 'autocannon';
  pgbenchClients: number[];
  adaptive: boolean[];
  batch: boolean[];
  /** Sampling ratios, 0 for tracing off; empty: tracing as the env says (off). */
  tracing: number[];
  /** CACHE_ENABLED values, crossed with the others; empty: the config default. */
  cache: boolean[];
  /** Times every server run is repeated, round-robin (1: once). */
  rounds: number;
  /** How random ids are drawn. */
  ids: IdDistribution;
  poolSizes: number[];
  sweepRounds: number;
  holdfastEnv: Record<string, string>;
  databaseUrl: string | undefined;
  seed: { products: number; customers: number; orders: number };
  deepPage: number;
  outDir: string;
}

function parseBooleans(text: string, flag: string): boolean[] {
  return text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '')
    .map((s) => {
      if (s !== 'true' && s !== 'false') throw new Error(`--${flag} takes true and/or false, got "${s}"`);
      return s === 'true';
    });
}

/**
 * @example
 * parseBenchArgs(['--only', 'health,product', '--duration', '3s']);
 */
export function parseBenchArgs(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      only: { type: 'string', default: 'all' },
      contenders: { type: 'string', default: CONTENDER_KINDS.join(',') },
      concurrency: { type: 'string', default: '100,1000' },
      duration: { type: 'string', default: '10s' },
      warmup: { type: 'string', default: '2s' },
      sustain: { type: 'string', default: '15s' },
      overload: { type: 'string', default: '30s' },
      timeout: { type: 'string', default: '10s' },
      driver: { type: 'string', default: 'auto' },
      'pgbench-clients': { type: 'string', default: '32,100' },
      adaptive: { type: 'string' },
      batch: { type: 'string' },
      tracing: { type: 'string' },
      cache: { type: 'string' },
      rounds: { type: 'string', default: '1' },
      ids: { type: 'string', default: 'uniform' },
      'pool-sizes': { type: 'string' },
      'sweep-rounds': { type: 'string', default: '3' },
      'holdfast-env': { type: 'string', multiple: true, default: [] },
      'database-url': { type: 'string' },
      products: { type: 'string', default: '100000' },
      customers: { type: 'string', default: '10000' },
      orders: { type: 'string', default: '100000' },
      'deep-page': { type: 'string', default: '5000' },
      out: { type: 'string', default: 'reports' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (!['auto', 'wrk', 'autocannon'].includes(values.driver))
    throw new Error(`--driver must be auto, wrk or autocannon, got "${values.driver}"`);
  if (values.ids !== 'uniform' && values.ids !== 'zipf') throw new Error(`--ids must be uniform or zipf, got "${values.ids}"`);
  return {
    endpoints: parseEndpoints(values.only),
    contenders: parseContenders(values.contenders),
    concurrency: parseIntList(values.concurrency, 'concurrency'),
    durationMs: parseDuration(values.duration),
    warmupMs: parseDuration(values.warmup, 'warmup', true),
    sustainMs: parseDuration(values.sustain, 'sustain', true),
    overloadMs: parseDuration(values.overload, 'overload', true),
    timeoutS: parseDuration(values.timeout, 'timeout') / 1000,
    driver: values.driver as BenchOptions['driver'],
    pgbenchClients: parseIntList(values['pgbench-clients'], 'pgbench-clients'),
    adaptive: values.adaptive === undefined ? [] : parseBooleans(values.adaptive, 'adaptive'),
    batch: values.batch === undefined ? [] : parseBooleans(values.batch, 'batch'),
    tracing: values.tracing === undefined ? [] : parseSampling(values.tracing),
    cache: values.cache === undefined ? [] : parseBooleans(values.cache, 'cache'),
    rounds: parsePositiveInt(values.rounds, 'rounds'),
    ids: values.ids,
    poolSizes: values['pool-sizes'] === undefined ? [] : parseIntList(values['pool-sizes'], 'pool-sizes'),
    sweepRounds: parsePositiveInt(values['sweep-rounds'], 'sweep-rounds'),
    holdfastEnv: parseAssignments(values['holdfast-env'], 'holdfast-env'),
    databaseUrl: values['database-url'],
    seed: {
      products: parsePositiveInt(values.products, 'products'),
      customers: parsePositiveInt(values.customers, 'customers'),
      orders: parsePositiveInt(values.orders, 'orders', 0),
    },
    deepPage: parsePositiveInt(values['deep-page'], 'deep-page', 2),
    outDir: values.out,
  };
}

/**
 * `--tracing` parsed: `off` is 0, `N%` is N/100.
 *
 * @example
 * parseSampling('off,1%,100%'); // [0, 0.01, 1]
 */
export function parseSampling(text: string): number[] {
  return text.split(',').map((part) => {
    const s = part.trim();
    if (s === 'off') return 0;
    const m = /^(\d+(?:\.\d+)?)%$/.exec(s);
    const ratio = m === null ? NaN : Number(m[1]) / 100;
    if (!(ratio > 0 && ratio <= 1)) throw new Error(`--tracing: "${s}" is not off or a percentage in (0%, 100%]`);
    return ratio;
  });
}
