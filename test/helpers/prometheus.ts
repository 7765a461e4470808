/**
 * Debian's Prometheus and promtool for the deploy/prometheus suites, with the
 * same rule as Chromium's (test/helpers/chromium.ts): under CI a missing
 * binary fails the suite (.ci/run installs the `prometheus` package),
 * elsewhere the suite is skipped loudly.
 *
 * @example
 * const havePromtool = prometheusFor('the alert rule tests');
 * describe.skipIf(!havePromtool)('…', () => { execFileSync(PROMTOOL, ['check', 'rules', RULES]); });
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/net/free-port.ts';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';
export const RULES = fileURLToPath(new URL('../../deploy/prometheus/holdfast.rules.yml', import.meta.url));
export const RULE_TESTS_DIR = fileURLToPath(new URL('../../deploy/prometheus/tests/', import.meta.url));

/** True when both binaries are installed; throws under CI, and warns loudly elsewhere, when not. */
export function prometheusFor(suite: string): boolean {
  if (existsSync(PROMETHEUS) && existsSync(PROMTOOL)) return true;
  const hint = 'apt-get install -y prometheus';
  if (process.env.CI) throw new Error(`${PROMETHEUS} or ${PROMTOOL} is missing: CI must install it (${hint}) to run ${suite}`);
  console.warn(`\n\n!!! ${PROMETHEUS} / ${PROMTOOL} not found: SKIPPING ${suite}. Install with: ${hint} !!!\n\n`);
  return false;
}

export interface RunningPrometheus {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** GET {url}/api/v1/{path}; the `data` of a success, else throws. */
  api<T = unknown>(path: string): Promise<T>;
  /** Kills it by its PID and removes its storage. */
  stop(): Promise<void>;
}

/**
 * A real Prometheus (exemplar storage on, scraping every second, the
 * Holdfast rules loaded) scraping `target` (host:port) at /metrics.
 * Its own listen port cannot be 0, so a free one is picked first.
 *
 * @example
 * const prom = await startPrometheus('127.0.0.1:41234');
 * await prom.api('query?query=up');
 */
export async function startPrometheus(target: string): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-prom-'));
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'rule_files:',
    `  - ${JSON.stringify(RULES)}`,
    'scrape_configs:',
    '  - job_name: holdfast',
    '    static_configs:',
    `      - targets: [${JSON.stringify(target)}]`,
  ].join('\n');
  await writeFile(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--enable-feature=exemplar-storage',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (i > 300) {
      await stop();
      throw new Error(`prometheus not ready after 30 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    stop,
    async api<T>(path: string): Promise<T> {
      const body = (await (await fetch(`${url}/api/v1/${path}`)).json()) as { status: string; data: T; error?: string };
      if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error}`);
      return body.data;
    },
  };
}
