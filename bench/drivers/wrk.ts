/**
 * wrk as the bench's load driver, when it is installed: it is written in C,
 * so it takes less of the shared CPU than a Node driver and leaves more for
 * the contender (BASELINES.md was measured with it). A generated Lua script
 * picks the random ids and, at the end, prints its summary as one JSON line
 * (exact counts and percentiles, no scraping of wrk's human output).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runToEnd } from '../../scripts/process/run-to-end.ts';
import type { DriverResult, HttpDriver, HttpRunSpec } from './types.ts';

const MARK = '@@wrk ';

/** A Zipf (s = 1) sampler over 1..n in Lua: cumulative 1/k weights per n, built on first use, then a binary search. */
const ZIPF_LUA = `local cumulative = {}
local function zipf(n)
  local c = cumulative[n]
  if c == nil then
    c = {}
    local sum = 0
    for k = 1, n do sum = sum + 1 / k; c[k] = sum end
    cumulative[n] = c
  end
  local r = math.random() * c[n]
  local lo, hi = 1, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if c[mid] < r then lo = mid + 1 else hi = mid end
  end
  return lo
end
`;

/**
 * The Lua script for `template`: a constant request when it has no
 * placeholder (no per-request work in wrk), else a fresh id per request.
 *
 * With `zipf`, ids are drawn with probability ∝ 1/k (s = 1, id 1 the
 * hottest), by binary search over the cumulative weights built once per
 * thread, as scripts/loadtest/zipf.ts does for the Node driver.
 *
 * @example
 * wrkScript('/api/products/{product}', { product: 100_000, customer: 10_000 }); // 'local template = …'
 */
export function wrkScript(template: string, ranges: { product: number; customer: number }, ids: 'uniform' | 'zipf' = 'uniform'): string {
  const literal = `[==[${template}]==]`;
  const draw = (n: number) => (ids === 'zipf' ? `zipf(${n})` : `math.random(1, ${n})`);
  const request = /\{(product|customer)\}/.test(template)
    ? `${ids === 'zipf' ? ZIPF_LUA : ''}request = function()
  local path = template:gsub("{product}", function() return tostring(${draw(ranges.product)}) end)
  path = path:gsub("{customer}", function() return tostring(${draw(ranges.customer)}) end)
  return wrk.format("GET", path)
end`
    : `local fixed = nil
request = function()
  if fixed == nil then fixed = wrk.format("GET", template) end
  return fixed
end`;
  return `local template = ${literal}
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("id", counter)
end
init = function(args)
  math.randomseed(os.time() * 1000 + (id or 0))
end
${request}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('${MARK}{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
}

/**
 * Reads the script's summary line from wrk's output.
 *
 * @example
 * parseWrkOutput('…\n@@wrk {"requests":100,"duration_us":1000000,…}\n').reqPerSec; // 100
 */
export function parseWrkOutput(output: string): DriverResult {
  const line = output.split('\n').find((l) => l.startsWith(MARK));
  if (line === undefined) throw new Error(`wrk printed no summary:\n${output.slice(-2000)}`);
  const s = JSON.parse(line.slice(MARK.length)) as Record<string, number>;
  const num = (k: string) => s[k] ?? 0;
  const durationS = num('duration_us') / 1e6;
  return {
    requests: num('requests'),
    durationS,
    reqPerSec: durationS > 0 ? Math.round((num('requests') / durationS) * 10) / 10 : 0,
    p50Ms: num('p50_us') / 1000,
    p99Ms: num('p99_us') / 1000,
    timeouts: num('timeout'),
    socketErrors: num('connect') + num('read') + num('write'),
    non2xx: num('status'),
  };
}

/**
 * The wrk binary's version line, or undefined when wrk is not on PATH.
 *
 * @example
 * await wrkVersion(); // 'wrk debian/4.1.0-3+b2 [epoll]'
 */
export async function wrkVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)('wrk', ['--version']).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
    const first = stdout
      .split('\n')[0]
      ?.replace(/Copyright.*$/, '')
      .trim();
    return first === undefined || first === '' ? undefined : first;
  } catch {
    return undefined;
  }
}

/**
 * @example
 * const driver = createWrkDriver('wrk 4.1.0');
 * await driver.run({ baseUrl, template: '/api/health', ranges, connections: 100, durationMs: 10_000, timeoutS: 10 });
 */
export function createWrkDriver(version: string, threads = 2): HttpDriver {
  return {
    name: 'wrk',
    describe: () => `${version}, ${threads} threads`,
    run: async (spec: HttpRunSpec) => {
      const dir = await mkdtemp(join(tmpdir(), 'holdfast-bench-wrk-'));
      try {
        const script = join(dir, 'bench.lua');
        await writeFile(script, wrkScript(spec.template, spec.ranges, spec.ids));
        const args = [
          `-t${Math.min(threads, spec.connections)}`,
          `-c${spec.connections}`,
          `-d${Math.max(1, Math.round(spec.durationMs / 1000))}s`,
          `--timeout`,
          `${spec.timeoutS}s`,
          '-s',
          script,
          spec.baseUrl,
        ];
        return parseWrkOutput(await runToEnd('wrk', args, spec.durationMs + 30_000));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
