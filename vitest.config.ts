import { defineConfig } from 'vitest/config';

// Two projects: `unit` is pure code (no servers), `integration` talks to the real local stack
// (infra/local/up) and runs files one at a time so servers are not overloaded on 2 cores.
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{schemas,pipelines,services,bench,test,web}/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', 'node_modules/**', 'dist/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          exclude: ['node_modules/**', 'dist/**'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
