/**
 * tsx's loader for child processes that run the TypeScript sources.
 *
 * A file URL, not the bare name `tsx`: a child started from another working
 * directory (an empty one, so no .env is read) still finds it.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * @example
 * spawn(process.execPath, ['--import', TSX_LOADER, resolve('src/main.ts')]);
 */
export const TSX_LOADER = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
