/**
 * Keeps WEB_CONCURRENCY worker processes running: forks them, replaces one
 * that exits unexpectedly (after a pause that grows with each crash in a
 * row, see backoff.ts), and on stop asks each to finish its requests and
 * reports whether all of them exited cleanly.
 *
 * A worker counts as *ready* once it says so (after its server listens);
 * only ready workers are asked for metrics. It counts as *attached* from
 * its first message, sent before it builds anything, so that cache
 * invalidations reach every worker that might hold a cached entry.
 *
 * During the first start, a worker that exits before it was ready fails the
 * start: the same mistake (a bad URL, a port in use) would kill every
 * replacement too, and a single process would also exit 1 there.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../log/logger.ts';
import { DEFAULT_BACKOFF, nextCrashCount, restartDelayMs, type BackoffPolicy } from './backoff.ts';
import { createRpc, type Rpc } from './rpc.ts';

/** One worker process as the primary tracks it. */
export interface SupervisedWorker {
  /** cluster's worker id: increasing, never reused, so a replacement has a new one. */
  readonly id: number;
  readonly pid: number | undefined;
  readonly rpc: Rpc;
  ready: boolean;
  attached: boolean;
}

export interface SupervisorOptions {
  workers: number;
  /** Added to each worker's environment (the primary's is inherited). */
  env: Record<string, string>;
  /** Arguments for each worker's entry script. */
  args: string[];
  logger: Logger;
  backoff?: BackoffPolicy;
  /** Called for each new worker, before it can send anything: install the primary's handlers here. */
  onFork?(worker: SupervisedWorker): void;
  /** Called when a worker has exited, for whatever reason. */
  onExit?(worker: SupervisedWorker): void;
}

/**
 * @example
 * const supervisor = createSupervisor({ workers: 2, env: { DATABASE_URL: url }, args: ['--holdfast-worker'], logger });
 * const { url } = await supervisor.start();
 * // on SIGTERM:
 * const clean = await supervisor.stop(15_000);
 */
export interface Supervisor {
  /** Forks every worker; resolves once all are ready, rejects if one exits first. */
  start(): Promise<{ url: string }>;
  /** SIGTERM to every worker; SIGKILL after `timeoutMs`. True when all exited with 0. */
  stop(timeoutMs: number): Promise<boolean>;
  /** SIGKILL to every worker now, for a second stop signal. */
  killAll(): void;
  ready(): SupervisedWorker[];
  attached(): SupervisedWorker[];
  readonly restarts: number;
}

interface Slot {
  index: number;
  crashes: number;
  current?: { worker: Worker; supervised: SupervisedWorker; forkedAt: number };
  restartTimer?: NodeJS.Timeout;
}

/**
 * Sets up the primary for forking; nothing is forked before `start()`.
 *
 * @example
 * const supervisor = createSupervisor({ workers: config.webConcurrency, env: { DATABASE_URL: url }, args: [WORKER_FLAG], logger });
 */
