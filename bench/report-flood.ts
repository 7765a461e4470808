/**
 * Issue 15's "report flood" target against a running server: orders keep a
 * p99 within 2× of their p99 without the flood, with 0 failed orders, while
 * `--reports` clients (200) loop on GET /api/reports/top-products (class
 * `low`). Two phases of `--duration` seconds each: a steady order stream
 * alone, then the same stream with the flood; prints a markdown table.
 *
 * Orders arrive on a fixed schedule (`--order-rate` per second, open model)
 * and each latency runs from its intended send time, so a stalled server
 * cannot hide its tail by slowing the stream down (coordinated omission,
 * docs/OVERLOAD.md). Reports are a closed loop: each client sends the next
 * as soon as the last returns, the harshest flood for the pool. Over
 * node:http keep-alive agents, one per stream, like the open-model
 * generator (scripts/loadtest/open-model.ts says why not undici or fetch).
 *
 * The report is cached (CACHE_TTL_REPORT_S); for the flood to reach the
 * database run the server with CACHE_ENABLED=false, or the table shows
 * mostly cache hits. Report windows and page sizes rotate (500 distinct
 * keys) so a short TTL does not serve everything from one entry.
 *
 * Needs a customer and products in stock: seeded demo data (SEED_DEMO=true)
 * serves; `--customer` names the customer (default 1), products are the
 * best-stocked of the first page of GET /api/products.
 *
 * `--honour-retry-after`: report clients wait as a 503's Retry-After says
 * (a polite client) instead of asking again at once.
 *
 * @example
 * npx tsx bench/report-flood.ts --url http://127.0.0.1:5001 --duration 20 --reports 200 --order-rate 50
 */
import { Agent, request as httpRequest } from 'node:http';
import { parseArgs } from 'node:util';
import { formatCount, formatMs, formatRatio, markdownTable } from '../scripts/loadtest/format.ts';
import { LatencyHistogram } from '../scripts/loadtest/latency.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:5001' },
    duration: { type: 'string', default: '20' },
    reports: { type: 'string', default: '200' },
    'order-rate': { type: 'string', default: '50' },
    customer: { type: 'string', default: '1' },
    'api-key': { type: 'string' },
    'metrics-token': { type: 'string' },
    timeout: { type: 'string', default: '10' },
    'honour-retry-after': { type: 'boolean', default: false },
  },
});
const base = values.url.replace(/\/$/, '');
const durationMs = Number(values.duration) * 1000;
const reportClients = Number(values.reports);
const orderRate = Number(values['order-rate']);
const timeoutMs = Number(values.timeout) * 1000;
for (const [name, v] of [
  ['--duration', durationMs],
  ['--reports', reportClients],
  ['--order-rate', orderRate],
  ['--timeout', timeoutMs],
] as const) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
}
const auth: Record<string, string> = values['api-key'] === undefined ? {} : { authorization: `Bearer ${values['api-key']}` };

interface Answer {
  status: number;
  body: string;
  ms: number;
  /** Seconds, when the answer carried a Retry-After in seconds. */
  retryAfter?: number;
}

/** One request; a socket error or timeout is status 0. `from` is when it should have been sent (performance.now()). */
function send(agent: Agent, method: string, path: string, body: string | undefined, from = performance.now()): Promise<Answer> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { ...auth };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = httpRequest(`${base}${path}`, { method, agent, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const retryAfter = Number(res.headers['retry-after']);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
          ms: performance.now() - from,
          ...(Number.isFinite(retryAfter) ? { retryAfter } : {}),
        }),
      );
      res.on('error', () => resolve({ status: 0, body: '', ms: performance.now() - from }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '', ms: performance.now() - from }));
    req.end(body);
  });
}

const setup = new Agent({ keepAlive: true });
const customer = await send(setup, 'GET', `/api/customers/${values.customer}`, undefined);
if (customer.status !== 200)
  throw new Error(`GET /api/customers/${values.customer} answered ${customer.status}: pass --customer <id> (seed with SEED_DEMO=true)`);
const list = await send(setup, 'GET', '/api/products?limit=100', undefined);
if (list.status !== 200) throw new Error(`GET /api/products answered ${list.status}`);
const products = (JSON.parse(list.body) as { items: { id: number; stock: number }[] }).items
  .sort((a, b) => b.stock - a.stock)
  .slice(0, 20)
  .filter((p) => p.stock > 0)
  .map((p) => p.id);
if (products.length === 0) throw new Error('no product in stock on the first page of GET /api/products');
setup.destroy();

interface OrderPhase {
  latency: LatencyHistogram;
  sent: number;
  ok: number;
  /** By status (0: socket error or timeout). */
  failed: Map<number, number>;
}

/** Orders at `orderRate`/s for `durationMs`, each timed from its intended send. */
async function orderStream(): Promise<OrderPhase> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const phase: OrderPhase = { latency: new LatencyHistogram(), sent: 0, ok: 0, failed: new Map() };
  const total = Math.round((orderRate * durationMs) / 1000);
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / orderRate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const productId = products[i % products.length]!;
    const body = JSON.stringify({ customerId: Number(values.customer), items: [{ productId, quantity: 1 }] });
    phase.sent++;
    inFlight.push(
      send(agent, 'POST', '/api/orders', body, due).then((a) => {
        if (a.status === 201) {
          phase.ok++;
          phase.latency.record(a.ms);
        } else {
          phase.failed.set(a.status, (phase.failed.get(a.status) ?? 0) + 1);
        }
      }),
    );
  }
  await Promise.all(inFlight);
  agent.destroy();
  return phase;
}

