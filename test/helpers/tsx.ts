/**
 * tsx's loader for child processes that run the TypeScript sources.
 *
 * A file URL, not the bare name `tsx`: a child started from another working
 * directory (an empty one, so no .env is read) still finds it.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nodeFlags } from '../../src/runtime/node-flags.ts';

/**
 * @example
 * spawn(process.execPath, ['--import', TSX_LOADER, resolve('src/main.ts')]);
 */
export const TSX_LOADER = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;

/**
 * Node's arguments for the service from its sources: tsx, then the flags
 * `npm start` gives (src/runtime/node-flags.ts), at the default heap growth.
 *
 * @example
 * spawn(process.execPath, [...SERVICE_FROM_SOURCES, resolve('src/main.ts')]);
 */
export const SERVICE_FROM_SOURCES: readonly string[] = Object.freeze([
  '--import',
  TSX_LOADER,
  ...nodeFlags({ pinModule: pathToFileURL(resolve('src/runtime/tick-object-pin.ts')).href, heapGrowingPercent: 50 }),
]);