export function createSupervisor(options: SupervisorOptions): Supervisor {
  const { logger } = options;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const slots: Slot[] = Array.from({ length: options.workers }, (_, index) => ({ index, crashes: 0 }));
  let phase: 'idle' | 'starting' | 'running' | 'stopping' = 'idle';
  let restarts = 0;
  let allClean = true;
  let started: { resolve(v: { url: string }): void; reject(err: Error): void } | undefined;
  let firstUrl: string | undefined;
  let stopped: (() => void) | undefined;

  cluster.setupPrimary({ args: options.args });

  function live(): Slot[] {
    return slots.filter((s) => s.current !== undefined);
  }

  function fork(slot: Slot): void {
    slot.restartTimer = undefined;
    const worker = cluster.fork(options.env);
    const rpc = createRpc({
      send: (message) => {
        if (!worker.isConnected()) throw new Error('worker disconnected');
        // The callback keeps a send that races the worker's exit from becoming an 'error' event.
        worker.send(message, undefined, undefined, () => undefined);
      },
      subscribe: (listener) => {
        worker.on('message', listener);
        return () => worker.off('message', listener);
      },
    });
    const supervised: SupervisedWorker = { id: worker.id, pid: worker.process.pid, rpc, ready: false, attached: false };
    slot.current = { worker, supervised, forkedAt: Date.now() };
    // A failed kill or send is reported here; without a listener it would crash the primary.
    worker.on('error', (err) => logger.warn({ worker: worker.id, err: err.message }, 'worker channel error'));
    rpc.handle('attach', () => {
      supervised.attached = true;
      return {};
    });
    rpc.handle('ready', (body) => {
      supervised.ready = true;
      const url = (body as { url?: unknown }).url;
      if (typeof url === 'string') firstUrl ??= url;
      logger.info({ worker: worker.id, workerPid: supervised.pid }, 'worker ready');
      if (phase === 'starting' && slots.every((s) => s.current?.supervised.ready === true)) {
        phase = 'running';
        started?.resolve({ url: firstUrl ?? '' });
      }
      return {};
    });
    options.onFork?.(supervised);
    worker.once('exit', (code, signal) => onExit(slot, worker, supervised, code, signal));
  }

  function onExit(slot: Slot, worker: Worker, supervised: SupervisedWorker, code: number | null, signal: string | null): void {
    const uptimeMs = Date.now() - (slot.current?.forkedAt ?? Date.now());
    slot.current = undefined;
    supervised.rpc.close('worker exited');
    options.onExit?.(supervised);
    const details = { worker: worker.id, workerPid: supervised.pid, code, signal };

    if (phase === 'stopping') {
      // SIGTERM before it was ready kills a worker that has not installed its handlers yet: that is a clean stop too.
      const clean = code === 0 || (signal === 'SIGTERM' && !supervised.ready);
      if (!clean) allClean = false;
      logger[clean ? 'info' : 'warn'](details, clean ? 'worker stopped' : 'worker did not stop cleanly');
      if (live().length === 0) stopped?.();
      return;
    }
    if (phase === 'starting' && !supervised.ready) {
      logger.error(details, 'worker exited before it was ready; see its log above');
      started?.reject(new Error(`worker ${worker.id} exited during start (code ${code}, signal ${signal})`));
      return;
    }
    slot.crashes = nextCrashCount(slot.crashes, uptimeMs, backoff);
    const delayMs = restartDelayMs(slot.crashes, backoff);
    restarts++;
    logger[code === 0 ? 'warn' : 'error'](
      { ...details, uptimeMs, crashesInARow: slot.crashes, restartInMs: delayMs },
      'worker exited unexpectedly; restarting it',
    );
    slot.restartTimer = setTimeout(() => fork(slot), delayMs);
  }

  return {
    start() {
      if (phase !== 'idle') throw new Error('supervisor already started');
      phase = 'starting';
      const promise = new Promise<{ url: string }>((resolve, reject) => {
        started = { resolve, reject };
      });
      for (const slot of slots) fork(slot);
      return promise;
    },
    stop(timeoutMs) {
      if (phase === 'starting') started?.reject(new Error('stopped during start'));
      phase = 'stopping';
      for (const slot of slots) {
        if (slot.restartTimer !== undefined) clearTimeout(slot.restartTimer);
        slot.restartTimer = undefined;
      }
      const running = live();
      if (running.length === 0) return Promise.resolve(allClean);
      return new Promise<boolean>((resolve) => {
        const deadline = setTimeout(() => {
          logger.warn({ timeoutMs, workers: live().map((s) => s.current?.supervised.id) }, 'workers did not stop in time; killing them');
          allClean = false;
          for (const slot of live()) slot.current?.worker.process.kill('SIGKILL');
        }, timeoutMs);
        stopped = () => {
          clearTimeout(deadline);
          resolve(allClean);
        };
        for (const slot of running) slot.current?.worker.process.kill('SIGTERM');
      });
    },
    killAll() {
      phase = 'stopping';
      for (const slot of slots) if (slot.restartTimer !== undefined) clearTimeout(slot.restartTimer);
      for (const slot of live()) slot.current?.worker.process.kill('SIGKILL');
    },
    ready: () => live().flatMap((s) => (s.current?.supervised.ready === true ? [s.current.supervised] : [])),
    attached: () => live().flatMap((s) => (s.current?.supervised.attached === true ? [s.current.supervised] : [])),
    get restarts() {
      return restarts;
    },
  };
}
