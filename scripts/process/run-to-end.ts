/**
 * Running a command to its end and keeping what it printed: the bench's
 * drivers (wrk, pgbench) and the build (tsc) all need exactly this.
 */
import { spawn } from 'node:child_process';

/**
 * Runs a command to completion (killing it past `limitMs`) and returns its stdout and stderr.
 *
 * @example
 * await runToEnd('wrk', ['-c100', '-d10s', url], 40_000);
 */
export async function runToEnd(command: string, args: string[], limitMs: number, env?: Record<string, string>): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${command} exited with ${code}:\n${out.slice(-2000)}`));
    });
  });
}
