/**
 * `npm run openapi -- <file>`: writes the OpenAPI document the server serves
 * at GET /api/openapi.json, without a database, for `npm run lint:openapi`.
 *
 * The server is built by the same `buildServer` as in production, over a
 * pool that is never started (routes only touch it when called), and the
 * document is fetched with `inject` from the route that serves it, so what
 * is linted is byte for byte what clients get. Default settings: the
 * document does not depend on them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadConfig } from '../src/config/index.ts';
import { createPool } from '../src/db/pool/pool.ts';
import { createPressureMonitor } from '../src/guards/pressure/monitor.ts';
import { createRateLimiter } from '../src/guards/rate-limit/index.ts';
import { buildServer } from '../src/http/server.ts';
import { createLifecycle } from '../src/lifecycle/lifecycle.ts';
import { createLogger } from '../src/log/logger.ts';
import { createMetricsRegistry } from '../src/metrics/registry.ts';
import { createQueryProfiler } from '../src/profiler/profiler.ts';
import { createCustomerStore } from '../src/store/customers.ts';
import { createOrderStore } from '../src/store/orders.ts';
import { createProductStore } from '../src/store/products.ts';
import { createReportStore } from '../src/store/reports.ts';

const out = process.argv[2];
if (out === undefined) {
  process.stderr.write('usage: tsx scripts/openapi.ts <output.json>\n');
  process.exit(2);
}

const config = loadConfig({});
const logger = createLogger('error');
const { adaptive: _adaptive, adaptiveMin: _adaptiveMin, ...poolSettings } = config.pool;
// Never started: no connection is opened.
const pool = createPool({
  ...poolSettings,
  connectionString: 'postgres://openapi-dump.invalid/none',
  statementTimeoutMs: 0,
  preparedStatements: false,
  logger,
});
const profiler = createQueryProfiler({ settings: config.profiler, logger });
const rateLimiter = createRateLimiter(config, { logger });
const server = await buildServer({
  config,
  pool,
  logger,
  lifecycle: createLifecycle(),
  pressure: createPressureMonitor(config.pressure, { logger }),
  rateLimiter,
  metrics: createMetricsRegistry({ pool }),
  profiler,
  stores: {
    products: createProductStore(pool),
    customers: createCustomerStore(pool),
    orders: createOrderStore(pool),
    reports: createReportStore(pool),
  },
});
try {
  const res = await server.inject('/api/openapi.json');
  if (res.statusCode !== 200) throw new Error(`GET /api/openapi.json answered ${res.statusCode}: ${res.body}`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(res.json(), null, 2)}\n`);
} finally {
  await server.close();
  await rateLimiter.close();
  profiler.close();
}
