/**
 * The dashboard in a real headless Chromium: sign in through the form, watch
 * the numbers move while a small load runs, expand a captured plan, and
 * leave a screenshot in test-artifacts/dashboard.png for a human to look at.
 *
 * Chromium is Debian's package at /usr/bin/chromium (CI installs it with
 * apt-get), driven by playwright-core; Playwright's own browser downloads
 * are never used. Without Chromium the suite fails under CI and is skipped,
 * loudly, elsewhere.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { insertProducts } from '../helpers/store-fixtures.ts';
import { TEST } from '../helpers/context.ts';
import { CHROMIUM, CHROMIUM_ARGS, chromiumFor } from '../helpers/chromium.ts';

const TOKEN = 'browser-test-admin-token-0123456789';
const SCREENSHOT = join(process.cwd(), 'test-artifacts', 'dashboard.png');

const haveChromium = chromiumFor('the dashboard browser test');

describe.skipIf(!haveChromium)('the dashboard in Chromium', () => {
  let app: TestApp;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  const problems: string[] = [];

  beforeAll(async () => {
    app = await startTestApp({
      env: { ADMIN_TOKEN: TOKEN, DASHBOARD_MAX_STREAMS: '20', DASHBOARD_INTERVAL_MS: '1000', SLOW_QUERY_MS: '50' },
    });
    await insertProducts(app.pool, 200, (i) => new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString());
    // One slow read, so the statements table has a plan to expand.
    await app.pool.query(TEST, { text: 'SELECT pg_sleep(0.08), count(*) FROM products' });
    await app.profiler.settled();

    userDataDir = await mkdtemp(join(tmpdir(), 'holdfast-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1440, height: 1100 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    // CSP violations, script errors and failed loads all surface here.
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir !== undefined) await rm(userDataDir, { recursive: true, force: true });
    await app?.close();
  });

  it('signs in through the form, draws live numbers under load, expands a plan', async () => {
    await page.goto(`${app.baseUrl}/admin/dashboard`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');

    await page.fill('#token', 'not-the-token');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('[role=alert]')).toContain('not the admin token');
    problems.length = 0; // the browser logs the 401 of the form post; that one is expected

    await page.fill('#token', TOKEN);
    await Promise.all([page.waitForURL('**/admin/dashboard'), page.click('button[type=submit]')]);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'holdfast_admin')).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin' });

    // The first frame turns the banner from "connecting" into a state.
    await page.locator('#banner:not([data-level="connecting"])').waitFor({ timeout: 10_000 });
    expect(await page.getAttribute('#banner', 'data-level')).toMatch(/^(ok|degraded|shedding)$/);
    const before = await totalRequests(page);

    // 200 requests over about 3 s against a cheap API route.
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(Array.from({ length: 10 }, () => fetch(`${app.baseUrl}/api/products?limit=5`).then((r) => r.text())));
      await new Promise((r) => setTimeout(r, 150));
    }
    await expect.poll(() => totalRequests(page), { timeout: 5_000 }).toBeGreaterThanOrEqual(before + 200);
    expect(await page.textContent('#chart-rps .u-legend')).toContain('GET /api/products');
    expect(await page.locator('#chart-rps canvas').count()).toBe(1);
    expect(await page.textContent('[data-stat="rps"]')).not.toBe('–');

    // The statements table: the slow read has a plan; clicking its row shows it.
    const slowRow = page.locator('#slow-queries tbody tr', { hasText: 'pg_sleep' }).first();
    await slowRow.waitFor({ timeout: 5_000 });
    await slowRow.click();
    await expect.poll(() => page.textContent('#slow-queries td.plan-cell'), { timeout: 5_000 }).toMatch(/Aggregate[\s\S]*cost=/);

    // Let a couple more frames land so the screenshot shows the load's shape.
    await page.waitForTimeout(1500);
    // (The page's CSP forbids eval, so no string expressions; the test's TypeScript has no DOM types.)
    await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0)); // else the sticky banner lands mid-page in a full-page shot
    await mkdir(join(process.cwd(), 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);

    expect(problems).toEqual([]);
  }, 60_000);
});

async function totalRequests(page: Page): Promise<number> {
  const text = (await page.textContent('[data-stat="total"]')) ?? '';
  const n = Number(text.replace(/[^\d]/g, ''));
  return text.trim() === '–' || text.trim() === '' ? -1 : n;
}
