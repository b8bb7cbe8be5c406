import { defineConfig } from 'vitest/config';

// As the bin does: the forked test processes inherit it (src/storage/client.ts says why).
process.env.UV_THREADPOOL_SIZE ??= '16';

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
