/**
 * The command line of `npm run loadtest`, parsed into {@link LoadtestOptions}.
 * Everything comes from flags (the config module is the only reader of the
 * environment); DATABASE_URL is honoured through it, as `npm start` would.
 */
import { parseArgs } from 'node:util';
import { parseAssignments, parseDuration, parseIntList, parsePositiveInt } from './duration.ts';
import { DEFAULT_MIX, parseMix } from './mix.ts';
import { DEFAULT_SEED, type LoadtestOptions } from './run.ts';

/**
 * The help text.
 *
 * @example
 * console.log(USAGE);
 */
export const USAGE = `Usage: npm run loadtest -- [options]

Target (default: start Holdfast for the run, seeded, in its own process)
  --url URL              test a running server instead (e.g. http://127.0.0.1:5001)
  --database-url URL     database for the started server (default: DATABASE_URL, else
                         embedded Postgres in a temporary directory)
  --server-env K=V       setting for the started server (repeatable), e.g. DB_POOL_MAX=10
  --products N --customers N --orders N
                         rows to seed (default 10000 / 2000 / 20000); with --url, the id
                         ranges to request
  --no-seed              use the data as it is

Load
  --levels 50,100,…      concurrent users per level (default 50,100,150,200,400,1000)
  --duration 10s         per level (default 10s)
  --mix health=1,…       weighted paths: health, product, list, orders
                         (default ${DEFAULT_MIX})
  --path PATH            one path instead of the mix; {product} and {customer} become random ids
  --timeout 10s          a request without an answer by then is a timeout
  --warmup 2s            unrecorded load before the first level (0 is off)
  --pause 2s             idle time between levels
  --rate N               open model: N arrivals/s for --duration whatever the server does,
                         latency from each request's intended send time (no levels)
  --max-in-flight N      with --rate: connections at most (default 10000); due requests
                         beyond it wait in the client and count as late
  --ids uniform|zipf     how {product}/{customer} ids are drawn (zipf: s=1, skewed)
  --ab                   ab -n 1000 -c 100 on /api/health (or --path), printed like ab
  -n N, -c N             with --ab: requests and concurrency (default 1000 and 100)

Output
  --out DIR              report directory (default reports/)
  --metrics-url URL      where to scrape (default <url>/metrics)
  --metrics-token T      bearer token for /metrics (METRICS_TOKEN)
  --quiet                no progress bars`;

/**
 * @example
 * parseLoadtestArgs(['--levels', '10', '--duration', '2s'], {}); // { levels: [10], durationMs: 2000, … }
 */
export function parseLoadtestArgs(argv: string[], env: { DATABASE_URL?: string | undefined }): LoadtestOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      url: { type: 'string' },
      'database-url': { type: 'string' },
      'server-env': { type: 'string', multiple: true, default: [] },
      products: { type: 'string' },
      customers: { type: 'string' },
      orders: { type: 'string' },
      'no-seed': { type: 'boolean', default: false },
      levels: { type: 'string', default: '50,100,150,200,400,1000' },
      duration: { type: 'string', default: '10s' },
      mix: { type: 'string', default: DEFAULT_MIX },
      path: { type: 'string' },
      timeout: { type: 'string', default: '10s' },
      pause: { type: 'string', default: '2s' },
      warmup: { type: 'string', default: '2s' },
      ab: { type: 'boolean', default: false },
      rate: { type: 'string' },
      'max-in-flight': { type: 'string' },
      ids: { type: 'string', default: 'uniform' },
      n: { type: 'string', short: 'n', default: '1000' },
      c: { type: 'string', short: 'c', default: '100' },
      out: { type: 'string', default: 'reports' },
      'metrics-url': { type: 'string' },
      'metrics-token': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const count = (name: 'products' | 'customers' | 'orders') =>
    values[name] === undefined ? DEFAULT_SEED[name] : parsePositiveInt(values[name], name, 0);
  const seed = { products: count('products'), customers: count('customers'), orders: count('orders') };
  const path = values.path ?? (values.ab ? '/api/health' : undefined);
  if (path !== undefined && !path.startsWith('/')) throw new Error(`--path must start with /, got "${path}"`);
  if (values.url !== undefined && !/^https?:\/\//.test(values.url)) throw new Error(`--url must be an http:// URL, got "${values.url}"`);
  const ab = values.ab ? { requests: parsePositiveInt(values.n, 'n'), concurrency: parsePositiveInt(values.c, 'c') } : undefined;
  if (ab !== undefined && ab.concurrency > ab.requests) throw new Error('-c must not exceed -n');
  if (values.ids !== 'uniform' && values.ids !== 'zipf') throw new Error(`--ids must be uniform or zipf, got "${values.ids}"`);
  const rate = values.rate === undefined ? undefined : parsePositiveInt(values.rate, 'rate');
  if (rate !== undefined && ab !== undefined) throw new Error('--rate and --ab are different runs; choose one');
  return {
    url: values.url,
    rate,
    maxInFlight: values['max-in-flight'] === undefined ? undefined : parsePositiveInt(values['max-in-flight'], 'max-in-flight'),
    ids: values.ids,
    databaseUrl: values['database-url'] ?? env.DATABASE_URL,
    serverEnv: parseAssignments(values['server-env'], 'server-env'),
    seed,
    noSeed: values['no-seed'],
    ranges: { product: Math.max(1, seed.products), customer: Math.max(1, seed.customers) },
    levels: parseIntList(values.levels, 'levels'),
    durationMs: parseDuration(values.duration),
    mix: parseMix(values.mix),
    path,
    ab,
    timeoutS: parseDuration(values.timeout, 'timeout') / 1000,
    pauseMs: parseDuration(values.pause, 'pause', true),
    warmupMs: parseDuration(values.warmup, 'warmup', true),
    outDir: values.out,
    metricsUrl: values['metrics-url'],
    metricsToken: values['metrics-token'],
    progress: !values.quiet,
  };
}
