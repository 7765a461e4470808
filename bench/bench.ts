/**
 * `runBench`: every contender in turn, on the same data, with the same
 * driver, warm-up first, one at a time, then the targets and the reports.
 * A contender that fails to start or a cell that fails is recorded as such
 * and the run goes on: one broken peer must not cost the other numbers.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { redactUrl } from '../src/config/redact.ts';
import { createLogger } from '../src/log/logger.ts';
import { sampleRssPeak, type ChildServer } from '../scripts/loadtest/child-process.ts';
import { prepareLoadDatabase } from '../scripts/loadtest/database.ts';
import { fileStamp, formatMs, formatRate } from '../scripts/loadtest/format.ts';
import { expandPath } from '../scripts/loadtest/mix.ts';
import { runLevel } from '../scripts/loadtest/run-level.ts';
import type { BenchOptions } from './args.ts';
import { findDeepPage } from './deep-page.ts';
import { createAutocannonDriver } from './drivers/autocannon.ts';
import { runPgbench } from './drivers/pgbench.ts';
import type { HttpDriver } from './drivers/types.ts';
import { createWrkDriver, wrkVersion } from './drivers/wrk.ts';
import { endpointTitle, pathFor } from './endpoints.ts';
import { buildPlan, type ServerRun } from './plan.ts';
import { OTLP_SINK, startOtlpSink, type OtlpSink } from './otlp-sink.ts';
import { overloadTargets, runOverload, type OverloadResult } from './overload.ts';
import { waitForQuietDatabase } from './quiet-database.ts';
import { benchMarkdown, mergeRounds } from './report.ts';
import type { BenchReport, CellResult, ResilienceResult } from './results.ts';
import { HOLDFAST_BENCH_DEFAULTS, startContender } from './servers.ts';
import { evaluateTargets } from './targets.ts';

/** @example const { report, files } = await runBench(options, console.log); */
export interface BenchOutcome {
  report: BenchReport;
  files: { json: string; markdown: string };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Longest wait for a stopped contender's statements to finish (see quiet-database.ts). */
const QUIET_TIMEOUT_MS = 30_000;

async function chooseDriver(choice: BenchOptions['driver']): Promise<HttpDriver> {
  if (choice === 'autocannon') return createAutocannonDriver();
  const version = await wrkVersion();
  if (version !== undefined) return createWrkDriver(version);
  if (choice === 'wrk') throw new Error('--driver wrk: wrk is not installed');
  return createAutocannonDriver();
}

function redactEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, /TOKEN|SECRET|PASSWORD/i.test(k) ? '<redacted>' : /_URL$/.test(k) ? redactUrl(v) : v]),
  );
}

/**
 * @example
 * const { files } = await runBench(parseBenchArgs(['--duration', '3s', '--only', 'health,product']) as BenchOptions, console.log);
 */
