/**
 * `createApp(deps)` builds the HTTP app (Hono); nothing is built at import time, so tests
 * call `app.request()` on an app over their own storage, and `main.ts` serves the same app.
 */
import { Hono } from 'hono';
import type { Config } from '../src/config.ts';
import { HTTP_STATUS, SessiongraphError } from '../src/errors.ts';
import type { Logger } from '../src/logger.ts';
import type { GraphWriter } from '../src/storage/graph-writer.ts';
import type { SpanWriter } from '../src/storage/span-writer.ts';
import type { Storage } from '../src/storage/storage.ts';
import { apiRoutes } from './routes/api.ts';
import { healthRoutes } from './routes/health.ts';
import { guessFormat, otlpError, otlpRoutes, type ReceiverStats } from './routes/otlp.ts';
import { requireApiKeys } from './auth-middleware.ts';

/** What the app needs: storage, the span writer over it, configuration and a logger. */
export interface AppDeps {
  storage: Storage;
  writer: SpanWriter;
  graph: GraphWriter;
  config: Config;
  logger: Logger;
}

/** Builds the collector's HTTP app. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.use(
    '*',
    requireApiKeys(deps.config.apiKeys, (c, err) =>
      c.req.path === '/v1/traces' ? otlpError(c, guessFormat(c), err) : c.json({ error: { code: err.kind, message: err.message } }, HTTP_STATUS[err.kind]),
    ),
  );
  const receiver: ReceiverStats = { requests: {}, spansAccepted: 0, spansRejected: 0, truncatedValues: 0, droppedAttributes: 0 };
  app.route('/', otlpRoutes(deps, receiver));
  app.route('/', healthRoutes(deps, receiver));
  app.route('/', apiRoutes(deps));
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404));
  app.onError((err, c) => {
    if (err instanceof SessiongraphError) {
      if ('retryAfterSeconds' in err && typeof err.retryAfterSeconds === 'number') c.header('retry-after', String(err.retryAfterSeconds));
      return c.json({ error: { code: err.kind, message: err.message } }, HTTP_STATUS[err.kind]);
    }
    deps.logger.error('unhandled error', { path: c.req.path, error: String(err) });
    return c.json({ error: { code: 'internal', message: 'internal error' } }, 500);
  });
  return app;
}
