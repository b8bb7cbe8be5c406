/**
 * `createApp(deps)` builds the HTTP app (Hono); nothing is built at import time, so tests
 * call `app.request()` on an app over their own storage, and `main.ts` serves the same app.
 */
import { Hono, type Context } from 'hono';
import type { Histogram } from 'prom-client';
import type { Config } from '../src/config.ts';
import { HTTP_STATUS, SessiongraphError, UnavailableError, retryAfterOf } from '../src/errors.ts';
import type { Logger } from '../src/logger.ts';
import type { GraphWriter } from '../src/ingest/graph-writer.ts';
import type { SpanWriter } from '../src/ingest/span-writer.ts';
import type { Storage } from '../src/storage/storage.ts';
import { apiRoutes } from './routes/api.ts';
import { healthRoutes } from './routes/health.ts';
import { createTraceReceiver, guessFormat, otlpError, otlpRoutes, type TraceReceiver } from './routes/otlp.ts';
import { createLogsReceiver, otlpLogsRoutes, type LogsReceiver } from './routes/otlp-logs.ts';
import { requireApiKeys } from './auth-middleware.ts';

/** What the app needs: storage, the span writer over it, configuration and a logger. */
export interface AppDeps {
  storage: Storage;
  writer: SpanWriter;
  graph: GraphWriter;
  config: Config;
  logger: Logger;
  /** True once a shutdown began: new requests get 503 and their connection is closed. */
  isClosing?: () => boolean;
  /** The roll-up lag histogram the graph writer observes into (server.ts), shown on /metrics. */
  rollUpLag?: Histogram;
  /** The OTLP receivers, when a gRPC server shares them with the HTTP routes; built here otherwise. */
  receivers?: Receivers;
}

/** The transport-independent OTLP receivers: HTTP routes and gRPC services over the same budgets, writers and counters. */
export interface Receivers {
  traces: TraceReceiver;
  logs: LogsReceiver;
}

/** Builds the receivers over the app's storage and span writer. */
export function createReceivers(deps: Pick<AppDeps, 'storage' | 'writer' | 'config' | 'graph'>): Receivers {
  return { traces: createTraceReceiver(deps), logs: createLogsReceiver(deps) };
}

/** Paths whose errors are OTLP `google.rpc.Status` bodies in the request's encoding, not API JSON. */
const OTLP_PATHS = new Set(['/v1/traces', '/v1/logs']);

/** Builds the collector's HTTP app. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const reject = (c: Context, err: SessiongraphError): Response =>
    OTLP_PATHS.has(c.req.path) ? otlpError(c, guessFormat(c), err) : c.json({ error: { code: err.kind, message: err.message } }, HTTP_STATUS[err.kind]);
  app.use('*', async (c, next) => {
    if (!deps.isClosing?.()) return next();
    // Keep-alive clients would otherwise keep this server busy after close(): send them away.
    c.header('connection', 'close');
    c.header('retry-after', '5');
    return reject(c, new UnavailableError('the collector is shutting down; retry', 5));
  });
  app.use(
    '*',
    requireApiKeys(deps.config.apiKeys, reject),
  );
  const receivers = deps.receivers ?? createReceivers(deps);
  app.route('/', otlpRoutes(deps, receivers.traces));
  app.route('/', otlpLogsRoutes(deps, receivers.logs));
  app.route('/', healthRoutes(deps, receivers));
  app.route('/', apiRoutes(deps));
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404));
  app.onError((err, c) => {
    if (err instanceof SessiongraphError) {
      const retryAfter = retryAfterOf(err);
      if (retryAfter !== undefined) c.header('retry-after', String(retryAfter));
      return c.json({ error: { code: err.kind, message: err.message } }, HTTP_STATUS[err.kind]);
    }
    deps.logger.error('unhandled error', { path: c.req.path, error: String(err) });
    return c.json({ error: { code: 'internal', message: 'internal error' } }, 500);
  });
  return app;
}
