#!/usr/bin/env node
// Entry point of the `sessiongraph` command: runs the TypeScript sources through tsx.
// Before anything starts libuv's thread pool: the embedded engine runs each statement on one of
// its threads, and readers must not take them all from ingest (see src/storage/client.ts).
process.env.UV_THREADPOOL_SIZE ??= '16';
const { register } = await import('tsx/esm/api');

register();
const { main } = await import('../collector/cli.ts');
const code = await main(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
