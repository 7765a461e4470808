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
    // Vitest's default is one worker per core minus one: a single worker on a
    // 2-core machine. Most of this suite waits (on Postgres, child processes,
    // sockets and timers) rather than computes, so three files at a time
    // keep both cores busy; docs/TESTING.md has the measured wall times.
    maxWorkers: 3,
  },
});
