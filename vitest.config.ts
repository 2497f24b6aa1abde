import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    pool: 'forks',
    // Stops the shared local cluster (started lazily by test/cluster/harness.ts) and checks for leaks.
    globalSetup: ['test/cluster/global-setup.ts'],
  },
});
