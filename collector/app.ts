/**
 * `createApp(deps)` builds the HTTP app (Hono); nothing is built at import time, so tests
 * call `app.request()` on an app over their own storage, and `main.ts` serves the same app.
 */
import { performance } from 'node:perf_hooks';
import { Hono, type Context } from 'hono';
import { routePath } from 'hono/route';
import type { Config } from '../src/config.ts';
import { HTTP_STATUS, SessiongraphError, UnavailableError, retryAfterOf } from '../src/errors.ts';
import type { Logger } from '../src/logger.ts';
import type { GraphWriter } from '../src/ingest/graph-writer.ts';
import type { SpanWriter } from '../src/ingest/span-writer.ts';
import type { Storage } from '../src/storage/storage.ts';
import { apiRoutes } from './routes/api.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { healthRoutes } from './routes/health.ts';
import { createTraceReceiver, guessFormat, otlpError, otlpRoutes, type TraceReceiver } from './routes/otlp.ts';
import { createLogsReceiver, otlpLogsRoutes, type LogsReceiver } from './routes/otlp-logs.ts';
import { requireApiKeys } from './auth-middleware.ts';
import { createHistograms, type CollectorHistograms } from './histograms.ts';
import { createRedactor, type Redactor } from '../src/redaction/redactor.ts';
import { ErasedTraces } from '../src/erasure/erasure.ts';

/** What the app needs: storage, the span writer over it, configuration and a logger. */
export interface AppDeps {
  storage: Storage;
  writer: SpanWriter;
  graph: GraphWriter;
  config: Config;
  logger: Logger;
  /** True once a shutdown began: new requests get 503 and their connection is closed. */
  isClosing?: () => boolean;
  /** The histograms of /metrics; server.ts makes them so the graph writer observes roll-up lags into the same ones. */
  histograms?: CollectorHistograms;
  /** The OTLP receivers, when a gRPC server shares them with the HTTP routes; built here otherwise. */
  receivers?: Receivers;
}

/** The transport-independent OTLP receivers: HTTP routes and gRPC services over the same budgets, writers, redaction and counters. */
export interface Receivers {
  traces: TraceReceiver;
  logs: LogsReceiver;
  /** Applied by both before anything is stored (--redact, --redact-defaults); undefined when nothing is redacted. */
  redactor: Redactor | undefined;
  /** Traces erased on request: re-sent copies of their spans and records are dropped on arrival. */
  erased: ErasedTraces;
}

/** Builds the receivers over the app's storage and span writer. */
export function createReceivers(deps: Pick<AppDeps, 'storage' | 'writer' | 'config' | 'graph'>): Receivers {
  const redactor = deps.config.redaction ? createRedactor(deps.config.redaction) : undefined;
  const erased = new ErasedTraces();
  return {
    traces: createTraceReceiver({ ...deps, redactor, erased }),
    logs: createLogsReceiver({ ...deps, redactor, erased }),
    redactor,
    erased,
  };
}

/** Paths whose errors are OTLP `google.rpc.Status` bodies in the request's encoding, not API JSON. */
const OTLP_PATHS = new Set(['/v1/traces', '/v1/logs']);

/** Builds the collector's HTTP app. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const histograms = deps.histograms ?? createHistograms();
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    // The route's pattern (`/api/sessions/:id`), never the path: ids would make a series each.
    // A path no handler matched ends at a middleware's pattern ('*', '/api/*').
    const route = routePath(c, -1);
    histograms.requestDuration.observe(
      { route, method: c.req.method, code: String(c.res.status) },
      (performance.now() - started) / 1000,
    );
  });
  const reject = (c: Context, err: SessiongraphError): Response =>
    OTLP_PATHS.has(c.req.path)
      ? otlpError(c, guessFormat(c), err)
      : c.json({ error: { code: err.kind, message: err.message } }, HTTP_STATUS[err.kind]);
  app.use('*', async (c, next) => {
    if (!deps.isClosing?.()) return next();
    // Keep-alive clients would otherwise keep this server busy after close(): send them away.
    c.header('connection', 'close');
    c.header('retry-after', '5');
    return reject(c, new UnavailableError('the collector is shutting down; retry', 5));
  });
  app.use('*', requireApiKeys(deps.config.apiKeys, reject));
  const receivers = deps.receivers ?? createReceivers(deps);
  for (const [signal, writer] of [
    ['traces', deps.writer],
    ['logs', receivers.logs.writer],
  ] as const) {
    writer.onStored = (rows, seconds, ok) => {
      histograms.batchRows.observe({ signal }, rows);
      histograms.insertDuration.observe({ signal, outcome: ok ? 'ok' : 'failed' }, seconds);
    };
  }
  app.route('/', otlpRoutes(deps, receivers.traces));
  app.route('/', otlpLogsRoutes(deps, receivers.logs));
  app.route('/', healthRoutes(deps, receivers, histograms));
  app.route('/', apiRoutes(deps, receivers.erased));
  app.route('/', dashboardRoutes(deps));
  app.notFound((c) =>
    c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  );
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
