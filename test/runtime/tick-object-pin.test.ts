import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pinnedTickObject } from '../../src/runtime/tick-object-pin.ts';
import { TSX_LOADER } from '../helpers/tsx.ts';

const pinModule = pathToFileURL(resolve('src/runtime/tick-object-pin.ts')).href;

/**
 * A child process that schedules ticks between idle full GCs (what start-up
 * does), then prints the state of nextTick's inline caches for the entry's
 * computed keys. `%DebugPrint` is V8's own dump; the slot lines name the IC
 * kind and its state.
 */
function probe(pin: boolean): string {
  return `
    ${pin ? `await import(${JSON.stringify(pinModule)});` : ''}
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 20; i++) await new Promise((resolve) => process.nextTick(resolve));
      await new Promise((resolve) => setTimeout(resolve, 1));
      globalThis.gc();
    }
    for (let i = 0; i < 20; i++) await new Promise((resolve) => process.nextTick(resolve));
    eval('%DebugPrint(process.nextTick)');
  `;
}

/**
 * The child's stdout is a file, not a pipe: Node makes a stdout pipe
 * non-blocking, and V8 prints through C stdio, which then drops what the
 * pipe cannot take at once.
 */
async function literalIcStates(pin: boolean): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-tick-pin-'));
  const file = join(dir, 'debug-print.txt');
  const out = await open(file, 'w');
  try {
    const child = spawn(
      process.execPath,
      ['--allow-natives-syntax', '--expose-gc', '--import', TSX_LOADER, '--input-type=module', '-e', probe(pin)],
      {
        cwd: process.cwd(),
        stdio: ['ignore', out.fd, 'inherit'],
      },
    );
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    const printed = await readFile(file, 'utf8');
    return printed
      .split('\n')
      .map((line) => /DefineKeyedOwnPropertyInLiteral\s+([A-Z_]+)/.exec(line)?.[1])
      .filter((state) => state !== undefined);
  } finally {
    await out.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('tick object pin', () => {
  it('keeps a nextTick entry alive once the first tick has run', async () => {
    await new Promise((resolve) => setImmediate(resolve));
    const entry = pinnedTickObject();
    expect(entry).toBeDefined();
    // The entry itself, not some other resource: its callback is the pin's.
    expect((entry as { callback?: { name?: string } }).callback?.name).toBe('pinTickObject');
    const keys = Object.getOwnPropertySymbols(entry).map((symbol) => symbol.description);
    expect(keys).toEqual(expect.arrayContaining(['async_id_symbol', 'trigger_async_id_symbol']));
  });

  it('keeps nextTick building its entries on the fast path after idle GCs', async () => {
    const [without, withPin] = await Promise.all([literalIcStates(false), literalIcStates(true)]);
    // The failure it prevents, reproduced: if this stops holding on a newer
    // Node, the pin is no longer needed (see the module's header).
    expect(without).toContain('MEGAMORPHIC');
    expect(withPin.length).toBeGreaterThan(0);
    expect(withPin.every((state) => state === 'MONOMORPHIC')).toBe(true);
  }, 30_000);
});
