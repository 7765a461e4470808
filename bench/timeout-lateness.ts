/**
 * How late the server's own statement_timeout (57014) reaches a client when
 * the server and the machine are saturated: the evidence behind the silence
 * margin (src/db/pool/silence.ts), recorded in docs/FAILOVER.md. Not a
 * timed test: its figures depend on the machine, so it prints them.
 *
 * Each round, `--sessions` connections send a statement at once that cannot
 * finish before statement_timeout: blocked on a table another session holds
 * locked (`lock`), or computing (`cpu`). Lateness is the time from sending
 * to the 57014 as this process sees it, minus the timeout: server wake-up,
 * the network, and this process's own event loop, as the pool sees them.
 * Meanwhile `--hogs` sessions run CPU-bound statements without a timeout
 * (the server busy) and `--burners` child processes spin (the machine busy),
 * and this process blocks its own event loop for `--block-ms` every 20 ms
 * (an application busy answering requests).
 *
 * Without DATABASE_URL it starts its own Postgres (embedded, as the
 * reliability suites do) in a temporary directory, and removes it after.
 *
 * @example
 * flock /tmp/bench.lock npx tsx bench/timeout-lateness.ts --sessions 50 --timeouts 100,500,2000 --rounds 10 --hogs 4 --burners 2 --block-ms 5
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres, type RunningPostgres } from '../src/db/embedded/postgres.ts';
import { createLogger } from '../src/log/logger.ts';
import { freePort } from '../src/net/free-port.ts';

if (process.argv[2] === '--spin') {
  // A burner child: one core's worth of busy work until killed.
  for (;;) Math.sqrt(Math.random());
}

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '50' },
    timeouts: { type: 'string', default: '100,500,2000' },
    rounds: { type: 'string', default: '10' },
    mode: { type: 'string', default: 'lock' },
    hogs: { type: 'string', default: '0' },
    burners: { type: 'string', default: '0' },
    'block-ms': { type: 'string', default: '0' },
  },
});
const sessions = Number(values.sessions);
const timeouts = values.timeouts.split(',').map(Number);
const rounds = Number(values.rounds);
const mode = values.mode;
if (mode !== 'lock' && mode !== 'cpu') throw new Error('--mode is lock or cpu');
const hogs = Number(values.hogs);
const burners = Number(values.burners);
const blockMs = Number(values['block-ms']);

let embedded: { server: RunningPostgres; dir: string } | undefined;
let url = process.env['DATABASE_URL'];
if (url === undefined) {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-lateness-'));
  const server = await startEmbeddedPostgres({ dataDir: dir, port: await freePort(), logger: createLogger('silent') });
  embedded = { server, dir };
  url = server.url;
}

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  client.on('error', () => {});
  return client;
}

const admin = await connect();
await admin.query('CREATE TABLE IF NOT EXISTS lateness_probe (id int)');
const clients = await Promise.all(Array.from({ length: sessions }, connect));
const hogClients = await Promise.all(Array.from({ length: hogs }, connect));
const children = Array.from({ length: burners }, () =>
  fork(new URL(import.meta.url).pathname, ['--spin'], { execArgv: ['--import', 'tsx'] }),
);

// The server busy: statements that compute until cancelled at the end.
const HOG = 'SELECT count(*) FROM generate_series(1, 10000000000)';
for (const hog of hogClients) void hog.query(HOG).catch(() => {});

// The application busy: synchronous work that holds the event loop.
const blocker =
  blockMs > 0
    ? setInterval(() => {
        const until = performance.now() + blockMs;
        while (performance.now() < until);
      }, 20)
    : undefined;

const STATEMENT = { lock: 'SELECT * FROM lateness_probe', cpu: 'SELECT count(*) FROM generate_series(1, 10000000000)' }[mode];

async function round(timeoutMs: number): Promise<{ lateness: number[]; other: number }> {
  await Promise.all(clients.map((c) => c.query(`SET statement_timeout = ${timeoutMs}`)));
  if (mode === 'lock') {
    await admin.query('BEGIN');
    await admin.query('LOCK TABLE lateness_probe IN ACCESS EXCLUSIVE MODE');
  }
  let other = 0;
  const lateness = await Promise.all(
    clients.map(async (c) => {
      const sent = performance.now();
      try {
        await c.query(STATEMENT);
        other++;
      } catch (err) {
        if ((err as { code?: string }).code !== '57014') other++;
      }
      return performance.now() - sent - timeoutMs;
    }),
  );
  if (mode === 'lock') await admin.query('ROLLBACK');
  return { lateness, other };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

console.log(
  `statement_timeout lateness: mode ${mode}, ${sessions} sessions, ${rounds} rounds, ${hogs} server hogs, ${burners} burners, ` +
    `event loop blocked ${blockMs} ms every 20 ms`,
);
try {
  for (const timeoutMs of timeouts) {
    const all: number[] = [];
    let other = 0;
    for (let i = 0; i < rounds; i++) {
      const r = await round(timeoutMs);
      all.push(...r.lateness);
      other += r.other;
    }
    all.sort((a, b) => a - b);
    const f = (n: number): string => n.toFixed(1);
    console.log(
      `timeout ${timeoutMs} ms: n ${all.length}, lateness p50 ${f(quantile(all, 0.5))} ms, p99 ${f(quantile(all, 0.99))} ms, ` +
        `max ${f(all[all.length - 1]!)} ms, min ${f(all[0]!)} ms; not 57014: ${other}`,
    );
  }
} finally {
  clearInterval(blocker);
  for (const child of children) child.kill();
  for (const hog of hogClients) await admin.query('SELECT pg_cancel_backend($1)', [(hog as unknown as { processID: number }).processID]);
  await Promise.all([...clients, ...hogClients].map((c) => c.end().catch(() => {})));
  await admin.query('DROP TABLE IF EXISTS lateness_probe');
  await admin.end();
  if (embedded !== undefined) {
    await embedded.server.stop();
    await rm(embedded.dir, { recursive: true, force: true });
  }
}
