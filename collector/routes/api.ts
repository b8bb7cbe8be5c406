/**
 * The query API (SPEC §6). Errors are JSON `{ "error": { "code", "message" } }`, mapped from
 * typed errors once in `app.onError`.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { isEngineError } from '../../src/storage/clickhouse-error.ts';
import {
  BadDataError,
  ForbiddenError,
  NotFoundError,
  OverloadedError,
  TooLargeError,
  UnavailableError,
} from '../../src/errors.ts';
import { createGraphQueries } from '../../src/queries/graph-queries.ts';
import { readTrends } from '../../src/queries/trends.ts';
import { readSpan } from '../../src/queries/transcript.ts';
import { retentionReport } from '../../src/retention/retention.ts';
import { erase, erasureCriterion, erasureRecords, type ErasedTraces } from '../../src/erasure/erasure.ts';
import { isLoopbackHost, keyDigestHex, presentedKey } from '../../src/auth.ts';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { runReadOnlyQuery, type SqlResult } from '../../src/storage/read-only-sql.ts';
import type { AppDeps } from '../app.ts';

/** The longest an API read waits for the roll-up to catch up with what was acknowledged before it. */
const READ_WAIT_MS = 2000;

/** Builds the `/api/*` routes. */
export function apiRoutes(deps: AppDeps, erased: ErasedTraces): Hono {
  const app = new Hono();
  const graph = createGraphQueries(deps.storage);

  // Sessions are rolled up behind the ack: a read first waits (at most READ_WAIT_MS) until every
  // batch acknowledged before it is reflected, so a client reads its own writes.
  app.use('/api/*', async (_c, next) => {
    await deps.graph.settled(READ_WAIT_MS);
    await next();
  });

  app.get('/api/sessions', async (c) => c.json(await graph.sessions(c.req.query())));
  app.get('/api/sessions/:id', async (c) => c.json(await graph.session(c.req.param('id'))));
  app.get('/api/decisions/:id', async (c) => c.json(await graph.decision(c.req.param('id'))));
  app.get('/api/agents', async (c) => c.json({ agents: await graph.agents() }));
  app.get('/api/agents/:id', async (c) => c.json(await graph.agent(c.req.param('id'))));
  app.get('/api/trends', async (c) => c.json(await readTrends(deps.storage, c.req.query())));
  // Erasure (admin scope; without keys, loopback callers only): see src/erasure/erasure.ts.
  app.delete('/api/sessions', async (c) => {
    const criterion = erasureCriterion(c.req.query());
    const graph = c.req.query('graph') ?? 'remove';
    if (graph !== 'keep' && graph !== 'remove')
      throw new BadDataError(`graph must be keep or remove; got ${JSON.stringify(graph)}`);
    const record = await erase(deps.storage, criterion, graph, requester(c));
    erased.add(record.trace_ids);
    return c.json(record);
  });
  app.get('/api/erasures', async (c) => {
    requester(c);
    return c.json({ erasures: await erasureRecords(deps.storage) });
  });
  /** Who asks for an erasure: the key's digest prefix, or a loopback caller when no keys are configured (others are refused). */
  const requester = (c: Context): string => {
    if (deps.config.apiKeys.length > 0) {
      const key = presentedKey(c.req.header('authorization'), c.req.header('x-api-key')) ?? '';
      return `api key sha256:${keyDigestHex(key).slice(0, 16)}`;
    }
    let address: string | undefined;
    try {
      address = getConnInfo(c).remote.address;
    } catch {
      address = undefined; // not served over a socket (app.request): nobody to trust
    }
    if (!address || !isLoopbackHost(address))
      throw new ForbiddenError(
        'erasure needs an API key with the admin scope; without keys only this machine (loopback) may erase',
      );
    return `loopback ${address}`;
  };
  app.get('/api/retention', async (c) => c.json(await retentionReport(deps.storage, deps.config.retention)));
  app.get('/api/spans/:trace_id/:span_id', async (c) => {
    const traceId = c.req.param('trace_id').toLowerCase();
    const spanId = c.req.param('span_id').toLowerCase();
    if (!/^[0-9a-f]{32}$/.test(traceId) || !/^[0-9a-f]{16}$/.test(spanId))
      throw new NotFoundError('no such span (a trace id is 32 hex digits, a span id 16)');
    const span = await readSpan(deps.storage, traceId, spanId);
    if (!span) throw new NotFoundError(`no span ${spanId} in trace ${traceId}`);
    return c.json(span);
  });

  // Read-only SQL: the body is the query (text/plain), or JSON `{ "query": "…" }`. Bounded in
  // body size and in queries running at once (each holds an engine thread for up to the time
  // limit); beyond that 429, so readers queue in their clients, never in front of ingest.
  const { sqlLimits, sqlMaxConcurrent, sqlMaxBodyBytes } = deps.config;
  const sqlRun = {
    limits: sqlLimits,
    setReadonly: deps.storage.engine === 'embedded' || deps.config.clickhouse.readUser === undefined,
  };
  let running = 0;
  app.post(
    '/api/sql',
    bodyLimit({
      maxSize: sqlMaxBodyBytes,
      onError: (c) => {
        // The rest of the body is never read: close the connection so it is not parsed as the next request.
        c.header('connection', 'close');
        throw new TooLargeError(`query text exceeds ${sqlMaxBodyBytes} bytes (--sql-max-body-size)`);
      },
    }),
    async (c) => {
      if (running >= sqlMaxConcurrent) {
        throw new OverloadedError(
          `${running} SQL queries are running, the most allowed at once (--sql-max-concurrent); retry shortly`,
        );
      }
      running++;
      try {
        return c.json(await sqlQuery(await c.req.text(), c.req.header('content-type') ?? ''));
      } finally {
        running--;
      }
    },
  );

  const sqlQuery = async (text: string, contentType: string): Promise<SqlResult> => {
    let sql = text;
    if (contentType.startsWith('application/json')) {
      const parsed: unknown = safeJson(text);
      const query = typeof parsed === 'object' && parsed !== null && 'query' in parsed ? parsed.query : undefined;
      if (typeof query !== 'string') throw new BadDataError('expected a JSON body {"query": "SELECT …"}');
      sql = query;
    }
    try {
      return await deps.storage.withReader('sql', (reader) =>
        runReadOnlyQuery(reader, sql, deps.storage.database, sqlRun, deps.storage),
      );
    } catch (err) {
      if (isEngineError(err)) throw new BadDataError(`query failed: ${err.message.split('\n')[0]}`, { cause: err });
      if (err instanceof BadDataError) throw err;
      throw new UnavailableError(`storage is unavailable: ${(err as Error).message}`, 5, { cause: err });
    }
  };

  return app;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BadDataError('request body is not valid JSON');
  }
}
