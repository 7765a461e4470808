/**
 * The Swagger UI page at /api/docs in a real headless Chromium, under the
 * Content-Security-Policy the server sends: it must render every operation
 * and "Try it out" must reach the API, with not one CSP violation. A header
 * check alone cannot show that a policy is loose enough; only a browser
 * enforcing it can.
 *
 * Chromium and its launch flags as in test/dashboard/dashboard.browser.test.ts:
 * Debian's /usr/bin/chromium driven by playwright-core; without it the suite
 * fails under CI and is skipped, loudly, elsewhere.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { CHROMIUM, CHROMIUM_ARGS, chromiumFor } from '../helpers/chromium.ts';

const haveChromium = chromiumFor('the docs page browser test');

describe.skipIf(!haveChromium)('the docs page in Chromium, under its CSP', () => {
  let app: TestApp;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  const problems: string[] = [];
  const violations: string[] = [];

  beforeAll(async () => {
    app = await startTestApp();
    userDataDir = await mkdtemp(join(tmpdir(), 'holdfast-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    // Reported by the page itself, so a violation is caught even if the console wording changes.
    await page.exposeFunction('reportCspViolation', (text: string) => violations.push(text));
    // A string, not a function: it runs in the page, and the tests compile without DOM types.
    await page.addInitScript({
      content:
        "document.addEventListener('securitypolicyviolation', (e) => window.reportCspViolation(e.violatedDirective + ' ' + e.blockedURI));",
    });
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir !== undefined) await rm(userDataDir, { recursive: true, force: true });
    await app?.close();
  });

  it('renders every operation and runs "Try it out" without a CSP violation', async () => {
    const response = await page.goto(`${app.baseUrl}/api/docs`);
    expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self'/);
    await page.waitForSelector('.opblock', { timeout: 20_000 });
    const operations = await page.$$eval('.opblock-summary-path', (nodes) => nodes.map((n) => n.getAttribute('data-path')));
    expect(operations).toEqual(expect.arrayContaining(['/api/products', '/api/orders', '/api/reports/top-products']));

    // Try GET /api/health from the page: the fetch must pass connect-src.
    await page.click('#operations-operations-getHealth .opblock-summary');
    await page.click('#operations-operations-getHealth .try-out__btn');
    await page.click('#operations-operations-getHealth .execute');
    await page.waitForSelector('#operations-operations-getHealth .live-responses-table .response-col_status', { timeout: 10_000 });
    const status = await page.textContent('#operations-operations-getHealth .live-responses-table .response .response-col_status');
    expect(status?.trim()).toBe('200');

    expect(violations).toEqual([]);
    expect(problems).toEqual([]);
  });
});
