/**
 * The one ClickHouse client every storage call goes through (SPEC §2): the embedded engine
 * (chDB, plugged into `@clickhouse/client` by `chdb/connection`) by default, or a server when
 * a URL is configured. Same SQL, same code path after this function.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import type { Config } from '../config.ts';

type ChdbAsClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/** An open client plus what kind of engine is behind it, for messages and health output. */
export interface ClickHouseHandle {
  client: ClickHouseClient;
  engine: 'embedded' | 'server';
  /** Where the data lives, for log lines: the data directory or the server URL (no password). */
  location: string;
}

/** Opens the client described by the config; does not run any query yet. */
export function openClickHouse(config: Pick<Config, 'dataDir' | 'clickhouse'>): ClickHouseHandle {
  const { url, user, password } = config.clickhouse;
  if (url) {
    const client = createClient({
      url,
      username: user,
      password,
      request_timeout: 30_000,
      application: 'sessiongraph',
      // The collector reports storage failures itself (503s, /readyz, one log line per outage).
      log: { level: ClickHouseLogLevel.OFF },
    });
    const shown = new URL(url);
    shown.password = '';
    return { client, engine: 'server', location: shown.toString() };
  }
  const dir = path.resolve(config.dataDir);
  fs.mkdirSync(dir, { recursive: true });
  return {
    // chdb ships its own copy of @clickhouse/client-common's Connection type; same shape.
    client: drainingAfterErrors(createClient({ connection: createChdbConnection({ path: dir }) as unknown as ChdbAsClientConnection })),
    engine: 'embedded',
    location: dir,
  };
}

/**
 * chDB 3.4 keeps the partial output of a statement that fails while running (e.g. the `meta`
 * block of a JSON result) and prepends it to the NEXT statement's result, which then fails to
 * parse. After any failed call, run a throwaway SELECT that absorbs the residue.
 */
function drainingAfterErrors(client: ClickHouseClient): ClickHouseClient {
  // The residue is taken by the next statement in the same output format, so drain in that format.
  const drain = async (format: unknown): Promise<void> => {
    try {
      await (await client.query({ query: 'SELECT 1', format: (typeof format === 'string' ? format : 'JSON') as 'JSON' })).text();
    } catch {
      // nothing left to drain, or the engine is closed: either way the caller's error stands
    }
  };
  for (const method of ['query', 'exec', 'command', 'insert'] as const) {
    const original = client[method].bind(client) as (params: never) => Promise<unknown>;
    Object.defineProperty(client, method, {
      value: async (params: never) => {
        try {
          return await original(params);
        } catch (err) {
          await drain((params as { format?: unknown }).format);
          throw err;
        }
      },
    });
  }
  return client;
}
