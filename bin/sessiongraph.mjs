#!/usr/bin/env node
// Entry point of the `sessiongraph` command: runs the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../collector/cli.ts');
const code = await main(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
