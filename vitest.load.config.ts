import { defineConfig } from 'vitest/config';

// `npm run test:load`: the serving load test (test/load/*.load.ts), apart from `npm test`; bounded to
// about a minute on a 2-core machine.
export default defineConfig({
  test: {
    include: ['test/load/**/*.load.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
