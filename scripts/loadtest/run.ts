/**
 * `runLoadtest`: the whole load test as one function, so the CLI and the
 * smoke test run the same code. It finds or starts the target, runs each
 * level with /metrics scraped around it, classifies the bottleneck, and
 * writes the JSON, markdown and HTML reports.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { redactUrl } from '../../src/config/redact.ts';
import type { SeedCounts } from '../../src/db/seed/seed.ts';
import { createLogger } from '../../src/log/logger.ts';
import { formatAb } from './ab.ts';
import { classifyBottleneck } from './bottleneck.ts';
import { sampleRssPeak, spawnServer, type ChildServer } from './child-process.ts';
import { prepareLoadDatabase, type LoadDatabase } from './database.ts';
import { fileStamp, formatMs, formatPercent, formatRate } from './format.ts';
import { createPathPicker, describeMix, type IdDistribution, type IdRanges, type MixEntry } from './mix.ts';
import { openModelAgent, runOpenModel, type OpenModelResult } from './open-model.ts';
import { openModelMarkdown } from './open-report.ts';
import { reportHtml } from './report-html.ts';
import { levelsMarkdown, reportMarkdown } from './report-markdown.ts';
import type { LoadtestReport } from './report-types.ts';
import { runLevel } from './run-level.ts';
import { scrapeMetrics, startSampling, summarizeServer } from './server-metrics.ts';
import type { LevelResult } from './types.ts';

/**
 * @example
 * const options: LoadtestOptions = { levels: [50, 100], durationMs: 10_000, mix: parseMix(DEFAULT_MIX), outDir: 'reports' };
 */
export interface LoadtestOptions {
  /** An already running server; unset: start Holdfast for the run. */
  url?: string | undefined;
  /** Database for the started server; unset: embedded Postgres in a temporary directory. */
  databaseUrl?: string | undefined;
  levels: number[];
  durationMs: number;
  mix: MixEntry[];
  /** A fixed path (may contain `{product}` / `{customer}`) instead of the mix. */
  path?: string | undefined;
  /** `--rate`: one open-model run at this many arrivals per second for `durationMs`, instead of the levels. */
  rate?: number | undefined;
  /** With `rate`: connections at most (default 10 000). */
  maxInFlight?: number | undefined;
  /** How ids are drawn: uniform (default) or Zipf s=1 (a skewed workload). */
  ids?: IdDistribution;
  /** `--ab`: exactly `requests` requests at `concurrency`, printed like ab. */
  ab?: { requests: number; concurrency: number } | undefined;
  /** Rows to have in the started server's database (topped up, never removed). */
  seed?: SeedCounts;
  /** Skip seeding. */
  noSeed?: boolean;
  /** Highest ids to request with `--url` (the server's data is not inspected). */
  ranges?: IdRanges;
  outDir: string;
  timeoutS?: number;
  /** Unrecorded load before the first level, so it does not measure a cold JIT and cold caches. Default 2 s; 0 is off. */
  warmupMs?: number;
  /** Pause between levels, so one level's backlog does not spill into the next. */
  pauseMs?: number;
  metricsUrl?: string | undefined;
  metricsToken?: string | undefined;
  /** Environment for the started server, over the load-test defaults. */
  serverEnv?: Record<string, string>;
  /** Progress bars on stderr (when it is a terminal). */
  progress?: boolean;
  /** Stops the run after the current level's measurement is cut short (Ctrl-C). */
  signal?: AbortSignal;
  /** Where the running commentary and the table go; default stdout. */
  print?: (text: string) => void;
}

/**
 * The report and where its files went.
 *
 * @example
 * const { files }: LoadtestOutcome = await runLoadtest(options);
 * readFileSync(files.json, 'utf8');
 */
export interface LoadtestOutcome {
  report: LoadtestReport;
  files: { json: string; markdown: string; html: string };
}

/**
 * Rows the started server's database gets unless told otherwise.
 *
 * @example
 * runLoadtest({ ...options, seed: { ...DEFAULT_SEED, products: 100_000 } });
 */