interface Flood {
  stop(): Promise<{ served: number; byStatus: Map<number, number>; seconds: number }>;
}

const WINDOWS = [1, 7, 30, 90, 365];

/** Waits `ms`, waking early once `going()` turns false (checked every 50 ms). */
async function pause(ms: number, going: () => boolean): Promise<void> {
  const end = performance.now() + ms;
  while (going() && performance.now() < end) await new Promise((r) => setTimeout(r, Math.min(50, end - performance.now())));
}

/** `reportClients` closed loops on the report until stopped. */
function startFlood(): Flood {
  const agent = new Agent({ keepAlive: true, maxSockets: reportClients });
  const byStatus = new Map<number, number>();
  let served = 0;
  let running = true;
  const started = performance.now();
  const loops = Array.from({ length: reportClients }, async (_, c) => {
    for (let i = c; running; i += reportClients) {
      const a = await send(
        agent,
        'GET',
        `/api/reports/top-products?days=${WINDOWS[i % 5]}&limit=${1 + (Math.floor(i / 5) % 100)}`,
        undefined,
      );
      byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
      if (a.status === 200) served++;
      // A polite client backs off as told; the default client asks again at once, the harshest flood.
      if (values['honour-retry-after'] && a.retryAfter !== undefined && running) await pause(a.retryAfter * 1000, () => running);
    }
  });
  return {
    stop: async () => {
      running = false;
      const seconds = (performance.now() - started) / 1000;
      await Promise.all(loops);
      agent.destroy();
      return { served, byStatus, seconds };
    },
  };
}

/** `holdfast_db_pool_shed_total` by `priority/reason`, or undefined when /metrics is not readable. */
async function shedCounts(): Promise<Map<string, number> | undefined> {
  const agent = new Agent();
  const headers = values['metrics-token'] === undefined ? {} : { authorization: `Bearer ${values['metrics-token']}` };
  const text = await new Promise<string | undefined>((resolve) => {
    const req = httpRequest(`${base}/metrics`, { agent, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
    });
    req.on('error', () => resolve(undefined));
    req.end();
  });
  agent.destroy();
  if (text === undefined) return undefined;
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/^holdfast_db_pool_shed_total\{priority="(\w+)",reason="(\w+)"\} (\S+)$/gm)) {
    counts.set(`${m[1]}/${m[2]}`, Number(m[3]));
  }
  return counts;
}

const fmtFailed = (m: Map<number, number>): string =>
  m.size === 0
    ? '0'
    : [...m]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${formatCount(n)}×${s === 0 ? 'error/timeout' : s}`)
        .join(', ');
const failedCount = (p: OrderPhase): number => [...p.failed.values()].reduce((a, b) => a + b, 0);

// Warm: connections, plans; unrecorded.
process.stderr.write(`report flood: ${base}, ${orderRate} orders/s, ${reportClients} report clients, ${durationMs / 1000} s per phase\n`);
await Promise.all([send(new Agent(), 'GET', '/api/reports/top-products?days=30&limit=10', undefined)]);

process.stderr.write('phase 1: orders alone\n');
const alone = await orderStream();

process.stderr.write('phase 2: orders with the report flood\n');
const shedBefore = await shedCounts();
const flood = startFlood();
const flooded = await orderStream();
const reports = await flood.stop();
const shedAfter = await shedCounts();

const row = (label: string, p: OrderPhase, r?: typeof reports): string[] => [
  label,
  formatCount(p.sent),
  formatCount(p.ok),
  fmtFailed(p.failed),
  formatMs(p.latency.percentile(0.5)),
  formatMs(p.latency.percentile(0.99)),
  formatMs(p.latency.max),
  r === undefined ? '—' : formatCount(Math.round(r.served / r.seconds)),
  r === undefined ? '—' : fmtFailed(new Map([...r.byStatus].filter(([s]) => s !== 200))),
];
console.log(
  markdownTable(
    ['phase', 'orders sent', 'orders 201', 'orders failed', 'order p50', 'order p99', 'order max', 'reports 200/s', 'reports not 200'],
    [row('orders alone', alone), row(`orders + ${reportClients} report clients`, flooded, reports)],
  ),
);
const ratio = flooded.latency.percentile(0.99) / alone.latency.percentile(0.99);
const met = ratio <= 2 && failedCount(flooded) === 0;
console.log(
  `\nTarget (order p99 with the flood ≤ 2× without, 0 failed orders): ${met ? 'met' : 'missed'}; p99 ratio ${formatRatio(ratio)}.`,
);
if (shedBefore !== undefined && shedAfter !== undefined) {
  const deltas = [...shedAfter]
    .map(([k, v]) => [k, v - (shedBefore.get(k) ?? 0)] as const)
    .filter(([, d]) => d > 0)
    .map(([k, d]) => `${k} ${formatCount(d)}`);
  console.log(`Shed by the pool during the flood (priority/reason): ${deltas.length === 0 ? 'none' : deltas.join(', ')}.`);
}
