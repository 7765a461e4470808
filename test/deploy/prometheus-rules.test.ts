import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROMTOOL, RULES, RULE_TESTS_DIR, prometheusFor } from '../helpers/prometheus.ts';

const run = promisify(execFile);
const havePromtool = prometheusFor('the Prometheus rule tests');

describe.skipIf(!havePromtool)('deploy/prometheus rules', () => {
  it('pass promtool check rules', async () => {
    const { stdout } = await run(PROMTOOL, ['check', 'rules', RULES]);
    expect(stdout).toContain('SUCCESS');
  });

  it('pass their promtool unit tests (burn rates, saturation, shedding, lag, Redis fallback)', async () => {
    const files = readdirSync(RULE_TESTS_DIR)
      .filter((f) => f.endsWith('.yml'))
      .map((f) => join(RULE_TESTS_DIR, f));
    expect(files.length).toBeGreaterThan(0);
    const { stdout } = await run(PROMTOOL, ['test', 'rules', ...files]);
    expect(stdout).toContain('SUCCESS');
  });
});
