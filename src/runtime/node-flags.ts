/**
 * The flags Node must start the service with, and the start-up check that
 * says so when they are missing.
 *
 * Why flags, not code: the tick-object pin must run before anything else in
 * the process (src/runtime/tick-object-pin.ts), which only `--import`
 * guarantees, and `--heap-growing-percent` is a V8 flag, which Node documents
 * as unpredictable when set after start-up (`v8.setFlagsFromString`). So the
 * `start` script passes both (package.json), every place that spawns the
 * service passes `nodeFlags(…)`, and cluster workers inherit them through
 * `process.execArgv`. A process started some other way (`node
 * dist/src/main.js`) still serves, slower and larger; the check below makes
 * that visible in the first lines of the log.
 *
 * @example
 * spawn(process.execPath, [...nodeFlags({ pinModule, heapGrowingPercent: 50 }), 'dist/src/main.js']);
 * for (const problem of nodeFlagProblems({ heapGrowingPercent: 50 })) logger.warn(problem);
 */

/** Set on globalThis by tick-object-pin.ts when it runs; a symbol, so the check does not load the module itself. */
export const TICK_PIN_MARK = Symbol.for('holdfast.tickObjectPinned');

const HEAP_FLAG = /^--heap[-_]growing[-_]percent(?:=(.*))?$/;

/**
 * Node's arguments, before the entry file, that the service expects.
 *
 * @example
 * nodeFlags({ pinModule: './dist/src/runtime/tick-object-pin.js', heapGrowingPercent: 50 });
 * // ['--import', './dist/src/runtime/tick-object-pin.js', '--heap-growing-percent=50']
 */
export function nodeFlags(options: { pinModule: string; heapGrowingPercent: number }): string[] {
  return ['--import', options.pinModule, `--heap-growing-percent=${Math.round(options.heapGrowingPercent)}`];
}

/**
 * The process as the check sees it.
 *
 * @example
 * const state: NodeState = { execArgv: ['--heap-growing-percent=50'], pinned: true };
 */
export interface NodeState {
  execArgv: readonly string[];
  pinned: boolean;
}

function currentState(): NodeState {
  return { execArgv: process.execArgv, pinned: (globalThis as Record<symbol, unknown>)[TICK_PIN_MARK] === true };
}

/**
 * V8's heap growing percent from Node's arguments (the last one wins, as in V8); 0, V8's default, when absent.
 *
 * @example
 * heapGrowingPercentOf(['--heap-growing-percent=50']); // 50
 */
export function heapGrowingPercentOf(execArgv: readonly string[]): number {
  let percent = 0;
  execArgv.forEach((arg, i) => {
    const match = HEAP_FLAG.exec(arg);
    if (match !== null) percent = Number(match[1] ?? execArgv[i + 1]);
  });
  return percent;
}

/**
 * What is missing or different from the expected flags, one sentence each; empty when all is as expected.
 *
 * @example
 * nodeFlagProblems({ heapGrowingPercent: 50 }, { execArgv: [], pinned: false });
 * // ['the tick-object pin was not loaded (…)', '--heap-growing-percent is 0 (V8 default), HEAP_GROWING_PERCENT is 50 (…)']
 */
export function nodeFlagProblems(expected: { heapGrowingPercent: number }, state: NodeState = currentState()): string[] {
  const problems: string[] = [];
  if (!state.pinned)
    problems.push('the tick-object pin was not loaded (--import …/runtime/tick-object-pin.js): cheap routes cost about 15% more CPU');
  const running = heapGrowingPercentOf(state.execArgv);
  if (running !== expected.heapGrowingPercent) {
    problems.push(
      `--heap-growing-percent is ${running}${running === 0 ? " (V8's default)" : ''}, HEAP_GROWING_PERCENT is ${expected.heapGrowingPercent}: ` +
        'the start script reads HEAP_GROWING_PERCENT from the shell environment, not from .env',
    );
  }
  return problems;
}
