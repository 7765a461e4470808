/**
 * `npm run queries`: the /admin/queries page of a running Holdfast, as a
 * table in the terminal.
 *
 * The token comes from ADMIN_TOKEN through the config module (environment
 * or .env), like every other setting, and is only ever sent in the
 * Authorization header. Exit codes: 0 printed, 1 the server could not be
 * reached or refused, 2 bad configuration or arguments.
 *
 * @example
 * ADMIN_TOKEN=… npm run queries -- --url http://127.0.0.1:5001 --limit 20
 * npm run queries -- --json | jq '.statements[0]'
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, readEnvironment } from '../src/config/index.ts';
import { ADMIN_QUERIES_PATH, type QueriesReport } from '../src/profiler/admin-route.ts';
import { formatQueriesReport } from '../src/profiler/report-table.ts';

const USAGE = 'usage: npm run queries -- [--url http://127.0.0.1:5001] [--limit 50] [--json]';

function fail(code: number, message: string): never {
  process.stderr.write(`queries: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:5001' },
        limit: { type: 'string', default: '50' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    fail(2, `${(err as Error).message}\n${USAGE}`);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!/^\d+$/.test(args.limit)) fail(2, `--limit must be a whole number\n${USAGE}`);

  let token: string | undefined;
  try {
    token = loadConfig(readEnvironment()).admin.token;
  } catch (err) {
    if (err instanceof ConfigError) fail(2, err.message);
    throw err;
  }
  if (token === undefined) fail(2, 'ADMIN_TOKEN is not set (environment or .env): the server only answers /admin/queries with it');

  let target: URL;
  try {
    target = new URL(ADMIN_QUERIES_PATH, args.url);
  } catch {
    fail(2, `--url ${JSON.stringify(args.url)} is not a URL`);
  }
  target.searchParams.set('limit', args.limit);

  let res: Response;
  try {
    res = await fetch(target, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    fail(1, `could not reach ${target.origin}: ${(err as Error).message}`);
  }
  const text = await res.text();
  if (res.status !== 200) {
    let detail = text.slice(0, 500);
    try {
      const problem = JSON.parse(text) as { code?: string; detail?: string };
      detail = `${problem.code ?? ''} ${problem.detail ?? ''}`.trim();
    } catch {
      // not a problem document; show the start of the body
    }
    fail(1, `${target.origin}${ADMIN_QUERIES_PATH} answered ${res.status}: ${detail}`);
  }
  if (args.json) {
    process.stdout.write(`${text}\n`);
    return;
  }
  const report = JSON.parse(text) as QueriesReport;
  process.stdout.write(formatQueriesReport(report, { width: process.stdout.columns ?? 140 }));
}

await main();
