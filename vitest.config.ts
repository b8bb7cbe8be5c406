import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // chDB segfaults in worker threads and binds one data directory per process (NOTES.md):
    // every test file runs in its own forked process with its own data directory.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
