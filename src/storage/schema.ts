/**
 * Schema creation and migration at start (SPEC §2): versioned, idempotent, safe to run from
 * several collectors at once (every statement is `IF NOT EXISTS`). Refuses servers older than
 * the schema needs, naming the minimum version.
 */
import type { ClickHouseClient } from '@clickhouse/client';

/** Oldest ClickHouse server the schema is known to need (Map columns, DateTime64(9), LIMIT BY, JSON formats as used). */
export const MIN_SERVER_VERSION = '23.8';

/** A migration: a version number and the statements that take the schema to it. */
interface Migration {
  version: number;
  description: string;
  statements: (db: string) => string[];
}

/** The `otel_traces` table exactly as the OpenTelemetry Collector ClickHouse exporter creates it. */
const OTEL_TRACES = (db: string): string => `
CREATE TABLE IF NOT EXISTS ${db}.otel_traces (
  Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
  TraceId String CODEC(ZSTD(1)),
  SpanId String CODEC(ZSTD(1)),
  ParentSpanId String CODEC(ZSTD(1)),
  TraceState String CODEC(ZSTD(1)),
  SpanName LowCardinality(String) CODEC(ZSTD(1)),
  SpanKind LowCardinality(String) CODEC(ZSTD(1)),
  ServiceName LowCardinality(String) CODEC(ZSTD(1)),
  ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  ScopeName String CODEC(ZSTD(1)),
  ScopeVersion String CODEC(ZSTD(1)),
  SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  Duration UInt64 CODEC(ZSTD(1)),
  StatusCode LowCardinality(String) CODEC(ZSTD(1)),
  StatusMessage String CODEC(ZSTD(1)),
  Events Nested (
    Timestamp DateTime64(9),
    Name LowCardinality(String),
    Attributes Map(LowCardinality(String), String)
  ) CODEC(ZSTD(1)),
  Links Nested (
    TraceId String,
    SpanId String,
    TraceState String,
    Attributes Map(LowCardinality(String), String)
  ) CODEC(ZSTD(1)),
  INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
  INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_duration Duration TYPE minmax GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`;

/** Every migration, oldest first. Append only: a released migration never changes. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'otel_traces (OpenTelemetry Collector ClickHouse exporter schema)', statements: (db) => [OTEL_TRACES(db)] },
];

/** The server is older than MIN_SERVER_VERSION; the message says which version is needed. */
export class UnsupportedServerError extends Error {
  constructor(readonly serverVersion: string) {
    super(
      `ClickHouse server ${serverVersion} is too old for sessiongraph: version ${MIN_SERVER_VERSION} or newer is required ` +
        '(the schema uses Map, DateTime64(9) and LowCardinality columns). Upgrade the server, or unset CLICKHOUSE_URL to use the embedded engine.',
    );
    this.name = 'UnsupportedServerError';
  }
}

/** True when `version` (e.g. "24.3.1.2") is at least `minimum` (e.g. "23.8"). */
export function isVersionAtLeast(version: string, minimum: string): boolean {
  const a = version.split('.').map(Number);
  const b = minimum.split('.').map(Number);
  for (let i = 0; i < b.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** Checks the server version, creates the database and applies pending migrations; returns the schema version. */
export async function migrate(client: ClickHouseClient, db: string): Promise<number> {
  const rows = await (await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{ v: string }>();
  const version = rows[0]?.v ?? '0';
  if (!isVersionAtLeast(version, MIN_SERVER_VERSION)) throw new UnsupportedServerError(version);

  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32, description String, applied_at DateTime64(3) DEFAULT now64(3))
            ENGINE = ReplacingMergeTree ORDER BY version`,
  });
  const applied = await (
    await client.query({ query: `SELECT max(version) AS v FROM ${db}.schema_migrations`, format: 'JSONEachRow' })
  ).json<{ v: number }>();
  const current = Number(applied[0]?.v ?? 0);
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    for (const statement of m.statements(db)) await client.command({ query: statement });
    await client.insert({
      table: `${db}.schema_migrations`,
      values: [{ version: m.version, description: m.description }],
      format: 'JSONEachRow',
    });
  }
  return MIGRATIONS.at(-1)?.version ?? 0;
}
