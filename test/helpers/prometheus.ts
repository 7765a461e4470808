/**
 * Debian's Prometheus and promtool for the deploy/prometheus suites, with the
 * same rule as Chromium's (test/helpers/chromium.ts): under CI a missing
 * binary fails the suite (.ci/run installs the `prometheus` package),
 * elsewhere the suite is skipped loudly.
 *
 * @example
 * const havePromtool = prometheusFor('the alert rule tests');
 * describe.skipIf(!havePromtool)('…', () => { execFileSync(PROMTOOL, ['check', 'rules', RULES]); });
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';
export const RULES = fileURLToPath(new URL('../../deploy/prometheus/holdfast.rules.yml', import.meta.url));
export const RULE_TESTS_DIR = fileURLToPath(new URL('../../deploy/prometheus/tests/', import.meta.url));

/** True when both binaries are installed; throws under CI, and warns loudly elsewhere, when not. */
export function prometheusFor(suite: string): boolean {
  if (existsSync(PROMETHEUS) && existsSync(PROMTOOL)) return true;
  const hint = 'apt-get install -y prometheus';
  if (process.env.CI) throw new Error(`${PROMETHEUS} or ${PROMTOOL} is missing: CI must install it (${hint}) to run ${suite}`);
  console.warn(`\n\n!!! ${PROMETHEUS} / ${PROMTOOL} not found: SKIPPING ${suite}. Install with: ${hint} !!!\n\n`);
  return false;
}
