import { defineConfig } from 'vitest/config';

// Default suite: must finish within 20 minutes on 2 cores. Long regressions live in tests/**/*.long.test.ts.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/**/*.long.test.ts', 'node_modules/**'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
