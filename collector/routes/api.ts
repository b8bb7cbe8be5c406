/**
 * The query API (SPEC §6). Errors are JSON `{ "error": { "code", "message" } }`, mapped from
 * typed errors once in `app.onError`.
 */
import { Hono } from 'hono';
import { isEngineError } from '../../src/storage/clickhouse-error.ts';
import { BadDataError, UnavailableError } from '../../src/errors.ts';
import { createGraphQueries } from '../../src/storage/graph-queries.ts';
import { runReadOnlyQuery } from '../../src/storage/read-only-sql.ts';
import type { AppDeps } from '../app.ts';

/** Builds the `/api/*` routes. */
export function apiRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  const graph = createGraphQueries(deps.storage);

  app.get('/api/sessions', async (c) => c.json(await graph.sessions(c.req.query())));
  app.get('/api/sessions/:id', async (c) => c.json(await graph.session(c.req.param('id'))));
  app.get('/api/decisions/:id', async (c) => c.json(await graph.decision(c.req.param('id'))));
  app.get('/api/agents', async (c) => c.json({ agents: await graph.agents() }));
  app.get('/api/agents/:id', async (c) => c.json(await graph.agent(c.req.param('id'))));

  // Read-only SQL: the body is the query (text/plain), or JSON `{ "query": "…" }`.
  app.post('/api/sql', async (c) => {
    const text = await c.req.text();
    let sql = text;
    if ((c.req.header('content-type') ?? '').startsWith('application/json')) {
      const parsed: unknown = safeJson(text);
      const query = typeof parsed === 'object' && parsed !== null && 'query' in parsed ? parsed.query : undefined;
      if (typeof query !== 'string') throw new BadDataError('expected a JSON body {"query": "SELECT …"}');
      sql = query;
    }
    try {
      return c.json(await runReadOnlyQuery(deps.storage.client, sql));
    } catch (err) {
      if (isEngineError(err)) throw new BadDataError(`query failed: ${err.message.split('\n')[0]}`, { cause: err });
      if (err instanceof BadDataError) throw err;
      throw new UnavailableError(`storage is unavailable: ${(err as Error).message}`, 5, { cause: err });
    }
  });

  return app;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BadDataError('request body is not valid JSON');
  }
}
