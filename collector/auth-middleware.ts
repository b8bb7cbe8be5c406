/**
 * API-key check in front of every route (SPEC §7): `/v1/traces` and `/v1/logs` need the `ingest` scope;
 * the API, `/metrics` and any other path need `read`; `/healthz` and `/readyz` stay open for
 * load balancers, and so do the dashboard's page shell and static files (routes/dashboard.ts),
 * which hold no data: the page asks for a key and sends it on each `/api` call. Without
 * configured keys everything passes (the collector then refuses to bind anything but loopback,
 * see config.ts).
 */
import type { MiddlewareHandler } from 'hono';
import { authorize, presentedKey, type ApiKey, type Scope } from '../src/auth.ts';
import { ForbiddenError, UnauthorizedError, type SessiongraphError } from '../src/errors.ts';

const OPEN_PATHS = new Set(['/healthz', '/readyz']);
const INGEST_PATHS = new Set(['/v1/traces', '/v1/logs']);
// The dashboard shell's page paths (`/`, `/sessions`, `/agents`, `/sessions/<id>`,
// `/decisions/<id>`) and its files (`/ui/<file>`, `/ui/<build>/<file>`). Matched exactly, one
// segment per `<…>`, against the same path the router sees: no route that reads data lives
// under these paths, so none can be reached through them. Keep it that way.
const DASHBOARD_SHELL = /^\/(?:sessions|agents)?$|^\/(?:sessions|decisions)\/[^/]+$|^\/ui\/(?:[\w.-]+\/)?[\w.-]+$/;

/** Erasure and its records: the `admin` scope. */
const ADMIN_ROUTES = (method: string, path: string): boolean =>
  (method === 'DELETE' && path === '/api/sessions') || path === '/api/erasures';

/** The scope a request needs, or undefined for open paths. */
export function scopeFor(path: string, method = 'GET'): Scope | undefined {
  if (ADMIN_ROUTES(method, path)) return 'admin';
  if (OPEN_PATHS.has(path) || DASHBOARD_SHELL.test(path)) return undefined;
  return INGEST_PATHS.has(path) ? 'ingest' : 'read';
}

/** Middleware rejecting requests without a key of the needed scope; `reject` renders the error. */
export function requireApiKeys(
  keys: readonly ApiKey[],
  reject: (c: Parameters<MiddlewareHandler>[0], err: SessiongraphError) => Response,
): MiddlewareHandler {
  return async (c, next) => {
    const scope = scopeFor(c.req.path, c.req.method);
    if (keys.length === 0 || scope === undefined) return next();
    const result = authorize(keys, presentedKey(c.req.header('authorization'), c.req.header('x-api-key')), scope);
    if (result === 'ok') return next();
    c.header('www-authenticate', 'Bearer realm="sessiongraph"');
    if (result === 'missing')
      return reject(
        c,
        new UnauthorizedError('an API key is required: send Authorization: Bearer <key> or x-api-key: <key>'),
      );
    if (result === 'invalid') return reject(c, new UnauthorizedError('the API key is not valid'));
    return reject(c, new ForbiddenError(`the API key does not have the "${scope}" scope this route needs`));
  };
}
