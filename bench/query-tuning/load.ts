/**
 * `npx tsx bench/query-tuning/load.ts --url http://127.0.0.1:5099 --path '/api/reports/top-products?days=30&limit=10' [-c 20] [-d 10] [--runs 3] [--probe 15]`
 *
 * `--path` repeats, and may be a whole URL (another server).
 *
 * The HTTP half of the query-tuning numbers, the same command before and
 * after a change. For each path it first sends `--probe` requests one at a
 * time and reads each answer's Server-Timing (`db;dur=…;desc="n queries"`):
 * queries per request and database ms, with no load around them. Then it
 * runs autocannon `--runs` times per path at `-c` connections for `-d`
 * seconds, round-robin over the paths, and reports each run and the
 * medians: the box is shared, so one run proves little. Any non-2xx answer is printed, since a run full of 429s or 503s
 * measures the guards rather than the query.
 */
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { quantile } from './sql-timing.ts';

/**
 * What one unloaded request cost.
 *
 * @example
 * const p = await probe('http://127.0.0.1:5099/api/products', 15); // { queries: 1, dbMs: 0.6, totalMs: 2.1, status: 200 }
 */
export interface Probe {
  status: number;
  queries: number;
  dbMs: number;
  totalMs: number;
}

const SERVER_TIMING_DB = /(?:^|,)\s*db;dur=([\d.]+);desc="(\d+) quer/;

/**
 * Medians of `count` sequential requests to `url`.
 *
 * @example
 * const { queries, dbMs } = await probe(`${base}/api/customers/7/orders?limit=100`, 15);
 */
export async function probe(url: string, count: number): Promise<Probe> {
  const samples: Probe[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    const totalMs = performance.now() - started;
    const match = SERVER_TIMING_DB.exec(res.headers.get('server-timing') ?? '');
    samples.push({ status: res.status, queries: Number(match?.[2] ?? Number.NaN), dbMs: Number(match?.[1] ?? Number.NaN), totalMs });
  }
  return {
    status: samples.at(-1)?.status ?? 0,
    queries: quantile(
      samples.map((s) => s.queries),
      0.5,
    ),
    dbMs: quantile(
      samples.map((s) => s.dbMs),
      0.5,
    ),
    totalMs: quantile(
      samples.map((s) => s.totalMs),
      0.5,
    ),
  };
}

/**
 * One autocannon run.
 *
 * @example
 * const { reqPerSec, p99Ms } = await load(`${base}/api/products`, { connections: 20, durationS: 10 });
 */
export async function load(
  url: string,
  options: { connections: number; durationS: number },
): Promise<{ reqPerSec: number; p50Ms: number; p99Ms: number; non2xx: number; errors: number }> {
  const result = await autocannon({ url, connections: options.connections, duration: options.durationS, timeout: 30 });
  return {
    reqPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      path: { type: 'string', multiple: true },
      connections: { type: 'string', short: 'c', default: '20' },
      duration: { type: 'string', short: 'd', default: '10' },
      runs: { type: 'string', default: '3' },
      probe: { type: 'string', default: '15' },
    },
  });
  if (values.path === undefined) {
    console.error("usage: load.ts --url <base> --path '<path>' [--path …] [-c 20] [-d 10] [--runs 3] [--probe 15]");
    process.exit(2);
  }
  const connections = Number(values.connections);
  const durationS = Number(values.duration);
  const runs = Number(values.runs);
  console.log(
    `| path | queries/req | db ms | ms/req (unloaded) | req/s (median of ${runs}) | p99 ms (median) | runs: req/s, p99 | non-2xx |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|---|---:|');
  const paths = values.path;
  // A --path may be a whole URL, to compare two servers in one run.
  const target = (path: string) => (/^https?:/.test(path) ? path : `${values.url ?? 'http://127.0.0.1:5001'}${path}`);
  const probes: Probe[] = [];
  for (const path of paths) {
    const p = await probe(target(path), Number(values.probe));
    if (p.status !== 200) throw new Error(`${path} answered ${p.status}; fix that before measuring it`);
    probes.push(p);
  }
  // Round-robin over the paths, so a burst of someone else's load lands on all of them alike.
  const results = paths.map(() => [] as Awaited<ReturnType<typeof load>>[]);
  for (let i = 0; i < runs; i++) {
    for (const [j, path] of paths.entries()) results[j]!.push(await load(target(path), { connections, durationS }));
  }
  for (const [j, path] of paths.entries()) {
    const p = probes[j]!;
    const rs = results[j]!;
    const each = rs.map((r) => `${r.reqPerSec.toFixed(0)}, ${r.p99Ms}`).join(' / ');
    const bad = rs.reduce((sum, r) => sum + r.non2xx + r.errors, 0);
    console.log(
      `| \`${path}\` | ${p.queries} | ${p.dbMs.toFixed(1)} | ${p.totalMs.toFixed(1)} | ${quantile(
        rs.map((r) => r.reqPerSec),
        0.5,
      ).toFixed(1)} | ${quantile(
        rs.map((r) => r.p99Ms),
        0.5,
      )} | ${each} | ${bad} |`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
