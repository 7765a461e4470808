/**
 * `npm run seed -- --products 100000 --customers 10000 --orders 200000 [--reset]`
 *
 * Loads generated store data into the database the app would use: DATABASE_URL
 * when set, else the embedded server under DATA_DIR, started here and stopped
 * when done. Migrations run first, so a fresh data directory works.
 */
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfig, readEnvironment } from '../src/config/index.ts';
import { databaseSource, prepareDatabase, type ReadyDatabase } from '../src/db/bootstrap.ts';
import type { SeedCounts, SeedProgress, SeedTable } from '../src/db/seed/seed.ts';
import { createLogger, type Logger } from '../src/log/logger.ts';

const USAGE = `Usage: npm run seed -- [--products N] [--customers N] [--orders N] [--reset]

  --products N    products to add   (default 100000)
  --customers N   customers to add  (default 10000)
  --orders N      orders to add, 1-5 lines each (default 200000)
  --reset         empty the store tables first

Uses DATABASE_URL when set, otherwise the embedded Postgres under DATA_DIR.`;

function parseCounts(argv: string[]): { counts: SeedCounts; reset: boolean } | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      products: { type: 'string', default: '100000' },
      customers: { type: 'string', default: '10000' },
      orders: { type: 'string', default: '200000' },
      reset: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const count = (name: SeedTable): number => {
    const text = values[name];
    if (!/^\d+$/.test(text)) throw new Error(`--${name} must be a whole number ≥ 0, got "${text}"`);
    return Number(text);
  };
  return { counts: { products: count('products'), customers: count('customers'), orders: count('orders') }, reset: values.reset };
}

function progressReporter(logger: Logger): { onProgress: (p: SeedProgress) => void; stop: () => void } {
  if (process.stderr.isTTY !== true) {
    return {
      onProgress: ({ table, done, total }) => {
        if (done === total) logger.info({ table, rows: total }, 'seeded');
      },
      stop: () => undefined,
    };
  }
  const bars = new cliProgress.MultiBar(
    {
      format: ' {table} |{bar}| {percentage}% | {value}/{total} rows | {duration_formatted}',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const byTable = new Map<SeedTable, cliProgress.SingleBar>();
  let stopped = false;
  return {
    onProgress: ({ table, done, total }) => {
      let bar = byTable.get(table);
      if (bar === undefined) {
        bar = bars.create(total, 0, { table: table.padEnd(9) });
        byTable.set(table, bar);
      }
      bar.update(done);
    },
    stop: () => {
      if (!stopped) bars.stop();
      stopped = true;
    },
  };
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseCounts>;
  try {
    parsed = parseCounts(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === 'help') {
    console.log(USAGE);
    return 0;
  }

  const config = loadConfig(readEnvironment());
  const logger = createLogger(config.log.level);
  const progress = progressReporter(logger);
  // Ctrl-C mid-seed: stop the embedded server before exiting, or it would
  // keep running after us and hold the data directory.
  let server: ReadyDatabase | undefined;
  const interrupt = (signal: NodeJS.Signals): void => {
    progress.stop();
    logger.warn({ signal }, 'interrupted; batches committed so far are kept');
    void (server?.stop() ?? Promise.resolve()).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
  try {
    const started = performance.now();
    server = await prepareDatabase({
      source: databaseSource(config.database),
      seed: { kind: 'rows', mode: 'add', counts: parsed.counts, reset: parsed.reset, onProgress: progress.onProgress },
      logger,
      onServer: (opened) => {
        server = opened;
      },
    });
    progress.stop();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    logger.info({ ...parsed.counts, reset: parsed.reset, seconds: Number(seconds) }, 'seed complete');
    return 0;
  } finally {
    process.removeListener('SIGINT', interrupt).removeListener('SIGTERM', interrupt);
    progress.stop();
    await server?.stop();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // ConfigError lists every bad variable, with secrets already redacted.
    console.error(err instanceof ConfigError ? err.message : `Seeding failed: ${(err as Error).message ?? String(err)}`);
    process.exitCode = 1;
  },
);