export const DEFAULT_SEED: Readonly<SeedCounts> = Object.freeze({ products: 10_000, customers: 2_000, orders: 20_000 });

/**
 * Settings for the server the load test starts: loopback, any free port, quiet,
 * and the rate limit raised out of reach so that the test measures capacity
 * (the limiter still runs for every request). `--server-env` overrides each.
 */
function serverDefaults(databaseUrl: string, metricsToken: string): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: databaseUrl,
    SEED_DEMO: 'false',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '2147483647',
    METRICS_TOKEN: metricsToken,
  };
}

/**
 * @example
 * const { report, files } = await runLoadtest({ levels: [10], durationMs: 2000, mix: parseMix('health=1'), outDir: 'reports' });
 */
export async function runLoadtest(options: LoadtestOptions): Promise<LoadtestOutcome> {
  const print = options.print ?? ((text: string) => process.stdout.write(`${text}\n`));
  const startedAt = new Date();
  const logger = createLogger('warn');
  let database: LoadDatabase | undefined;
  let child: ChildServer | undefined;
  try {
    let baseUrl = options.url?.replace(/\/+$/, '');
    let ranges = options.ranges ?? { product: DEFAULT_SEED.products, customer: DEFAULT_SEED.customers };
    let metricsToken = options.metricsToken;
    let serverEnv: Record<string, string> | undefined;
    if (baseUrl === undefined) {
      print(options.databaseUrl === undefined ? 'Starting embedded Postgres and seeding…' : 'Preparing the database…');
      database = await prepareLoadDatabase({
        url: options.databaseUrl,
        counts: options.seed ?? DEFAULT_SEED,
        seed: options.noSeed !== true,
        logger,
      });
      ranges = database.ranges;
      metricsToken = options.serverEnv?.METRICS_TOKEN ?? metricsToken ?? randomBytes(16).toString('hex');
      serverEnv = options.serverEnv ?? {};
      child = await spawnServer({
        name: 'holdfast',
        file: 'scripts/loadtest/holdfast-child.ts',
        serviceFlags: true,
        env: { ...serverDefaults(database.url, metricsToken), ...serverEnv },
      });
      baseUrl = child.url;
      print(
        `Holdfast started at ${baseUrl} (pid ${child.pid}); ${database.rows.products} products, ${database.rows.customers} customers, ${database.rows.orders} orders.`,
      );
    }
    const metricsUrl = options.metricsUrl ?? `${baseUrl}/metrics`;
    const scrape = () => scrapeMetrics(metricsUrl, metricsToken);
    const entries = options.path === undefined ? options.mix : [{ name: 'path', template: options.path, weight: 1 }];
    const nextPath = createPathPicker(entries, ranges, Math.random, options.ids ?? 'uniform');
    const levels = options.ab === undefined ? options.levels : [options.ab.concurrency];

    const warmupMs = options.warmupMs ?? 2000;
    let open: (OpenModelResult & { rssMb?: number }) | undefined;
    if (options.rate !== undefined) {
      const agent = openModelAgent(options.maxInFlight);
      const openLevel = (durationMs: number) =>
        runOpenModel({
          baseUrl: baseUrl,
          rate: options.rate!,
          durationMs,
          nextPath,
          timeoutMs: (options.timeoutS ?? 10) * 1000,
          maxInFlight: options.maxInFlight,
          signal: options.signal,
          agent,
        });
      if (warmupMs > 0) await openLevel(warmupMs);
      const rss = child === undefined ? undefined : sampleRssPeak(() => child?.rssMb());
      print(`Open model: ${options.rate} arrivals/s for ${options.durationMs / 1000} s…`);
      const result = await openLevel(options.durationMs);
      const rssMb = rss?.stop();
      agent.destroy();
      open = { ...result, ...(rssMb === undefined ? {} : { rssMb }) };
      print(`\n${openModelMarkdown(result, { rssMb })}`);
    } else if (warmupMs > 0 && levels[0] !== undefined) {
      await runLevel({
        baseUrl,
        connections: levels[0],
        durationMs: warmupMs,
        nextPath,
        timeoutS: options.timeoutS ?? 10,
        signal: options.signal,
      });
    }

    const results: LevelResult[] = [];
    for (const [i, users] of (open === undefined ? levels : []).entries()) {
      if (options.signal?.aborted === true) break;
      if (i > 0) await new Promise((r) => setTimeout(r, options.pauseMs ?? 2000));
      const before = await scrape();
      const sampler = startSampling(scrape, 1000);
      const rss = child === undefined ? undefined : sampleRssPeak(() => child?.rssMb());
      const client = await runLevel({
        baseUrl,
        connections: users,
        durationMs: options.durationMs,
        amount: options.ab?.requests,
        nextPath,
        timeoutS: options.timeoutS ?? 10,
        progressLabel: options.progress === false ? undefined : `${users} users`,
        signal: options.signal,
      });
      const during = await sampler.stop();
      const after = await scrape();
      const server = summarizeServer({ before, after, during });
      const peakRss = rss?.stop();
      // The child's RSS from /proc is exact and needs no /metrics.
      if (peakRss !== undefined) server.rssMb = Math.max(server.rssMb ?? 0, peakRss);
      const verdict = classifyBottleneck({ client, server });
      results.push({ users, client, server, ...verdict });
      if (options.ab === undefined) {
        print(
          `${String(users).padStart(5)} users: ${formatPercent(client.successRate)} ok, ${formatRate(client.reqPerSec)} req/s, ` +
            `p99 ${formatMs(client.latency.p99)}, bottleneck: ${verdict.bottleneck}`,
        );
      }
    }

    const report: LoadtestReport = {
      kind: 'holdfast-loadtest',
      version: 1,
      mode: open !== undefined ? 'open' : options.ab === undefined ? 'levels' : 'ab',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      target: {
        url: baseUrl,
        spawned: child !== undefined,
        ...(database === undefined ? {} : { database: database.embedded ? 'embedded' : redactUrl(options.databaseUrl ?? '') }),
        ...(serverEnv === undefined ? {} : { serverEnv: redactEnv(serverEnv) }),
      },
      options: {
        levels,
        durationS: options.durationMs / 1000,
        mix: options.path ?? describeMix(options.mix),
        timeoutS: options.timeoutS ?? 10,
        ...(options.ab === undefined ? {} : { amount: options.ab.requests }),
        ...(options.rate === undefined ? {} : { rate: options.rate }),
        ...(options.ids === undefined ? {} : { ids: options.ids }),
      },
      machine: { node: process.version, platform: process.platform, cpus: cpus().length },
      levels: results,
      ...(open === undefined ? {} : { open }),
    };
    if (options.ab !== undefined && results[0] !== undefined) {
      const firstPath = entries[0]?.template.replace(/\{(product|customer)\}/g, '1') ?? '/';
      print(
        `\n${formatAb(results[0].client, { url: `${baseUrl}${firstPath}`, concurrency: options.ab.concurrency, elapsedS: results[0].client.durationS })}`,
      );
    } else if (open === undefined) {
      print(`\n${levelsMarkdown(results)}`);
    }
    const files = await writeReports(report, options.outDir, startedAt);
    print(`\nReports: ${files.markdown}\n         ${files.json}\n         ${files.html}`);
    return { report, files };
  } finally {
    await child?.stop();
    await database?.stop();
  }
}

function redactEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, /TOKEN|SECRET|PASSWORD/i.test(k) ? '<redacted>' : /_URL$/.test(k) ? redactUrl(v) : v]),
  );
}

async function writeReports(report: LoadtestReport, outDir: string, startedAt: Date): Promise<LoadtestOutcome['files']> {
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const base = join(dir, `loadtest-${report.mode === 'levels' ? '' : `${report.mode}-`}${fileStamp(startedAt)}`);
  const files = { json: `${base}.json`, markdown: `${base}.md`, html: `${base}.html` };
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files.markdown, reportMarkdown(report));
  await writeFile(files.html, reportHtml(report));
  return files;
}
