/**
 * Cluster mode's schema (`--clickhouse-cluster`): every statement the collector runs, rewritten
 * for a cluster (src/storage/cluster.ts), parses in the real engine (`formatQuery`, which checks
 * the syntax without needing a cluster), creates Replicated local tables and Distributed tables
 * sharded by trace id so a trace's spans, facts, session, decisions and edges share a shard, and
 * keeps materialized views, TTLs and mutations on the local tables. No ClickHouse cluster runs
 * here (and none newer than 18.16 installs): the running part is what README "Scale-out" states.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { openClickHouse } from '../../src/storage/client.ts';
import { clusterStatements, SHARDING_KEYS } from '../../src/storage/cluster.ts';
import { MIGRATIONS } from '../../src/storage/schema.ts';
import { createStorage, type Storage } from '../../src/storage/storage.ts';
import { testConfig, tempDir } from '../helpers/collector.ts';

const DB = 'sessiongraph';
const CLUSTER = 'agents';
let storage: Storage;
beforeAll(() => {
  storage = createStorage(openClickHouse(testConfig(tempDir())), DB);
});
afterAll(async () => {
  await storage?.close();
});

const statements = MIGRATIONS.flatMap((m) => m.statements(DB, '25.8').map((s) => ({ version: m.version, sql: s })));
const clustered = statements.flatMap(({ version, sql }) =>
  clusterStatements(sql, CLUSTER, DB).map((s) => ({ version, sql: s })),
);

async function parses(sql: string): Promise<string> {
  const [row] = await storage.select<{ f: string }>('SELECT formatQuery({q:String}) AS f', { q: sql });
  return row?.f ?? '';
}

describe('cluster DDL', () => {
  it('every migration statement has a cluster form the engine parses, each ON CLUSTER', async () => {
    expect(clustered.length).toBeGreaterThan(statements.length);
    for (const { version, sql } of clustered) {
      const formatted = await parses(sql);
      expect(formatted, `migration ${version}: ${sql.slice(0, 80)}`).toContain(`ON CLUSTER ${CLUSTER}`);
    }
  });

  it('each table is a Replicated*MergeTree local table behind a Distributed table sharded by its key', async () => {
    const created = clustered.filter(({ sql }) => /^CREATE TABLE/.test(sql));
    const locals = created.filter(({ sql }) => /_local ON CLUSTER/.test(sql));
    const distributed = created.filter(({ sql }) => /ENGINE = Distributed/.test(sql));
    expect(locals.length).toBe(distributed.length);
    for (const { sql } of locals) {
      const table = /\.(\w+)_local ON CLUSTER/.exec(sql)?.[1];
      expect(sql, table).toMatch(
        new RegExp(
          `ENGINE = Replicated\\w*MergeTree\\('/clickhouse/tables/\\{shard\\}/${DB}/${table}_local', '\\{replica\\}'`,
        ),
      );
    }
    const keyOf = (table: string): string | undefined =>
      distributed
        .find(({ sql }) => new RegExp(`TABLE IF NOT EXISTS ${DB}\\.${table} ON`).test(sql))
        ?.sql.match(/'(\w+)_local', (.+)\)\s*$/)?.[2];
    // Everything a roll-up of one trace reads and writes is on that trace's shard.
    for (const table of [
      'session_calls',
      'otel_traces',
      'otel_traces_trace_id_ts',
      'otel_logs',
      'session_spans',
      'agent_sessions',
      'decisions',
      'graph_edges',
    ]) {
      expect(keyOf(table), table).toBe(SHARDING_KEYS[table]);
      expect(keyOf(table), table).toMatch(/cityHash64\((TraceId|trace_id|replaceAll)/);
    }
    expect(keyOf('agent_definitions')).toBe('cityHash64(id)');
  });

  it("an edge is sharded with its trace: its key equals the trace's cityHash64 for both kinds of edge", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const session = '4bf92f35-77b3-4da6-a3ce-929d0e0e4736';
    const key = SHARDING_KEYS.graph_edges ?? '';
    const [row] = await storage.select<{ trace: string; runs: string; creates: string }>(
      `SELECT toString(cityHash64({t:String})) AS trace,
              (SELECT toString(${key}) FROM (SELECT 'agent_definition_runs_agent_session' AS edge_type, generateUUIDv4() AS source_id, toUUID({s:String}) AS target_id)) AS runs,
              (SELECT toString(${key}) FROM (SELECT 'agent_session_creates_decision' AS edge_type, toUUID({s:String}) AS source_id, generateUUIDv4() AS target_id)) AS creates`,
      { t: traceId, s: session },
    );
    expect(row?.runs).toBe(row?.trace);
    expect(row?.creates).toBe(row?.trace);
  });

  it('views, TTLs, mutations and optimizations act on the local tables; added, dropped and re-aliased columns reach the Distributed table', () => {
    const mv = clustered.find(({ sql }) => /MATERIALIZED VIEW/.test(sql))?.sql ?? '';
    expect(mv).toMatch(
      /TO sessiongraph\.otel_traces_trace_id_ts_local\s+AS SELECT[\s\S]*FROM sessiongraph\.otel_traces_local/,
    );
    expect(
      clusterStatements(
        'ALTER TABLE sessiongraph.otel_traces MODIFY TTL toDateTime(Timestamp) + INTERVAL 30 DAY',
        CLUSTER,
        DB,
      ),
    ).toEqual([
      "ALTER TABLE sessiongraph.otel_traces_local ON CLUSTER 'agents' MODIFY TTL toDateTime(Timestamp) + INTERVAL 30 DAY",
    ]);
    expect(
      clusterStatements(
        'ALTER TABLE sessiongraph.session_spans DELETE WHERE trace_id IN {traces:Array(String)}',
        CLUSTER,
        DB,
      ),
    ).toHaveLength(1);
    const added = clusterStatements(
      'ALTER TABLE sessiongraph.decisions ADD COLUMN IF NOT EXISTS x String AFTER span_id',
      CLUSTER,
      DB,
    );
    expect(added).toEqual([
      "ALTER TABLE sessiongraph.decisions_local ON CLUSTER 'agents' ADD COLUMN IF NOT EXISTS x String AFTER span_id",
      "ALTER TABLE sessiongraph.decisions ON CLUSTER 'agents' ADD COLUMN IF NOT EXISTS x String",
    ]);
    // A column that becomes an ALIAS (session_spans.end_time, migration 18) is dropped and added
    // again on the Distributed table too, or inserts through it would still send the column.
    const changed = MIGRATIONS.find((m) => m.version === 18)?.statements(DB, '25.8') ?? [];
    const onDistributed = changed
      .flatMap((sql) => clusterStatements(sql, CLUSTER, DB))
      .filter((sql) => sql.startsWith('ALTER TABLE sessiongraph.session_spans ON CLUSTER'));
    expect(
      onDistributed.map((sql) => /ON CLUSTER 'agents' (\w+ COLUMN (?:IF (?:NOT )?EXISTS )?\w+)/.exec(sql)?.[1]),
    ).toEqual(['MODIFY COLUMN duration_ns', 'DROP COLUMN IF EXISTS end_time', 'ADD COLUMN IF NOT EXISTS end_time']);
    for (const sql of onDistributed) expect(sql).not.toMatch(/CODEC|mutations_sync|AFTER/);
    expect(
      clusterStatements(
        'ALTER TABLE sessiongraph.agent_sessions MODIFY COLUMN title String CODEC(ZSTD(3)) SETTINGS mutations_sync = 2',
        CLUSTER,
        DB,
      ),
    ).toHaveLength(1);
    expect(() => clusterStatements('DROP TABLE sessiongraph.otel_traces', CLUSTER, DB)).toThrow(/no cluster form/);
  });

  it('is a server-mode option: refused with the embedded engine', () => {
    expect(() => parseConfig({ CLICKHOUSE_CLUSTER: 'agents' })).toThrow(/CLICKHOUSE_CLUSTER needs a ClickHouse server/);
    expect(parseConfig({ CLICKHOUSE_CLUSTER: 'agents', CLICKHOUSE_URL: 'http://ch:8123' }).clickhouse.cluster).toBe(
      'agents',
    );
    expect(() => parseConfig({ CLICKHOUSE_CLUSTER: "a'; DROP", CLICKHOUSE_URL: 'http://ch:8123' })).toThrow(
      /expected a cluster name/,
    );
  });
});
