/**
 * Storage: the opened ClickHouse client and the statements the collector runs through it
 * (JSONEachRow inserts, bound selects, ping), plus the schema migration at start.
 * Table names are qualified with the configured database, which config validation restricts
 * to `[A-Za-z_][A-Za-z0-9_]*`, so interpolating it into SQL is safe.
 */
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { isEngineError } from './clickhouse-error.ts';
import type { ClickHouseHandle } from './client.ts';
import { UnsupportedServerError, migrate } from './schema.ts';
import { runStatement } from './cluster.ts';

/** Everything the collector needs from ClickHouse. */
export interface Storage {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly engine: ClickHouseHandle['engine'];
  readonly location: string;
  /** The cluster the schema spans, if any (--clickhouse-cluster). */
  readonly cluster: string | undefined;
  /** Inserts JSONEachRow lines into `<database>.<table>`; resolves once stored. */
  insertJsonLines(table: string, jsonLines: string): Promise<void>;
  /** Runs a query with bound parameters on the ingest connection and returns its rows (64-bit integers as numbers). */
  select<T>(query: string, params?: Record<string, unknown>): Promise<T[]>;
  /**
   * The same for reads of many rows (a long session's facts): each row as an array of its values
   * in SELECT order (JSONCompactEachRow, no column names repeated in every row), handed to `map`
   * as it is parsed, so the whole answer is never held as one text or one array of arrays.
   */
  selectTuples<T>(query: string, params: Record<string, unknown>, map: (values: unknown[]) => T): Promise<T[]>;
  /** The same as `select`, for the API: on a reader of its own, never queued behind ingest. */
  read<T>(query: string, params?: Record<string, unknown>): Promise<T[]>;
  /** Runs `fn` with a reader (see ClickHouseHandle.openReader) and releases it afterwards. */
  withReader<T>(purpose: 'api' | 'sql', fn: (client: ClickHouseClient) => Promise<T>): Promise<T>;
  /**
   * The same statements on a long-lived client of their own (ClickHouseHandle.openBackground), one
   * per `lane`, opened on first use: the facts inserted beside the raw rows, the roll-up behind the ack.
   */
  beside(lane: 'facts' | 'rollup'): Storage;
  /**
   * Runs a DDL or mutation statement written for one server (`ALTER TABLE db.t …`): on a cluster
   * (--clickhouse-cluster), its ON CLUSTER form against the local tables (cluster.ts).
   */
  command(statement: string, params?: Record<string, unknown>): Promise<void>;
  /** True when a trivial query succeeds. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** ClickHouse did not answer (connection refused, timeout…), as opposed to refusing a statement. */
export class StorageUnreachableError extends Error {
  constructor(location: string, cause: unknown) {
    super(`cannot reach ClickHouse at ${location}: ${(cause as Error).message}`, { cause });
    this.name = 'StorageUnreachableError';
  }
}

function queryJson<F extends 'JSONEachRow' | 'JSONCompactEachRow'>(
  client: ClickHouseClient,
  query: string,
  params: Record<string, unknown>,
  format: F,
) {
  // The setting sits in the statement (chDB keeps per-call settings for the whole connection);
  // servers quote 64-bit integers by default, chDB does not: make both answer numbers.
  return client.query({
    query: `${query}\nSETTINGS output_format_json_quote_64bit_integers = 0`,
    query_params: params,
    format,
  });
}

async function selectRows<T>(client: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<T[]> {
  return (await queryJson(client, query, params, 'JSONEachRow')).json<T>();
}

/** Checks the server version and migrates the schema of an opened storage. */
export async function migrateStorage(storage: Storage): Promise<void> {
  try {
    await migrate(storage.client, storage.database, storage.cluster);
  } catch (err) {
    if (err instanceof UnsupportedServerError || isEngineError(err)) throw err;
    throw new StorageUnreachableError(storage.location, err);
  }
}

/** Storage over an already opened client, without migrating (used after `migrate`, and by tests of outages). */
export function createStorage(handle: ClickHouseHandle, db: string, client = handle.client): Storage {
  const lanes = new Map<string, Storage>();
  const withReader = async <T>(purpose: 'api' | 'sql', fn: (reader: ClickHouseClient) => Promise<T>): Promise<T> => {
    const reader = await handle.openReader(db, purpose);
    try {
      return await fn(reader.client);
    } finally {
      await reader.release();
    }
  };
  return {
    client,
    database: db,
    engine: handle.engine,
    location: handle.location,
    cluster: handle.cluster,
    async command(statement, params = {}) {
      await runStatement(client, statement, db, handle.cluster, params);
    },
    async insertJsonLines(table, jsonLines) {
      // Settings go inside the statement: chDB turns per-call clickhouse_settings into
      // session-wide SETs that leak into later calls (NOTES.md). async_insert=0 so the
      // statement returns only when the part is written (ClickHouse ≥ 26.2 defaults to async).
      // best_effort reads the ISO times of insert-rows.ts exactly, whatever the server's zone.
      const query = `INSERT INTO ${db}.${table} SETTINGS async_insert = 0, date_time_input_format = 'best_effort' FORMAT JSONEachRow`;
      const result = await client.exec({ query, values: Readable.from([jsonLines]) });
      result.stream.resume();
      await new Promise<void>((resolve, reject) => {
        result.stream.once('end', resolve);
        result.stream.once('close', resolve);
        result.stream.once('error', reject);
      });
    },
    select<T>(query: string, params: Record<string, unknown> = {}) {
      return selectRows<T>(client, query, params);
    },
    async selectTuples<T>(query: string, params: Record<string, unknown>, map: (values: unknown[]) => T) {
      const result = await queryJson(client, query, params, 'JSONCompactEachRow');
      const out: T[] = [];
      for await (const rows of result.stream<unknown[]>()) for (const row of rows) out.push(map(row.json()));
      return out;
    },
    read<T>(query: string, params: Record<string, unknown> = {}) {
      return withReader('api', (reader) => selectRows<T>(reader, query, params));
    },
    withReader,
    beside(lane) {
      let storage = lanes.get(lane);
      if (!storage) {
        storage = createStorage(handle, db, handle.openBackground());
        lanes.set(lane, storage);
      }
      return storage;
    },
    async ping() {
      try {
        const r = await client.query({ query: 'SELECT 1 AS ok', format: 'JSONEachRow' });
        await r.json();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      for (const lane of lanes.values()) if (lane.client !== client) await lane.client.close();
      await client.close();
      await handle.closeReaders?.();
    },
  };
}