export async function runBench(options: BenchOptions, print: (line: string) => void, signal?: AbortSignal): Promise<BenchOutcome> {
  // A function, not a property read: TypeScript would otherwise narrow it to false after the first check.
  const stopped = () => signal?.aborted === true;
  const startedAt = new Date();
  const loadAverage = loadavg();
  const driver = await chooseDriver(options.driver);
  print(
    `Driver: ${driver.describe()}. Preparing the database (${options.databaseUrl === undefined ? 'embedded Postgres' : redactUrl(options.databaseUrl)})…`,
  );
  const database = await prepareLoadDatabase({
    url: options.databaseUrl,
    counts: options.seed,
    logger: createLogger('warn'),
    onProgress: ({ table, done, total }) => {
      if (done === total && total > 0) print(`  seeded ${total} ${table}`);
    },
  });
  const cells: CellResult[] = [];
  let resilience: ResilienceResult | undefined;
  let sinkStop: () => Promise<void> = async () => {};
  let overload: OverloadResult | undefined;
  try {
    const cursorSecret = randomBytes(32).toString('base64url');
    const deep = await findDeepPage(database.url, { page: options.deepPage, pageSize: 20, cursorSecret });
    const plan = buildPlan({ ...options, deep });
    // Tracing cells export to a local sink, started on first need.
    let sink: OtlpSink | undefined;
    sinkStop = async () => sink?.close();
    const withSink = async (env: Record<string, string>): Promise<Record<string, string>> =>
      env.OTEL_EXPORTER_OTLP_ENDPOINT === OTLP_SINK ? { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: (sink ??= await startOtlpSink()).url } : env;
    const total = plan.servers.reduce((n, s) => n + s.cells.length, 0) + plan.pgbenchClients.length;
    print(
      `Data: ${database.rows.products} products, ${database.rows.customers} customers, ${database.rows.orders} orders; deep page ${deep.page} (OFFSET ${deep.offset}).\n` +
        `Plan: ${plan.servers.length} server runs, ${total} cells, about ${Math.ceil(plan.estimateS / 60)} min.`,
    );
    let done = 0;
    const counter = () => `[${String(++done).padStart(String(total).length)}/${total}]`;
    const ranges = database.ranges;

    for (const run of plan.servers) {
      if (stopped()) break;
      let server: ChildServer | undefined;
      try {
        server = await startContender(run.kind, {
          label: run.label,
          databaseUrl: database.url,
          env: await withSink({ ...options.holdfastEnv, ...run.env }),
          cursorSecret,
        });
      } catch (err) {
        for (const cell of run.cells) cells.push({ ...cellKey(run, cell), error: (err as Error).message });
        print(`✗ ${run.label} did not start: ${(err as Error).message.split('\n')[0]}`);
        continue;
      }
      try {
        print(`\n${run.label}${run.round === undefined ? '' : `, round ${run.round}`} (pid ${server.pid})`);
        for (const cell of run.cells) {
          if (stopped()) break;
          const template = pathFor(run.kind, cell.endpoint, deep)!;
          const spec = {
            baseUrl: server.url,
            template,
            ranges,
            ids: options.ids,
            connections: cell.concurrency,
            timeoutS: options.timeoutS,
          };
          const key = cellKey(run, cell);
          try {
            if (options.warmupMs > 0) await driver.run({ ...spec, durationMs: options.warmupMs });
            const rss = sampleRssPeak(() => server?.rssMb());
            const result = await driver.run({ ...spec, durationMs: options.durationMs });
            const rssPeakMb = rss.stop();
            cells.push({ ...key, result, ...(rssPeakMb === undefined ? {} : { rssPeakMb }) });
            print(
              `  ${counter()} ${endpointTitle(cell.endpoint, deep.page).padEnd(28)} c=${String(cell.concurrency).padEnd(5)} ` +
                `${formatRate(result.reqPerSec).padStart(8)} req/s  p99 ${formatMs(result.p99Ms).padStart(9)}  ` +
                `errors ${result.timeouts + result.socketErrors + result.non2xx}`,
            );
          } catch (err) {
            cells.push({ ...key, error: (err as Error).message });
            print(
              `  ${counter()} ${endpointTitle(cell.endpoint, deep.page)} c=${cell.concurrency} failed: ${(err as Error).message.split('\n')[0]}`,
            );
          }
          await sleep(500);
        }
        if (run.resilience && !stopped() && options.sustainMs > 0) resilience = await sustained(run, server, options, ranges, print);
        if (run.resilience && !stopped() && options.overloadMs > 0) {
          overload = await runOverload(server, {
            label: run.label,
            nextPath: () => expandPath('/api/products/{product}', ranges),
            warmupMs: options.warmupMs,
            durationMs: options.durationMs,
            overloadMs: options.overloadMs,
            timeoutS: options.timeoutS,
          });
          const o = overload.overload;
          print(
            `  overload: capacity ${formatRate(overload.capacity)}/s; at 2× for ${o.durationS} s ${formatRate(o.successPerSec)} 2xx/s, ` +
              `p99 of 2xx ${formatMs(o.success.p99)} (½ capacity: ${formatMs(overload.half.success.p99)}), ` +
              `${o.status503WithRetryAfter} 503+RA, ${o.status503WithoutRetryAfter} 503 without, ${o.timeouts} timeouts, ${o.late} late, peak RSS ${overload.rssPeakMb ?? '—'} MB`,
          );
        }
      } finally {
        await server.stop();
      }
      const quiet = await waitForQuietDatabase(database.url, { timeoutMs: QUIET_TIMEOUT_MS });
      if (quiet.stillActive > 0)
        print(`  ! ${quiet.stillActive} statements of ${run.label} still running after ${quiet.waitedMs} ms; going on`);
      else if (quiet.waitedMs >= 1000) print(`  (waited ${(quiet.waitedMs / 1000).toFixed(1)} s for ${run.label}'s statements to finish)`);
    }

    for (const clients of plan.pgbenchClients) {
      if (stopped()) break;
      const key = { server: 'pgbench', kind: 'pgbench' as const, endpoint: 'product' as const, concurrency: clients };
      try {
        const result = await runPgbench({
          databaseUrl: database.url,
          clients,
          threads: 2,
          durationMs: options.durationMs,
          products: ranges.product,
        });
        cells.push({ ...key, result });
        print(
          `  ${counter()} pgbench -c ${clients}: ${formatRate(result.reqPerSec)} tps, p99 ${formatMs(result.p99Ms)}, failed ${result.non2xx}`,
        );
      } catch (err) {
        cells.push({ ...key, error: (err as Error).message });
        print(
          `  ${counter()} pgbench -c ${clients} failed: ${(err as Error).message.split('\n').find((l) => /error|FATAL/i.test(l)) ?? ''}`,
        );
      }
    }

    const report: BenchReport = {
      kind: 'holdfast-bench',
      version: 1,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: { node: process.version, platform: process.platform, cpus: cpus().length, loadAverage },
      driver: driver.describe(),
      options: {
        durationS: options.durationMs / 1000,
        warmupS: options.warmupMs / 1000,
        sustainS: options.sustainMs / 1000,
        overloadS: options.overloadMs / 1000,
        timeoutS: options.timeoutS,
        concurrency: options.concurrency,
        endpoints: options.endpoints,
        contenders: options.contenders,
        pgbenchClients: options.pgbenchClients,
        adaptive: options.adaptive,
        batch: options.batch,
        tracing: options.tracing,
        cache: options.cache,
        rounds: options.rounds,
        ids: options.ids,
        poolSizes: options.poolSizes,
        sweepRounds: options.sweepRounds,
      },
      data: {
        database: database.embedded ? 'embedded Postgres' : redactUrl(database.url),
        ...database.rows,
        deepPage: deep.page,
        deepOffset: deep.offset,
      },
      holdfastEnv: redactEnv({ ...HOLDFAST_BENCH_DEFAULTS, ...options.holdfastEnv }),
      reference: plan.reference,
      cells,
      ...(resilience === undefined ? {} : { resilience }),
      ...(overload === undefined ? {} : { overload }),
      targets: [
        ...evaluateTargets({ cells: mergeRounds(cells), reference: plan.reference, resilience }),
        ...(options.overloadMs > 0 ? overloadTargets(overload) : []),
      ],
    };
    const files = await writeReports(report, options.outDir, startedAt);
    print(`\n${benchMarkdown(report)}\nReports: ${files.markdown}\n         ${files.json}`);
    return { report, files };
  } finally {
    await sinkStop();
    await database.stop();
  }
}

