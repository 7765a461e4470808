/**
 * Starts a server in its own Node process and stops it again, for the load
 * test and the bench: a server sharing the load generator's process would
 * share its CPU and event loop, and every number would be the two of them
 * mixed. The child announces itself with one `@@ready <url>` line on stdout.
 *
 * Only this process's own children are ever signalled, by PID; a child left
 * running when the parent exits is killed on the way out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ROOT, compiledPath, ensureBuilt } from '../build/compile.ts';
import { loadConfig, readEnvironment } from '../../src/config/index.ts';
import { nodeFlags } from '../../src/runtime/node-flags.ts';

const READY = '@@ready ';
const RECENT_LINES = 30;
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * A started child server.
 *
 * @example
 * const child: ChildServer = await spawnServer({ name: 'peer', file: 'bench/peers/fastify-constant.ts' });
 * await fetch(`${child.url}/api/health`);
 * await child.stop();
 */
export interface ChildServer {
  name: string;
  pid: number;
  /** Base URL the child listens on, e.g. http://127.0.0.1:41234. */
  url: string;
  /** Resident set size now, from /proc; undefined where /proc is missing or the child is gone. */
  rssMb(): number | undefined;
  /** The child's last output lines, for error messages. */
  recentOutput(): string[];
  /** SIGTERM, then SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** @example const options: SpawnOptions = { name: 'holdfast', file: 'scripts/loadtest/holdfast-child.ts', env: { PORT: '0' } }; */
export interface SpawnOptions {
  name: string;
  /** TypeScript entry, relative to the repository root. */
  file: string;
  args?: string[];
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Start Node with the service's own flags, as `npm start` does (src/runtime/node-flags.ts). Default false (the bench's peers). */
  serviceFlags?: boolean;
  readyTimeoutMs?: number;
}

/**
 * Spawns the compiled `<file>` (built once per process by the same build as
 * `npm start` runs) and waits for its ready line.
 *
 * @example
 * const holdfast = await spawnServer({ name: 'holdfast', file: 'scripts/loadtest/holdfast-child.ts', env });
 */
export async function spawnServer(options: SpawnOptions): Promise<ChildServer> {
  installExitHook();
  const outDir = await ensureBuilt();
  const env = { ...process.env, ...options.env };
  // The child reads the same environment (and ROOT's .env), so its configured heap growth is this one.
  const flags =
    options.serviceFlags === true
      ? nodeFlags({
          pinModule: pathToFileURL(compiledPath('src/runtime/tick-object-pin.ts', outDir)).href,
          heapGrowingPercent: loadConfig(readEnvironment({ env, envFile: `${ROOT}/.env` })).heapGrowingPercent,
        })
      : [];
  const child = spawn(process.execPath, [...flags, compiledPath(options.file, outDir), ...(options.args ?? [])], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const recent: string[] = [];
  const exited = new Promise<void>((done) => child.once('exit', () => (running.delete(child), done())));
  const remember = (line: string) => {
    recent.push(line);
    if (recent.length > RECENT_LINES) recent.shift();
  };

  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${options.name} did not start within ${options.readyTimeoutMs ?? 60_000} ms`)),
      options.readyTimeoutMs ?? 60_000,
    );
    let buffered = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith(READY)) {
          clearTimeout(timer);
          resolveUrl(line.slice(READY.length).trim());
        } else remember(line);
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) =>
      chunk
        .split('\n')
        .filter((l) => l !== '')
        .forEach(remember),
    );
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited (${signal ?? `code ${code}`}) before it was ready:\n${recent.join('\n')}`));
    });
  }).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw err;
  });

  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    pid: child.pid ?? -1,
    url,
    rssMb: () => (child.pid === undefined || child.exitCode !== null ? undefined : readRssMb(child.pid)),
    recentOutput: () => [...recent],
    stop: (graceMs = 15_000) =>
      (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })()),
  };
}

/**
 * VmRSS of process `pid` in MB, from /proc; undefined when unreadable.
 *
 * @example
 * readRssMb(process.pid); // 83.4
 */
export function readRssMb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Math.round((Number(match[1]) / 1024) * 10) / 10;
  } catch {
    return undefined;
  }
}

/**
 * Samples a child's RSS every `intervalMs` and keeps the peak.
 *
 * @example
 * const peak = sampleRssPeak(() => child.rssMb(), 250);
 * // … load …
 * peak.stop(); // 142.7
 */
export function sampleRssPeak(read: () => number | undefined, intervalMs = 250): { stop(): number | undefined } {
  let best: number | undefined;
  const take = () => {
    const v = read();
    if (v !== undefined) best = Math.max(best ?? 0, v);
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return best;
    },
  };
}

export { freePort } from '../../src/net/free-port.ts';

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort (a crash, process.exit): never leave a server behind us.
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}
