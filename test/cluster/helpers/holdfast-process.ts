/**
 * The real `npm start` process for cluster tests: spawned with tsx's loader
 * as src/main.ts is in production, its JSON log lines collected from stdout
 * (the workers write to the primary's stdout), and HTTP calls that open a
 * fresh connection each, so that node:cluster's round robin can hand
 * successive calls to different workers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { BUSY_MACHINE_PRESSURE } from '../../helpers/pressure-env.ts';
import { SERVICE_FROM_SOURCES } from '../../helpers/tsx.ts';

export interface HoldfastProcess {
  child: ChildProcess;
  /** Every stdout line, parsed (or `{ raw }`). */
  lines: Record<string, unknown>[];
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Resolves with the first line matching `match`; rejects after `timeoutMs` or on exit. */
  waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGKILL if still running (for afterEach). */
  kill(): void;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
});

/**
 * Spawns `node --import tsx src/main.ts` with only PATH and `env` in its environment.
 * Workers label their answers (HTTP_EXPOSE_WORKER=true), so tests can tell them apart.
 *
 * @example
 * const app = spawnHoldfast({ WEB_CONCURRENCY: '2', DATABASE_URL: db.url, PORT: '0' });
 * const ready = await app.waitForLine((l) => l.msg === 'holdfast cluster listening');
 */
export function spawnHoldfast(env: Record<string, string>): HoldfastProcess {
  const child = spawn(process.execPath, [...SERVICE_FROM_SOURCES, resolve('src/main.ts')], {
    // Under a full suite's load the workers' event loops stall past the critical delay and shed (seen in CI runs).
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      HTTP_EXPOSE_WORKER: 'true',
      ...BUSY_MACHINE_PRESSURE,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const exited = new Promise<number | null>((done) =>
    child.once('exit', (code) => {
      running.delete(child);
      done(code);
    }),
  );
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      lines.push({ raw: line });
    }
    for (const check of waiters) check();
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });

  function waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs = 45_000): Promise<Record<string, unknown>> {
    return new Promise((done, fail) => {
      const found = lines.find(match);
      if (found !== undefined) return done(found);
      const timer = setTimeout(() => {
        waiters.delete(check);
        fail(
          new Error(
            `no matching log line within ${timeoutMs} ms; last lines:\n${lines
              .slice(-15)
              .map((l) => JSON.stringify(l))
              .join('\n')}\nstderr: ${stderr}`,
          ),
        );
      }, timeoutMs);
      const check = (): void => {
        const hit = lines.find(match);
        if (hit === undefined) return;
        clearTimeout(timer);
        waiters.delete(check);
        done(hit);
      };
      waiters.add(check);
      void exited.then((code) => {
        if (!waiters.has(check)) return;
        clearTimeout(timer);
        waiters.delete(check);
        fail(
          new Error(
            `exited with ${code} before the expected line; stderr: ${stderr}; last lines:\n${lines
              .slice(-15)
              .map((l) => JSON.stringify(l))
              .join('\n')}`,
          ),
        );
      });
    });
  }

  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    waitForLine,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export interface FreshAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
  /** The pid in X-Worker, if any. */
  workerPid: number | undefined;
}

/**
 * One HTTP call on a new connection (no keep-alive), so the primary picks a worker for it.
 *
 * @example
 * const { workerPid } = await fresh(`${url}/api/health`);
 */
export function fresh(url: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<FreshAnswer> {
  const payload = init.body === undefined ? undefined : JSON.stringify(init.body);
  return new Promise((done, fail) => {
    const req = httpRequest(
      url,
      {
        method: init.method ?? 'GET',
        agent: false,
        headers: { connection: 'close', ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          const worker = res.headers['x-worker'];
          const pid = typeof worker === 'string' ? /pid=(\d+)/.exec(worker)?.[1] : undefined;
          let body: unknown = text;
          if ((res.headers['content-type'] ?? '').includes('json') && text !== '') body = JSON.parse(text);
          done({ status: res.statusCode ?? 0, headers: res.headers, text, body, workerPid: pid === undefined ? undefined : Number(pid) });
        });
      },
    );
    req.on('error', fail);
    req.end(payload);
  });
}

/**
 * Calls `url` on fresh connections until `workerPid` serves one (round robin makes that quick).
 *
 * @example
 * const answer = await freshFrom(pidOfB, `${url}/api/products/7`);
 */
export async function freshFrom(
  workerPid: number,
  url: string,
  init: Parameters<typeof fresh>[1] = {},
  attempts = 20,
): Promise<FreshAnswer> {
  for (let i = 0; i < attempts; i++) {
    const answer = await fresh(url, init);
    if (answer.workerPid === workerPid) return answer;
  }
  throw new Error(`worker ${workerPid} served none of ${attempts} calls to ${url}`);
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
