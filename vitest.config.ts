import { defineConfig } from 'vitest/config';

// Tests live beside what they test (core/**/x.test.ts) and in test/ for end-to-end runs.
// Training tests are CPU-heavy; two cores means two forks at most.
export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'test/**/*.test.ts', 'electron/**/*.test.ts', 'renderer/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
