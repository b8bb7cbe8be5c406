/**
 * The one ClickHouse client every storage call goes through (SPEC §2): the embedded engine
 * (chDB, plugged into `@clickhouse/client` by `chdb/connection`) by default, or a server when
 * a URL is configured. Same SQL, same code path after this function.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { createRequire } from 'node:module';
import type { Config } from '../config.ts';

type ChdbAsClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/** An open client plus what kind of engine is behind it, for messages and health output. */
export interface ClickHouseHandle {
  client: ClickHouseClient;
  engine: 'embedded' | 'server';
  /** Where the data lives, for log lines: the data directory or the server URL (no password). */
  location: string;
  /** The ClickHouse cluster the schema spans (--clickhouse-cluster), if any: see cluster.ts. */
  cluster?: string | undefined;
  /**
   * A client for reads that must not share the ingest path's engine session: in embedded mode
   * a fresh chDB connection (its own session state and result buffer, run in parallel with
   * ingest) that `release` closes; on a server, a client whose default database is `database`
   * and, for `sql`, the read-only user when one is configured.
   */
  openReader(database: string, purpose: 'api' | 'sql'): Promise<Reader>;
  /**
   * Another long-lived client, for work beside the ingest connection (a batch's facts insert, the
   * roll-ups behind the ack), so those statements never queue in front of an insert: in embedded
   * mode a chDB connection of its own, run one statement at a time like the ingest one; on a
   * server, the same client (it runs statements concurrently anyway).
   */
  openBackground(): ClickHouseClient;
  /** Closes long-lived readers (server mode), if any. */
  closeReaders?(): Promise<void>;
}

/** A client opened for one read; release it when done. */
export interface Reader {
  client: ClickHouseClient;
  release(): Promise<void>;
}

/** Opens the client described by the config; does not run any query yet. */
export function openClickHouse(config: Pick<Config, 'dataDir' | 'clickhouse'>): ClickHouseHandle {
  const { url, user, password } = config.clickhouse;
  if (url) {
    const serverClient = (username: string, pass: string, database?: string): ClickHouseClient =>
      createClient({
        url,
        username,
        password: pass,
        ...(database ? { database } : {}),
        request_timeout: 30_000,
        application: 'sessiongraph',
        // On a cluster: an insert answers once the shards have the rows (a 2xx means stored), and a
        // read filtered by trace id goes only to the shards holding those traces.
        ...(config.clickhouse.cluster
          ? { clickhouse_settings: { distributed_foreground_insert: 1, optimize_skip_unused_shards: 1 } }
          : {}),
        // The collector reports storage failures itself (503s, /readyz, one log line per outage).
        log: { level: ClickHouseLogLevel.OFF },
      });
    const client = serverClient(user, password);
    const readers = new Map<string, ClickHouseClient>();
    const shown = new URL(url);
    shown.password = '';
    return {
      client,
      engine: 'server',
      location: shown.toString(),
      cluster: config.clickhouse.cluster,
      openBackground: () => client,
      async openReader(database, purpose) {
        // A server runs statements of one client concurrently and keeps no result between them.
        const { readUser, readPassword } = config.clickhouse;
        const key = `${purpose}:${database}`;
        let reader = readers.get(key);
        if (!reader) {
          reader =
            purpose === 'sql' && readUser
              ? serverClient(readUser, readPassword, database)
              : serverClient(user, password, database);
          readers.set(key, reader);
        }
        return { client: reader, release: async () => {} };
      },
      async closeReaders() {
        await Promise.all([...readers.values()].map((r) => r.close()));
        readers.clear();
      },
    };
  }
  const dir = path.resolve(config.dataDir);
  fs.mkdirSync(dir, { recursive: true });
  const readerSlots = new Slots(readersAllowed());
  // Loaded here, not imported at the top: a collector on a server never loads the engine's
  // library, so an image for server mode can leave chDB (~540 MB) out.
  let chdb: typeof import('chdb/connection');
  try {
    chdb = createRequire(import.meta.url)('chdb/connection') as typeof import('chdb/connection');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw new Error(
      'this installation has no embedded engine (the chdb package): set CLICKHOUSE_URL to use a ClickHouse server',
      {
        cause: err,
      },
    );
  }
  const { createChdbConnection } = chdb;
  const chdbClient = (): ClickHouseClient =>
    // chdb ships its own copy of @clickhouse/client-common's Connection type; same shape.
    createClient({ connection: createChdbConnection({ path: dir }) as unknown as ChdbAsClientConnection });
  return {
    client: oneStatementAtATime(chdbClient()),
    engine: 'embedded',
    location: dir,
    openBackground: () => oneStatementAtATime(chdbClient()),
    async openReader(database) {
      // One connection per read (≈1 ms to open): a failed or slow read, or a setting it leaves,
      // stays on a connection nobody else uses, and chDB runs it beside the ingest connection.
      await readerSlots.acquire();
      const client = chdbClient();
      const release = async (): Promise<void> => {
        try {
          await client.close();
        } finally {
          readerSlots.release();
        }
      };
      try {
        await client.command({ query: `USE ${database}` });
      } catch (err) {
        await release();
        throw err;
      }
      return { client, release };
    },
  };
}

/**
 * The ingest connection runs one statement at a time, and a failed statement's residue is
 * drained before the next one starts. Root cause (chDB 3.4, measured): a statement that fails
 * while running leaves its partial output (e.g. the `meta` block of a JSON result) in its
 * connection's result buffer, and the NEXT statement on that connection receives it and fails
 * to parse; other connections on the same data directory are unaffected. A drain after the
 * failure is too late when another caller's statement (the abandoned-session sweep, a health
 * check) is already queued on the connection, so calls wait their turn here, and a failed
 * call's turn ends only after a throwaway SELECT (in the failed call's output format) has
 * absorbed the residue. chDB runs one statement per connection at a time anyway: nothing is
 * lost by the queue.
 */
function oneStatementAtATime(client: ClickHouseClient): ClickHouseClient {
  let tail: Promise<unknown> = Promise.resolve();
  const drain = async (original: (params: never) => Promise<unknown>, format: unknown): Promise<void> => {
    try {
      const result = (await original({
        query: 'SELECT 1',
        format: typeof format === 'string' ? format : 'JSON',
      } as never)) as { text(): Promise<string> };
      await result.text();
    } catch {
      // nothing left to drain, or the engine is closed: either way the caller's error stands
    }
  };
  const query = client.query.bind(client) as (params: never) => Promise<unknown>;
  for (const method of ['query', 'exec', 'command', 'insert'] as const) {
    const original = client[method].bind(client) as (params: never) => Promise<unknown>;
    Object.defineProperty(client, method, {
      value: (params: never) => {
        const turn = tail.then(async () => {
          try {
            return await original(params);
          } catch (err) {
            await drain(query, (params as { format?: unknown }).format);
            throw err;
          }
        });
        tail = turn.catch(() => undefined);
        return turn;
      },
    });
  }
  return client;
}

/**
 * chDB runs every statement on a thread of libuv's pool (UV_THREADPOOL_SIZE, 4 unless set; the
 * bin sets 16), which the writing connections (raw rows, facts, roll-up) and gzip decoding need
 * too: reads may hold all but four.
 */
function readersAllowed(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, pool - 4);
}

/** A counting semaphore: at most `size` holders, the others wait in order. */
class Slots {
  private held = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly size: number) {}

  async acquire(): Promise<void> {
    if (this.held < this.size) {
      this.held++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held--;
  }
}