function cellKey(run: ServerRun, cell: { endpoint: CellResult['endpoint']; concurrency: number }): Omit<CellResult, 'result'> {
  return {
    server: run.label,
    kind: run.kind,
    endpoint: cell.endpoint,
    concurrency: cell.concurrency,
    ...(run.sweepPoolSize === undefined ? {} : { poolSize: run.sweepPoolSize }),
    ...((run.sweepRound ?? run.round) === undefined ? {} : { round: run.sweepRound ?? run.round }),
  };
}

/**
 * Product by id with autocannon (it sees each status and Retry-After): a
 * c=100 baseline, then c=1000 for `sustainMs`, sampling the server's RSS.
 */
async function sustained(
  run: ServerRun,
  server: ChildServer,
  options: BenchOptions,
  ranges: { product: number; customer: number },
  print: (line: string) => void,
): Promise<ResilienceResult> {
  const nextPath = () => expandPath('/api/products/{product}', ranges);
  const level = (connections: number, durationMs: number) =>
    runLevel({ baseUrl: server.url, connections, durationMs, nextPath, timeoutS: options.timeoutS });
  if (options.warmupMs > 0) await level(100, options.warmupMs);
  const baseline = await level(100, options.durationMs);
  await sleep(500);
  const rss = sampleRssPeak(() => server.rssMb());
  const result = await level(1000, options.sustainMs);
  const rssPeakMb = rss.stop();
  print(
    `  sustained c=1000 for ${result.durationS.toFixed(0)} s: ${formatRate(result.reqPerSec)} req/s (${result.status2xx} 2xx, ${result.status503} 503), ` +
      `p99 of 2xx ${formatMs(result.successLatency.p99)}, ${result.timeouts} timeouts, ${result.socketErrors} socket errors, peak RSS ${rssPeakMb ?? '—'} MB`,
  );
  return { server: run.label, baseline, sustained: result, ...(rssPeakMb === undefined ? {} : { rssPeakMb }) };
}

async function writeReports(report: BenchReport, outDir: string, startedAt: Date): Promise<BenchOutcome['files']> {
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const base = join(dir, `bench-${fileStamp(startedAt)}`);
  const files = { json: `${base}.json`, markdown: `${base}.md` };
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files.markdown, benchMarkdown(report));
  return files;
}
