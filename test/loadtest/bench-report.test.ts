import { describe, expect, it } from 'vitest';
import { mergeRounds } from '../../bench/report.ts';
import type { CellResult } from '../../bench/results.ts';

const result = (reqPerSec: number, p99Ms: number, timeouts = 0) => ({
  requests: reqPerSec * 10,
  durationS: 10,
  reqPerSec,
  p50Ms: p99Ms / 10,
  p99Ms,
  timeouts,
  socketErrors: 0,
  non2xx: 0,
});

const cell = (server: string, round: number, r: ReturnType<typeof result>, extra: Partial<CellResult> = {}): CellResult => ({
  server,
  kind: 'holdfast',
  endpoint: 'product',
  concurrency: 100,
  round,
  result: r,
  ...extra,
});

describe('mergeRounds', () => {
  it('reports each cell as the median of its rounds, with every round kept as the spread and errors summed', () => {
    const merged = mergeRounds([
      cell('holdfast (cache on)', 1, result(9000, 30), { rssPeakMb: 120 }),
      cell('holdfast (cache off)', 1, result(8000, 40)),
      cell('holdfast (cache on)', 2, result(12000, 20, 3), { rssPeakMb: 140 }),
      cell('holdfast (cache off)', 2, result(7000, 50)),
      cell('holdfast (cache on)', 3, result(10000, 25)),
      cell('holdfast (cache off)', 3, result(7500, 45)),
    ]);
    expect(merged).toHaveLength(2);
    const on = merged.find((c) => c.server === 'holdfast (cache on)')!;
    expect(on.result).toMatchObject({ reqPerSec: 10000, p99Ms: 25, timeouts: 3 });
    expect(on.runs).toEqual([9000, 12000, 10000]);
    expect(on.rssPeakMb).toBe(140);
    expect(merged.find((c) => c.server === 'holdfast (cache off)')!.result?.reqPerSec).toBe(7500);
  });

  it('leaves a single round and the pool sweep cells as they are', () => {
    const single = cell('holdfast', 1, result(5000, 10));
    const sweep = [cell('holdfast pool 5', 1, result(1, 1), { poolSize: 5 }), cell('holdfast pool 5', 2, result(2, 2), { poolSize: 5 })];
    expect(mergeRounds([single, ...sweep])).toEqual([single, ...sweep]);
  });
});
