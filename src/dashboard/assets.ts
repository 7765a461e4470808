/**
 * The dashboard's static files, read once when the routes are built: the
 * page, its script and stylesheet (src/dashboard/public), and uPlot's
 * prebuilt browser files straight from node_modules, so there is no build
 * step and no CDN; the page works with no network beyond this server.
 *
 * A missing file fails the start loudly rather than serving a blank page.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Buffer;
  contentType: string;
  /** Strong ETag of the content. */
  etag: string;
}

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

const FILES: Record<string, { path: () => string; contentType: string }> = {
  'uPlot.iife.min.js': {
    path: () => createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'),
    contentType: 'text/javascript; charset=utf-8',
  },
  'uPlot.min.css': {
    path: () => createRequire(import.meta.url).resolve('uplot/dist/uPlot.min.css'),
    contentType: 'text/css; charset=utf-8',
  },
  'dashboard.js': { path: () => `${PUBLIC_DIR}dashboard.js`, contentType: 'text/javascript; charset=utf-8' },
  'dashboard.css': { path: () => `${PUBLIC_DIR}dashboard.css`, contentType: 'text/css; charset=utf-8' },
};

/**
 * Every asset by the name it is served under, plus the page itself.
 *
 * @example
 * const { assets, page } = loadDashboardAssets();
 * assets.get('uPlot.iife.min.js')?.body;
 */
export function loadDashboardAssets(): { assets: ReadonlyMap<string, Asset>; page: Asset } {
  const assets = new Map<string, Asset>();
  for (const [name, file] of Object.entries(FILES)) assets.set(name, asset(readFileSync(file.path()), file.contentType));
  return { assets, page: asset(readFileSync(`${PUBLIC_DIR}index.html`), 'text/html; charset=utf-8') };
}

function asset(body: Buffer, contentType: string): Asset {
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}
