/**
 * The web dashboard (SPEC §6 `GET /`): one HTML shell for every page path and the client's
 * static files under `/ui/<build>/…`. The pages are drawn in the browser from the JSON API, so
 * nothing served here holds data: the shell and the assets load without an API key
 * (auth-middleware.ts) and the page asks for one when the collector has keys.
 *
 * Every file is read once per process (from `src/dashboard/assets/` and uPlot's `dist/` in the
 * package's own node_modules — never a CDN: the dashboard works offline). The build id is a hash
 * of all of them: the shell (never cached) names its assets `/ui/<build>/<file>`, so they can
 * be cached for good and an upgraded collector's shell fetches the new ones.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Hono, type Context } from 'hono';
import type { AppDeps } from '../app.ts';

const ASSETS_DIR = path.resolve(import.meta.dirname, '../../src/dashboard/assets');
const SHELL_FILE = 'index.html';
/** Page paths that get the shell; the client routes on `location.pathname` (app.js). */
export const DASHBOARD_PAGES = ['/', '/sessions', '/sessions/:id', '/decisions/:id', '/agents'] as const;

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

// The dashboard only talks to its own origin; data is put into the page through DOM text,
// never markup, and this policy backs that up: no inline script, no other origin, no framing.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: Uint8Array;
  type: string;
  etag: string;
}

interface Bundle {
  build: string;
  assets: Map<string, Asset>;
  shellTemplate: string;
}

let bundle: Bundle | undefined;

/** Reads the assets (once per process) and derives the build id from their contents. */
function loadBundle(): Bundle {
  if (bundle) return bundle;
  const require = createRequire(import.meta.url);
  const files = new Map<string, string>();
  for (const name of fs.readdirSync(ASSETS_DIR).sort()) {
    if (name !== SHELL_FILE && CONTENT_TYPES[path.extname(name)]) files.set(name, path.join(ASSETS_DIR, name));
  }
  files.set('uPlot.iife.min.js', require.resolve('uplot/dist/uPlot.iife.min.js'));
  files.set('uPlot.min.css', require.resolve('uplot/dist/uPlot.min.css'));
  const all = createHash('sha256');
  const assets = new Map<string, Asset>();
  for (const [name, file] of files) {
    const body = new Uint8Array(fs.readFileSync(file));
    const digest = createHash('sha256').update(body).digest('hex');
    all.update(`${name}\0${digest}\0`);
    assets.set(name, {
      body,
      type: CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream',
      etag: `"${digest.slice(0, 16)}"`,
    });
  }
  const shellTemplate = fs.readFileSync(path.join(ASSETS_DIR, SHELL_FILE), 'utf8');
  bundle = { build: all.update(shellTemplate).digest('hex').slice(0, 12), assets, shellTemplate };
  return bundle;
}

/** Builds the dashboard's routes: the shell on the page paths and the assets under `/ui/`. */
export function dashboardRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  const { build, assets, shellTemplate } = loadBundle();
  // Whether the page must ask for a key before its first API call (the API's 401 would say so
  // anyway); the keys themselves never reach the page.
  // Every module preloaded at once, rather than discovered import by import.
  const preload = [...assets.keys()]
    .filter((name) => name.endsWith('.js') && !name.startsWith('uPlot'))
    .map((name) => `<link rel="modulepreload" href="/ui/${build}/${name}">`)
    .join('\n');
  const shell = shellTemplate
    .replaceAll('%PRELOAD%', preload)
    .replaceAll('%BUILD%', build)
    .replaceAll('%AUTH%', deps.config.apiKeys.length > 0 ? 'keys' : 'none');

  const securityHeaders = (c: Context): void => {
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'no-referrer');
  };
  const page = (c: Context): Response => {
    securityHeaders(c);
    c.header('content-security-policy', CSP);
    c.header('cache-control', 'no-cache');
    return c.html(shell);
  };
  for (const p of DASHBOARD_PAGES) app.get(p, page);

  const serveAsset = (c: Context, name: string, immutable: boolean): Response => {
    const asset = assets.get(name);
    if (!asset) return c.json({ error: { code: 'not_found', message: `no dashboard file ${name}` } }, 404);
    securityHeaders(c);
    c.header('etag', asset.etag);
    c.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304);
    c.header('content-type', asset.type);
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200);
  };
  // A shell of an older build may still ask for its files: it gets today's, not cached for good.
  app.get('/ui/:build/:file', (c) => serveAsset(c, c.req.param('file'), c.req.param('build') === build));
  app.get('/ui/:file', (c) => serveAsset(c, c.req.param('file'), false));
  return app;
}
