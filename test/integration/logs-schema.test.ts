/**
 * The `otel_logs` table is the Collector ClickHouse exporter's: checked column by column (type,
 * codec, materialized expression, comment) and index by index against the exporter's own DDL
 * template, rendered as the exporter renders it and run on the same engine; and migration 4,
 * which creates it, is applied even to a database that already has migration 5.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { MIGRATIONS, isVersionAtLeast, migrate } from '../../src/storage/schema.ts';
import { queryRows, startTestCollector, tempDir } from '../helpers/collector.ts';

let collector: RunningCollector;

beforeAll(async () => {
  collector = await startTestCollector(tempDir());
});
afterAll(async () => {
  await collector?.close();
});

describe('otel_logs is the exporter’s table', () => {
  it('columns (names, types, codecs, materialized expressions, comments), indexes, partition and sort keys equal the exporter DDL run on the same engine', async () => {
    const [{ v: version } = { v: '' }] = await queryRows<{ v: string }>(collector.storage, 'SELECT version() AS v');
    await collector.storage.client.command({ query: 'CREATE DATABASE IF NOT EXISTS exporter_ref' });
    // The exporter's template rendered as it renders it by default (database, table, no cluster, MergeTree, no TTL),
    // and our migration for an old server beside the template's bloom-filter branch.
    const ours = MIGRATIONS.find((m) => m.version === 4);
    if (!ours) throw new Error('migration 4 (otel_logs) is missing');
    await collector.storage.client.command({
      query: renderExporterTemplate('exporter_ref', 'otel_logs', isVersionAtLeast(version, '26.2')),
    });
    await collector.storage.client.command({ query: renderExporterTemplate('exporter_ref', 'otel_logs_bloom', false) });
    await collector.storage.client.command({ query: 'CREATE DATABASE IF NOT EXISTS ours_old_server' });
    for (const statement of ours.statements('ours_old_server', '25.8.1.1'))
      await collector.storage.client.command({ query: statement });

    const shape = async (db: string, table: string): Promise<unknown> => ({
      columns: await queryRows(
        collector.storage,
        'SELECT name, type, default_kind, default_expression, compression_codec, comment FROM system.columns WHERE database = {d:String} AND table = {t:String} ORDER BY position',
        { d: db, t: table },
      ),
      indexes: await queryRows(
        collector.storage,
        'SELECT name, type_full, expr, granularity FROM system.data_skipping_indices WHERE database = {d:String} AND table = {t:String} ORDER BY name',
        { d: db, t: table },
      ),
      keys: await queryRows(
        collector.storage,
        'SELECT engine, partition_key, sorting_key, primary_key FROM system.tables WHERE database = {d:String} AND name = {t:String}',
        { d: db, t: table },
      ),
    });
    const current = (await shape('sessiongraph', 'otel_logs')) as {
      columns: unknown[];
      indexes: Array<{ type_full: string }>;
    };
    expect(current.columns).toHaveLength(24);
    expect(current.indexes).toHaveLength(8);
    expect(current).toEqual(await shape('exporter_ref', 'otel_logs'));
    const old = (await shape('ours_old_server', 'otel_logs')) as { indexes: Array<{ type_full: string }> };
    expect(old.indexes.map((i) => i.type_full)).toContain('tokenbf_v1(32768, 3, 0)');
    expect(old).toEqual(await shape('exporter_ref', 'otel_logs_bloom'));

    const columns = await queryRows<{ name: string }>(
      collector.storage,
      "SELECT name FROM system.columns WHERE database = 'sessiongraph' AND table = 'otel_logs' ORDER BY position",
    );
    expect(columns.map((c) => c.name)).toEqual(EXPORTER_COLUMNS);
    const [create] = await queryRows<{ q: string }>(
      collector.storage,
      "SELECT create_table_query AS q FROM system.tables WHERE database = 'sessiongraph' AND name = 'otel_logs'",
    );
    expect(create?.q).toContain('SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1');
  });
});

describe('migration 4 (otel_logs)', () => {
  it('is applied to a database already at migration 5 (migrations written in parallel land out of order)', async () => {
    const { client } = collector.storage;
    await client.command({ query: 'CREATE DATABASE IF NOT EXISTS gap_db' });
    await client.command({
      query: `CREATE TABLE gap_db.schema_migrations (version UInt32, description String, applied_at DateTime64(3) DEFAULT now64(3)) ENGINE = ReplacingMergeTree ORDER BY version`,
    });
    await client.insert({
      table: 'gap_db.schema_migrations',
      values: MIGRATIONS.map((m) => m.version)
        .filter((v) => v !== 4)
        .map((version) => ({ version, description: 'all but logs' })),
      format: 'JSONEachRow',
    });
    await migrate(client, 'gap_db');
    const tables = await queryRows<{ name: string }>(
      collector.storage,
      "SELECT name FROM system.tables WHERE database = 'gap_db' ORDER BY name",
    );
    expect(tables.map((t) => t.name)).toEqual(['otel_logs', 'schema_migrations']);
    const versions = await queryRows<{ v: number }>(
      collector.storage,
      'SELECT DISTINCT version AS v FROM gap_db.schema_migrations ORDER BY v',
    );
    expect(versions.map((r) => Number(r.v))).toEqual(MIGRATIONS.map((m) => m.version));
    await migrate(client, 'gap_db'); // and again: nothing left to apply, nothing fails
  });
});

// ───────────────────────────── helpers ─────────────────────────────

/** The columns of the exporter's template, in its order (read off EXPORTER_TEMPLATE below). */
const EXPORTER_COLUMNS = [...EXPORTER_TEMPLATE().matchAll(/^\s{4}`([^`]+)`/gm)].map((m) => m[1]);

/**
 * opentelemetry-collector-contrib v0.161.0, exporter/clickhouseexporter/internal/sqltemplates/
 * logs_table.sql, verbatim (Go text/template; Apache-2.0).
 */
function EXPORTER_TEMPLATE(): string {
  return `CREATE TABLE IF NOT EXISTS {{ident .Database}}.{{ident .TableName}} {{.ClusterString}} (
    \`Timestamp\` DateTime64(9) COMMENT 'Event timestamp with nanosecond precision' CODEC(Delta(8), ZSTD(1)),
    \`TraceId\` String COMMENT 'W3C trace identifier' CODEC(ZSTD(1)),
    \`SpanId\` String COMMENT 'W3C span identifier' CODEC(ZSTD(1)),
    \`TraceFlags\` UInt8 COMMENT 'W3C trace flags',
    \`SeverityText\` LowCardinality(String) COMMENT 'Log severity as text' CODEC(ZSTD(1)),
    \`SeverityNumber\` UInt8 COMMENT 'Log severity as number (1-24)',
    \`ServiceName\` LowCardinality(String) COMMENT 'Service that emitted the log' CODEC(ZSTD(1)),
    \`Body\` String COMMENT 'Log message body' CODEC(ZSTD(1)),
    \`ResourceSchemaUrl\` LowCardinality(String) COMMENT 'Schema URL for the resource' CODEC(ZSTD(1)),
    \`ResourceAttributes\` Map(LowCardinality(String), String) COMMENT 'Resource attributes as key-value pairs' CODEC(ZSTD(1)),
    \`ScopeSchemaUrl\` LowCardinality(String) COMMENT 'Schema URL for the instrumentation scope' CODEC(ZSTD(1)),
    \`ScopeName\` String COMMENT 'Instrumentation scope name' CODEC(ZSTD(1)),
    \`ScopeVersion\` LowCardinality(String) COMMENT 'Instrumentation scope version' CODEC(ZSTD(1)),
    \`ScopeAttributes\` Map(LowCardinality(String), String) COMMENT 'Instrumentation scope attributes' CODEC(ZSTD(1)),
    \`LogAttributes\` Map(LowCardinality(String), String) COMMENT 'Log record attributes' CODEC(ZSTD(1)),
    \`EventName\` String COMMENT 'Event name for log records representing events' CODEC(ZSTD(1)),
    \`__otel_materialized_k8s.cluster.name\` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.cluster.name'] CODEC(ZSTD(1)),
    \`__otel_materialized_k8s.container.name\` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.container.name'] CODEC(ZSTD(1)),
    \`__otel_materialized_k8s.deployment.name\` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.deployment.name'] CODEC(ZSTD(1)),
    \`__otel_materialized_k8s.namespace.name\` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.namespace.name'] CODEC(ZSTD(1)),
    \`__otel_materialized_k8s.node.name\` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.node.name'] CODEC(ZSTD(1)),
    \`__otel_materialized_k8s.pod.name\` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.pod.name'] CODEC(ZSTD(1)),
    \`__otel_materialized_k8s.pod.uid\` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.pod.uid'] CODEC(ZSTD(1)),
    \`__otel_materialized_deployment.environment.name\` LowCardinality(String) MATERIALIZED ResourceAttributes['deployment.environment.name'] CODEC(ZSTD(1)),
{{- if .HasFullTextSearch}}
    INDEX idx_trace_id TraceId TYPE text(tokenizer = 'array'),
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_log_attr_value mapValues(LogAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_lower_body lower(Body) TYPE text(tokenizer = 'splitByNonAlpha')
{{- else}}
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_lower_body lower(Body) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
{{- end}}
) ENGINE = {{.Engine}}
PARTITION BY toDate(Timestamp)
ORDER BY (toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp)
{{.TTL}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
`;
}

/** Renders the template as the exporter does with its defaults (`{{- …}}` trims the whitespace before it). */
function renderExporterTemplate(database: string, table: string, fullText: boolean): string {
  const branch = fullText
    ? /\{\{- if \.HasFullTextSearch\}\}([\s\S]*?)\s*\{\{- else\}\}[\s\S]*?\{\{- end\}\}/
    : /\{\{- if \.HasFullTextSearch\}\}[\s\S]*?\{\{- else\}\}([\s\S]*?)\s*\{\{- end\}\}/;
  return EXPORTER_TEMPLATE()
    .replace(/\s*(\{\{- if \.HasFullTextSearch\}\}[\s\S]*\{\{- end\}\})/, (_m, block: string) =>
      block.replace(branch, (_b, chosen: string) => chosen),
    )
    .replace('{{ident .Database}}.{{ident .TableName}} {{.ClusterString}}', `\`${database}\`.\`${table}\``)
    .replace('{{.Engine}}', 'MergeTree()')
    .replace('{{.TTL}}', '');
}
