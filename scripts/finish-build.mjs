#!/usr/bin/env node
// After `tsc` has emitted a build: (1) relative `.ts` imports in the emitted declaration files
// become `.js` — tsc rewrites them in the JavaScript (rewriteRelativeImportExtensions) but not in
// the .d.ts, and TypeScript consumers before 5.7 refuse a `.ts` import there; (2) copies the
// non-TypeScript files a build needs at run time (`--copy from:to`, e.g. the dashboard's assets).
// Usage: node scripts/finish-build.mjs <dist dir> [--copy <from>:<to>]...
import fs from 'node:fs';
import path from 'node:path';

const [dist, ...rest] = process.argv.slice(2);
if (!dist || !fs.existsSync(dist)) {
  console.error(`finish-build: no build directory ${dist ?? '(none given)'}`);
  process.exit(2);
}
let fixed = 0;
for (const entry of fs.readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const file = path.join(entry.parentPath, entry.name);
  const text = fs.readFileSync(file, 'utf8');
  const next = text.replace(/((?:from|import)\s*\(?\s*['"])(\.\.?\/[^'"]+)\.ts(['"])/g, '$1$2.js$3');
  if (next !== text) {
    fs.writeFileSync(file, next);
    fixed++;
  }
}
for (let i = 0; i < rest.length; i++) {
  if (rest[i] !== '--copy') continue;
  const [from, to] = (rest[++i] ?? '').split(':');
  if (!from || !to) {
    console.error('finish-build: --copy needs <from>:<to>');
    process.exit(2);
  }
  fs.cpSync(from, to, { recursive: true });
}
console.error(`finish-build: ${dist}: ${fixed} declaration files fixed`);
