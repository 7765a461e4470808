import { describe, expect, it } from 'vitest';
import { heapGrowingPercentOf, nodeFlagProblems, nodeFlags } from '../../src/runtime/node-flags.ts';
import '../../src/runtime/tick-object-pin.ts';

describe('node flags', () => {
  it('are the pin first, then the heap growth', () => {
    expect(nodeFlags({ pinModule: './dist/src/runtime/tick-object-pin.js', heapGrowingPercent: 50 })).toEqual([
      '--import',
      './dist/src/runtime/tick-object-pin.js',
      '--heap-growing-percent=50',
    ]);
  });

  it('read the heap growth as V8 does: either spelling, the last one wins, 0 when absent', () => {
    expect(heapGrowingPercentOf([])).toBe(0);
    expect(heapGrowingPercentOf(['--heap_growing_percent=30', '--heap-growing-percent=50'])).toBe(50);
    expect(heapGrowingPercentOf(['--heap-growing-percent', '70', '--import', 'x'])).toBe(70);
  });

  it('report nothing when the process has them, and each one that is missing or different', () => {
    const expected = { heapGrowingPercent: 50 };
    expect(nodeFlagProblems(expected, { execArgv: ['--import', 'pin.js', '--heap-growing-percent=50'], pinned: true })).toEqual([]);
    const bare = nodeFlagProblems(expected, { execArgv: [], pinned: false });
    expect(bare).toHaveLength(2);
    expect(bare[0]).toContain('tick-object pin');
    expect(bare[1]).toContain("--heap-growing-percent is 0 (V8's default), HEAP_GROWING_PERCENT is 50");
    expect(nodeFlagProblems({ heapGrowingPercent: 0 }, { execArgv: [], pinned: true })).toEqual([]);
    expect(nodeFlagProblems(expected, { execArgv: ['--heap-growing-percent=80'], pinned: true })).toEqual([
      expect.stringContaining('is 80'),
    ]);
  });

  it('see the pin once tick-object-pin.ts has run', () => {
    expect(
      nodeFlagProblems(
        { heapGrowingPercent: 0 },
        { execArgv: [], pinned: (globalThis as Record<symbol, unknown>)[Symbol.for('holdfast.tickObjectPinned')] === true },
      ),
    ).toEqual([]);
  });
});
