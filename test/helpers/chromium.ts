/**
 * Debian's Chromium for the browser suites, and the one rule for when it is
 * missing: under CI the suite fails (CI installs it), elsewhere it is skipped
 * loudly. The flags keep it off the network this machine does not have.
 *
 * @example
 * const haveChromium = chromiumFor('the dashboard browser test');
 * describe.skipIf(!haveChromium)('…', () => { … chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS }) … });
 */
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** True when Chromium is installed; throws under CI, and warns loudly elsewhere, when it is not. */
export function chromiumFor(suite: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: CI must install it (apt-get install -y chromium) to run ${suite}`);
  console.warn(`\n\n!!! ${CHROMIUM} not found: SKIPPING ${suite}. Install it with: apt-get install -y chromium !!!\n\n`);
  return false;
}
