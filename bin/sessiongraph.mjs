#!/usr/bin/env node
// Entry point of the `sessiongraph` command: the built JavaScript in dist/ (`npm run build`,
// run by `npm install` in a clone and before `npm pack`); no TypeScript loader at run time.
// Before anything starts libuv's thread pool: the embedded engine runs each statement on one of
// its threads, and readers must not take them all from ingest (see src/storage/client.ts).
process.env.UV_THREADPOOL_SIZE ??= '16';
let cli;
try {
  cli = await import('../dist/collector/cli.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/collector/cli.js')) throw err;
  console.error('sessiongraph: dist/ is missing: run `npm run build` (npm install runs it) first');
  process.exit(1);
}
const code = await cli.main(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
