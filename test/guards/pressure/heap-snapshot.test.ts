/**
 * Heap snapshots: one written on first reaching critical (a real one, the
 * only one in the suite: they are large and slow), then at most one per
 * HEAP_SNAPSHOT_MIN_INTERVAL_S.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPressureMonitor } from '../../../src/guards/pressure/monitor.ts';
import { captureLogs } from '../../helpers/logs.ts';
import { defaultSettings, linesWith, manualClock, scriptedSampler } from './fixtures.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function setup(dir: string | undefined, minIntervalS: number, write?: (path: string) => string) {
  const logs = captureLogs();
  const clock = manualClock();
  const sampler = scriptedSampler();
  const monitor = createPressureMonitor(
    { ...defaultSettings(), heapSnapshotDir: dir, heapSnapshotMinIntervalS: minIntervalS },
    { logger: logs.logger, sample: sampler.sample, now: clock.now, writeHeapSnapshot: write },
  );
  /** Into critical, stay a while, then back to ok. */
  const episode = () => {
    sampler.set({ rssMb: 5000 });
    for (let i = 0; i < 5; i++) monitor.tick();
    sampler.set({ rssMb: 100 });
    for (let i = 0; i < 3; i++) monitor.tick();
    expect(monitor.state()).toBe('ok');
  };
  return { logs, clock, monitor, episode };
}

describe('heap snapshot', () => {
  it('writes one real snapshot on first reaching critical, logs its path, and not again within the interval', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'holdfast-heap-'));
    dirs.push(dir);
    const target = join(dir, 'nested'); // created on demand
    const { logs, episode } = setup(target, 3600);

    episode();
    const files = await readdir(target);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^holdfast-.+-\d+\.heapsnapshot$/);
    expect((await stat(join(target, files[0]!))).size).toBeGreaterThan(1000);
    const written = linesWith(logs.lines, 'heap snapshot written');
    expect(written).toHaveLength(1);
    expect(written[0]!.path).toBe(join(target, files[0]!));

    episode(); // critical again, seconds later
    expect(await readdir(target)).toHaveLength(1);
    expect(linesWith(logs.lines, 'heap snapshot skipped: one was taken less than HEAP_SNAPSHOT_MIN_INTERVAL_S ago')).toHaveLength(1);
  });

  it('allows the next one once the interval has passed', () => {
    const paths: string[] = [];
    const { clock, episode } = setup('/var/tmp/holdfast-not-written', 60, (path) => (paths.push(path), path));
    episode();
    clock.advance(30_000);
    episode();
    expect(paths).toHaveLength(1);
    clock.advance(31_000);
    episode();
    expect(paths).toHaveLength(2);
    expect(paths[0]).not.toBe(paths[1]);
  });

  it('writes nothing when no directory is configured', () => {
    const paths: string[] = [];
    const { episode } = setup(undefined, 0, (path) => (paths.push(path), path));
    episode();
    episode();
    expect(paths).toHaveLength(0);
  });

  it('logs a failed write and keeps monitoring', () => {
    const { logs, monitor, episode } = setup('/var/tmp/holdfast-not-written', 0, () => {
      throw new Error('disk full');
    });
    episode();
    expect(linesWith(logs.lines, 'heap snapshot failed')).toHaveLength(1);
    expect(monitor.state()).toBe('ok');
  });
});
