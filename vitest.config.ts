/**
 * Test runner settings. Tests talk to a real Postgres (see
 * test/global-setup.ts), so timeouts allow for starting a server and creating
 * databases, and each test file runs in its own process with its own database.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
