/**
 * Schema creation and migration at start (SPEC §2): versioned, idempotent, safe to run from
 * several collectors at once (every statement is `IF NOT EXISTS`). Refuses servers older than
 * the schema needs, naming the minimum version.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { runStatement } from './cluster.ts';

/** Oldest ClickHouse server the schema is known to need (Map columns, DateTime64(9), LIMIT BY, JSON formats as used). */
export const MIN_SERVER_VERSION = '23.8';

/** A migration: a version number and the statements that take the schema to it. */
interface Migration {
  version: number;
  description: string;
  /** `serverVersion` (e.g. "26.7.2.1") for DDL that differs by server, as the exporter's does. */
  statements: (db: string, serverVersion: string) => string[];
}

/** The `otel_traces` table exactly as the OpenTelemetry Collector ClickHouse exporter creates it (migrations 10 and 15 then change one column's codec). */
export const OTEL_TRACES = (db: string, table = 'otel_traces'): string => `
CREATE TABLE IF NOT EXISTS ${db}.${table} (
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

/**
 * The exporter's trace-id lookup (opentelemetry-collector-contrib exporter/clickhouseexporter,
 * internal/sqltemplates/traces_id_ts_lookup_table.sql and _mv.sql): the first and last span start
 * of each trace, ordered by trace id, so a trace's rows are read from the partitions of its time
 * range only (what Grafana's trace view does). AggregatingMergeTree, so its min/max columns merge.
 */
const OTEL_TRACES_TRACE_ID_TS = (db: string): string => `
CREATE TABLE IF NOT EXISTS ${db}.otel_traces_trace_id_ts (
  TraceId String CODEC(ZSTD(1)),
  Start SimpleAggregateFunction(min, DateTime) CODEC(ZSTD(1)),
  End SimpleAggregateFunction(max, DateTime) CODEC(ZSTD(1))
) ENGINE = AggregatingMergeTree
PARTITION BY toStartOfWeek(Start)
ORDER BY (TraceId)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`;

const OTEL_TRACES_TRACE_ID_TS_MV = (db: string): string => `
CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.otel_traces_trace_id_ts_mv TO ${db}.otel_traces_trace_id_ts
AS SELECT TraceId, min(Timestamp) AS Start, max(Timestamp) AS End
FROM ${db}.otel_traces
WHERE TraceId != ''
GROUP BY TraceId`;

/**
 * The graph (SPEC §2–§5). `session_spans` holds each span's facts for the roll-up, one row per
 * (trace_id, span_id) after merges; readers de-duplicate with LIMIT 1 BY. Node tables are
 * Replacing/AggregatingMergeTree so a rewrite never double counts: read them with FINAL.
 */
const GRAPH_TABLES = (db: string): string[] => [
  `CREATE TABLE IF NOT EXISTS ${db}.session_spans (
    trace_id String, span_id String, parent_span_id String, span_name String,
    start_time DateTime64(9, 'UTC'), end_time DateTime64(9, 'UTC'),
    service_name LowCardinality(String), environment LowCardinality(String), status_code LowCardinality(String),
    is_llm UInt8, is_embedding UInt8, is_tool UInt8, is_agent UInt8, is_aggregate UInt8,
    agent_name String, agent_id String, agent_version String, agent_description String,
    conversation_id String, user_id String, tags Array(String),
    model LowCardinality(String), provider LowCardinality(String),
    reports_usage UInt8, input_tokens UInt64, output_tokens UInt64, cache_read_tokens UInt64,
    cache_write_tokens UInt64, reasoning_tokens UInt64, total_tokens UInt64,
    precomputed_cost Nullable(Float64), tool_name String, has_error UInt8,
    input_text String, output_text String, turns Nullable(UInt32), decisions String,
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
  ) ENGINE = ReplacingMergeTree ORDER BY (trace_id, span_id) SETTINGS index_granularity = 1024`,
  `CREATE TABLE IF NOT EXISTS ${db}.agent_sessions (
    id UUID, type LowCardinality(String), title String, description String, status LowCardinality(String), tags Array(String),
    session_start DateTime64(9, 'UTC'), session_end Nullable(DateTime64(9, 'UTC')),
    turns UInt32, tokens_used UInt64, cost Decimal(18, 9), unpriced_models Array(String),
    tools_invoked Array(String), tool_call_count UInt32, error_count UInt32,
    session_status LowCardinality(String), output_summary String,
    trace_id String, root_span_id String, agent_definition_id UUID, agent_name LowCardinality(String),
    service_name LowCardinality(String), environment LowCardinality(String), conversation_id String, user_id String,
    input_tokens UInt64, output_tokens UInt64, cache_read_tokens UInt64, cache_write_tokens UInt64, reasoning_tokens UInt64,
    models Array(String), llm_call_count UInt32, span_count UInt32, duration_ms Nullable(Float64),
    last_span_at DateTime64(9, 'UTC'), updated_at DateTime64(3, 'UTC') DEFAULT now64(3), version UInt64
  ) ENGINE = ReplacingMergeTree(version) ORDER BY id`,
  `CREATE TABLE IF NOT EXISTS ${db}.agent_definitions (
    id UUID,
    type SimpleAggregateFunction(any, String),
    title SimpleAggregateFunction(any, String),
    description SimpleAggregateFunction(max, String),
    status SimpleAggregateFunction(any, String),
    tags SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    agent_key SimpleAggregateFunction(any, String),
    agent_name SimpleAggregateFunction(any, String),
    agent_id SimpleAggregateFunction(any, String),
    version SimpleAggregateFunction(max, String),
    service_name SimpleAggregateFunction(any, String),
    first_seen SimpleAggregateFunction(min, DateTime64(9, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(9, 'UTC'))
  ) ENGINE = AggregatingMergeTree ORDER BY id`,
  `CREATE TABLE IF NOT EXISTS ${db}.decisions (
    id UUID, type LowCardinality(String), title String, description String, status LowCardinality(String), tags Array(String),
    context String, rationale String, consequences String, decided_at DateTime64(9, 'UTC'),
    session_id UUID, trace_id String, span_id String
  ) ENGINE = ReplacingMergeTree ORDER BY id`,
  `CREATE TABLE IF NOT EXISTS ${db}.graph_edges (
    edge_type LowCardinality(String), source_id UUID, source_type LowCardinality(String),
    target_id UUID, target_type LowCardinality(String), created_at DateTime64(9, 'UTC')
  ) ENGINE = ReplacingMergeTree ORDER BY (edge_type, source_id, target_id)`,
];

/** First server version with GA full-text `text` indexes; the exporter switches to them here. */
const FULL_TEXT_SEARCH_VERSION = '26.2';

/**
 * `otel_logs` exactly as the OpenTelemetry Collector ClickHouse exporter creates it: opentelemetry-
 * collector-contrib v0.161.0, exporter/clickhouseexporter/internal/sqltemplates/logs_table.sql — the
 * schema of v0.151.0 onwards (PR #47720: no TimestampTime column, ORDER BY five-minute buckets,
 * `__otel_materialized_*` resource columns; EventName from PR #43164) — rendered with the exporter's
 * defaults: engine MergeTree, no TTL (ttl 0), no cluster. Like the exporter (createLogsTable), a
 * server ≥ 26.2 gets full-text `text` indexes and an older one bloom filters; the columns are the
 * same either way. Grafana's ClickHouse plugin reads this schema as OTel version 1.3.0 (plugin 4.20+).
 */
const OTEL_LOGS = (db: string, serverVersion: string): string => {
  const column = (name: string, type: string): string => `\`${name}\` ${type}`;
  const materialized = (key: string): string =>
    column(
      `__otel_materialized_${key}`,
      `LowCardinality(String) MATERIALIZED ResourceAttributes['${key}'] CODEC(ZSTD(1))`,
    );
  const fullText = isVersionAtLeast(serverVersion, FULL_TEXT_SEARCH_VERSION);
  const exact = (expr: string, name: string, falsePositive: string): string =>
    fullText
      ? `INDEX ${name} ${expr} TYPE text(tokenizer = 'array')`
      : `INDEX ${name} ${expr} TYPE bloom_filter(${falsePositive}) GRANULARITY 1`;
  return `CREATE TABLE IF NOT EXISTS ${db}.otel_logs (
    ${column('Timestamp', "DateTime64(9) COMMENT 'Event timestamp with nanosecond precision' CODEC(Delta(8), ZSTD(1))")},
    ${column('TraceId', "String COMMENT 'W3C trace identifier' CODEC(ZSTD(1))")},
    ${column('SpanId', "String COMMENT 'W3C span identifier' CODEC(ZSTD(1))")},
    ${column('TraceFlags', "UInt8 COMMENT 'W3C trace flags'")},
    ${column('SeverityText', "LowCardinality(String) COMMENT 'Log severity as text' CODEC(ZSTD(1))")},
    ${column('SeverityNumber', "UInt8 COMMENT 'Log severity as number (1-24)'")},
    ${column('ServiceName', "LowCardinality(String) COMMENT 'Service that emitted the log' CODEC(ZSTD(1))")},
    ${column('Body', "String COMMENT 'Log message body' CODEC(ZSTD(1))")},
    ${column('ResourceSchemaUrl', "LowCardinality(String) COMMENT 'Schema URL for the resource' CODEC(ZSTD(1))")},
    ${column('ResourceAttributes', "Map(LowCardinality(String), String) COMMENT 'Resource attributes as key-value pairs' CODEC(ZSTD(1))")},
    ${column('ScopeSchemaUrl', "LowCardinality(String) COMMENT 'Schema URL for the instrumentation scope' CODEC(ZSTD(1))")},
    ${column('ScopeName', "String COMMENT 'Instrumentation scope name' CODEC(ZSTD(1))")},
    ${column('ScopeVersion', "LowCardinality(String) COMMENT 'Instrumentation scope version' CODEC(ZSTD(1))")},
    ${column('ScopeAttributes', "Map(LowCardinality(String), String) COMMENT 'Instrumentation scope attributes' CODEC(ZSTD(1))")},
    ${column('LogAttributes', "Map(LowCardinality(String), String) COMMENT 'Log record attributes' CODEC(ZSTD(1))")},
    ${column('EventName', "String COMMENT 'Event name for log records representing events' CODEC(ZSTD(1))")},
    ${['k8s.cluster.name', 'k8s.container.name', 'k8s.deployment.name', 'k8s.namespace.name', 'k8s.node.name', 'k8s.pod.name', 'k8s.pod.uid', 'deployment.environment.name'].map(materialized).join(',\n    ')},
    ${exact('TraceId', 'idx_trace_id', '0.001')},
    ${exact('mapKeys(ResourceAttributes)', 'idx_res_attr_key', '0.01')},
    ${exact('mapValues(ResourceAttributes)', 'idx_res_attr_value', '0.01')},
    ${exact('mapKeys(ScopeAttributes)', 'idx_scope_attr_key', '0.01')},
    ${exact('mapValues(ScopeAttributes)', 'idx_scope_attr_value', '0.01')},
    ${exact('mapKeys(LogAttributes)', 'idx_log_attr_key', '0.01')},
    ${exact('mapValues(LogAttributes)', 'idx_log_attr_value', '0.01')},
    ${fullText ? "INDEX idx_lower_body lower(Body) TYPE text(tokenizer = 'splitByNonAlpha')" : 'INDEX idx_lower_body lower(Body) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8'}
  ) ENGINE = MergeTree
  PARTITION BY toDate(Timestamp)
  ORDER BY (toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp)
  SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`;
};

/*
 * Codecs of the graph tables (migration 9). agent_sessions keeps the default LZ4: with ZSTD it was
 * 31% smaller, but a session list (a FINAL scan of every session, the table being ordered by id)
 * took 35 instead of 24 ms over 90k sessions, and read latency is the tighter target there.
 * Measured on the bench's traffic (200k spans, merged):
 * with the default LZ4, session_spans took 53 bytes per span, 15 of them for span_id alone. Hex
 * ids and text compress far better with ZSTD (Huffman coding halves hex); token counts, mostly
 * 0 or small, with T64 before ZSTD; names repeat and become LowCardinality. Message text (the
 * capped summaries, decisions' rationale) takes ZSTD(3), the rest ZSTD(1). Times are not
 * Delta-coded: the tables are ordered by id, so neighbouring rows' times are unrelated.
 */
const Z1 = 'CODEC(ZSTD(1))';
const Z3 = 'CODEC(ZSTD(3))';
const COUNTER = 'CODEC(T64, ZSTD(1))';
const GRAPH_CODECS: Record<string, Array<[string, string]>> = {
  session_spans: [
    ['trace_id', `String ${Z1}`],
    ['span_id', `String ${Z1}`],
    ['parent_span_id', `String ${Z1}`],
    ['span_name', `LowCardinality(String) ${Z1}`],
    ['start_time', `DateTime64(9, 'UTC') ${Z1}`],
    ['end_time', `DateTime64(9, 'UTC') ${Z1}`],
    ['service_name', `LowCardinality(String) ${Z1}`],
    ['environment', `LowCardinality(String) ${Z1}`],
    ['status_code', `LowCardinality(String) ${Z1}`],
    ...['is_llm', 'is_embedding', 'is_tool', 'is_agent', 'is_aggregate', 'reports_usage', 'has_error'].map(
      (c): [string, string] => [c, `UInt8 ${Z1}`],
    ),
    ['agent_name', `LowCardinality(String) ${Z1}`],
    ['agent_id', `LowCardinality(String) ${Z1}`],
    ['agent_version', `LowCardinality(String) ${Z1}`],
    ['agent_description', `String ${Z3}`],
    ['conversation_id', `String ${Z1}`],
    ['user_id', `String ${Z1}`],
    ['tags', `Array(String) ${Z1}`],
    ['model', `LowCardinality(String) ${Z1}`],
    ['provider', `LowCardinality(String) ${Z1}`],
    ...[
      'input_tokens',
      'output_tokens',
      'cache_read_tokens',
      'cache_write_tokens',
      'reasoning_tokens',
      'total_tokens',
    ].map((c): [string, string] => [c, `UInt64 ${COUNTER}`]),
    ['precomputed_cost', `Nullable(Float64) ${Z1}`],
    ['tool_name', `LowCardinality(String) ${Z1}`],
    ['tool_call_id', `String ${Z1}`],
    ['requested_tools', `String ${Z3}`],
    ['input_text', `String ${Z3}`],
    ['output_text', `String ${Z3}`],
    ['turns', `Nullable(UInt32) ${Z1}`],
    ['decisions', `String ${Z3}`],
    ['origin', `LowCardinality(String) ${Z1}`],
    ['inserted_at', `DateTime64(3, 'UTC') DEFAULT now64(3) ${Z1}`],
  ],
  decisions: [
    ['title', `String ${Z3}`],
    ['description', `String ${Z3}`],
    ['tags', `Array(String) ${Z1}`],
    ['context', `String ${Z3}`],
    ['rationale', `String ${Z3}`],
    ['consequences', `String ${Z3}`],
    ['decided_at', `DateTime64(9, 'UTC') ${Z1}`],
    ['trace_id', `String ${Z1}`],
    ['span_id', `String ${Z1}`],
  ],
  graph_edges: [['created_at', `DateTime64(9, 'UTC') ${Z1}`]],
};

/**
 * agent_sessions' text and id columns (migration 14). The text (the capped description and output
 * summary, the title) was LZ4 and took 6.4 of its 11.1 bytes per span on the bench's traffic.
 * LZ4HC(9) takes 3.5 of them, ZSTD(3) 3.3, but a session list, which reads the text of every
 * session in the granules it touches (8,192 rows each), took 108–185 ms over 303k sessions with
 * ZSTD(3) against 91–99 with LZ4 or LZ4HC(9), which decompress alike. LZ4HC(9) costs about 1.2 µs
 * per span at each write of a session (ZSTD(3): 0.1). Hex ids gain from ZSTD's entropy coding.
 */
const LZ4HC = 'CODEC(LZ4HC(9))';
const SESSION_CODECS: Array<[string, string]> = [
  ['title', `String ${LZ4HC}`],
  ['description', `String ${LZ4HC}`],
  ['output_summary', `String ${LZ4HC}`],
  ['trace_id', `String ${Z1}`],
  ['root_span_id', `String ${Z1}`],
  ['conversation_id', `String ${Z1}`],
  ['user_id', `String ${Z1}`],
];

/** Every migration, oldest first. Append only: a released migration never changes. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'otel_traces (OpenTelemetry Collector ClickHouse exporter schema)',
    statements: (db) => [OTEL_TRACES(db)],
  },
  {
    version: 2,
    description: 'agent graph: session_spans, agent_sessions, agent_definitions, decisions, graph_edges',
    statements: GRAPH_TABLES,
  },
  {
    version: 3,
    description: 'ingest_journal: traces of each batch, written before the batch, for recovery after a crash',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.ingest_journal (written_at DateTime64(3, 'UTC') DEFAULT now64(3), trace_ids Array(String))
       ENGINE = MergeTree ORDER BY written_at TTL toDateTime(written_at) + INTERVAL 7 DAY`,
    ],
  },
  {
    version: 4,
    description: 'otel_logs (OpenTelemetry Collector ClickHouse exporter schema, v0.161.0)',
    statements: (db, serverVersion) => [OTEL_LOGS(db, serverVersion)],
  },
  {
    version: 5,
    description:
      'session_spans: tool_call_id (one tool call per call id), requested_tools (tool calls asked for by a model), origin (facts of log events)',
    statements: (db) => [
      `ALTER TABLE ${db}.session_spans ADD COLUMN IF NOT EXISTS tool_call_id String DEFAULT '' AFTER tool_name`,
      `ALTER TABLE ${db}.session_spans ADD COLUMN IF NOT EXISTS requested_tools String DEFAULT '' AFTER tool_call_id`,
      `ALTER TABLE ${db}.session_spans ADD COLUMN IF NOT EXISTS origin LowCardinality(String) DEFAULT '' AFTER decisions`,
    ],
  },
  {
    version: 6,
    description:
      'rollup_checkpoints: journal time before which every batch is rolled up (sessions are rolled up behind the ack)',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.rollup_checkpoints (written_at DateTime64(3, 'UTC') DEFAULT now64(3), covered_until DateTime64(3, 'UTC'))
       ENGINE = MergeTree ORDER BY written_at TTL toDateTime(written_at) + INTERVAL 7 DAY`,
    ],
  },
  {
    version: 7,
    description:
      'session_spans.inserted_at is the ingest journal (ingest_journal is no longer written): a minmax index for recovery',
    statements: (db) => [
      `ALTER TABLE ${db}.session_spans ADD INDEX IF NOT EXISTS idx_inserted_at inserted_at TYPE minmax GRANULARITY 1`,
    ],
  },
  {
    version: 8,
    description:
      'otel_traces_trace_id_ts and its view, as the OpenTelemetry Collector ClickHouse exporter creates them: a trace found by id without scanning otel_traces',
    statements: (db) => [OTEL_TRACES_TRACE_ID_TS(db), OTEL_TRACES_TRACE_ID_TS_MV(db)],
  },
  {
    version: 9,
    description:
      'codecs per column on session_spans, decisions and graph_edges (ZSTD for text and ids, T64 for counters, LowCardinality for names): measured in bench/storage.ts',
    statements: (db) =>
      Object.entries(GRAPH_CODECS).flatMap(([table, columns]) =>
        columns.map(
          ([column, type]) => `ALTER TABLE ${db}.${table} MODIFY COLUMN ${column} ${type} SETTINGS mutations_sync = 2`,
        ),
      ),
  },
  {
    version: 10,
    description:
      "otel_traces.SpanAttributes with ZSTD(3): 4.5% smaller than the exporter's ZSTD(1) at the same insert rate (measured)",
    // Measured on the bench's 198k spans, 5,000-row inserts: ZSTD(1) 88.8 bytes/span and 79k rows/s,
    // ZSTD(3) 84.8 and 78k rows/s (merge time alike), ZSTD(6) 81.2 but 62k rows/s. Only the codec
    // changes: the column, its type and every reader (Grafana, ClickStack) stay as they are.
    statements: (db) => [
      `ALTER TABLE ${db}.otel_traces MODIFY COLUMN SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(3))`,
    ],
  },
  {
    version: 11,
    description:
      "agent_sessions.model_usage (each model's calls, errors, tokens and cost, for trends by model); agent_definitions.latest_version (the version of the newest session seen, not the largest string)",
    statements: (db) => [
      `ALTER TABLE ${db}.agent_sessions ADD COLUMN IF NOT EXISTS model_usage
         Array(Tuple(model LowCardinality(String), calls UInt32, errors UInt32, tokens UInt64, cost Decimal(18, 9), priced UInt8)) CODEC(ZSTD(3)) AFTER models`,
      `ALTER TABLE ${db}.agent_definitions ADD COLUMN IF NOT EXISTS latest_version
         SimpleAggregateFunction(max, Tuple(DateTime64(9, 'UTC'), String)) AFTER version`,
    ],
  },
  {
    version: 12,
    description:
      "retention_settings: the retention TTLs applied (--retain-*) and how far expired content is swept; session_calls: each ended session's calls (structure, no text), kept with the graph for decisions' evidence",
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.retention_settings (name String, value String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
       ENGINE = MergeTree ORDER BY (name, applied_at)`,
      `CREATE TABLE IF NOT EXISTS ${db}.session_calls (
         session_id UUID,
         calls Array(Tuple(span_id String, kind LowCardinality(String), name String, model LowCardinality(String),
           tool LowCardinality(String), start_ns String, end_ns String, error UInt8, input_tokens UInt64, output_tokens UInt64)) CODEC(ZSTD(3)),
         updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
       ) ENGINE = ReplacingMergeTree(updated_at) ORDER BY session_id`,
    ],
  },
  {
    version: 13,
    description:
      'erasures: one record per erasure on request (who asked, which criterion as a SHA-256, the traces, rows before and after); no TTL, it is kept',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.erasures (
         id UUID, requested_at DateTime64(3, 'UTC'), requested_by String, criterion LowCardinality(String), criterion_sha256 String,
         graph LowCardinality(String), sessions UInt32, trace_ids Array(String), rows_before String, rows_after String
       ) ENGINE = MergeTree ORDER BY requested_at`,
    ],
  },
  {
    version: 14,
    description:
      'agent_sessions: LZ4HC(9) for the capped description, output summary and title, ZSTD(1) for hex ids; session_spans: sparse columns where half the rows hold the default (measured in bench/storage.ts)',
    statements: (db) => [
      ...SESSION_CODECS.map(
        ([column, type]) =>
          `ALTER TABLE ${db}.agent_sessions MODIFY COLUMN ${column} ${type} SETTINGS mutations_sync = 2`,
      ),
      // Most facts are empty for most spans (token counts off model calls, tool fields off tool
      // calls, texts off all but a few): a column whose part is at least half defaults is stored
      // as the non-default values and their positions. 24.7 → 23.5 bytes per span on the bench.
      `ALTER TABLE ${db}.session_spans MODIFY SETTING ratio_of_defaults_for_sparse_serialization = 0.5`,
    ],
  },
  {
    version: 15,
    description:
      'otel_traces.SpanAttributes with ZSTD(7) in blocks of up to 4 MiB; the graph tables in wide parts from 4 MiB (measured in bench/storage.ts)',
    // SpanAttributes is four fifths of the store. Bench traffic, 198k spans after merges, per span:
    // ZSTD(3) 84.8 bytes, ZSTD(6) 81.0, ZSTD(7) 78.7, ZSTD(9) 78.3 (4 MiB blocks: −0.2 at any
    // level; migration 19 returns to the default blocks, which read a trace twice as fast).
    // Insert, one thread: 2.9–3.7 µs per span at ZSTD(3), 7.1 at ZSTD(6), 8.6 at ZSTD(7), 11.7
    // at ZSTD(9); each merge recompresses at about the same cost. ZSTD(7) is the knee: 6 of
    // the 7 bytes ZSTD(9) saves, at half its extra CPU. Reading is as fast at any level.
    // A compact part compresses each column granule by granule (1,024 facts rows: a few KiB per
    // block); session_spans' merged parts under the default 10 MiB threshold took 30.4 bytes per
    // span where a wide part takes 24.8. Inserts (up to 5,000 facts, ~1.2 MiB) stay compact.
    statements: (db) => [
      `ALTER TABLE ${db}.otel_traces MODIFY COLUMN SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(7))`,
      `ALTER TABLE ${db}.otel_traces MODIFY SETTING min_compress_block_size = 1048576, max_compress_block_size = 4194304`,
      ...['session_spans', 'agent_sessions', 'decisions', 'graph_edges'].map(
        (table) => `ALTER TABLE ${db}.${table} MODIFY SETTING min_bytes_for_wide_part = 4194304`,
      ),
    ],
  },
  // session_spans.end_time becomes start_time + duration_ns: a span's duration is a small number
  // the codecs shrink (T64), its end a full timestamp (1.92 → 1.22 bytes per span on the bench).
  // Each migration can be run again after a crash before it was recorded: materializing needs the
  // default that the last one replaces, so it is a migration of its own; end_time is dropped and
  // added back as an ALIAS (IF EXISTS / IF NOT EXISTS), not modified in place, which refuses to
  // run twice (its codec must be removed first, and removing a codec that is gone is an error).
  {
    version: 16,
    description: 'session_spans.duration_ns: end_time - start_time (a small number, T64-coded)',
    statements: (db) => [
      `ALTER TABLE ${db}.session_spans ADD COLUMN IF NOT EXISTS duration_ns UInt64
         DEFAULT toUInt64(greatest(0, toUnixTimestamp64Nano(end_time) - toUnixTimestamp64Nano(start_time))) CODEC(T64, ZSTD(1)) AFTER start_time`,
    ],
  },
  {
    version: 17,
    description: 'session_spans.duration_ns written for the rows stored before it',
    statements: (db) => [`ALTER TABLE ${db}.session_spans MATERIALIZE COLUMN duration_ns SETTINGS mutations_sync = 2`],
  },
  {
    version: 18,
    description:
      'session_spans.end_time is start_time + duration_ns (an ALIAS: no longer stored); total_tokens is stored only where it exceeds input + output',
    statements: (db) => [
      `ALTER TABLE ${db}.session_spans MODIFY COLUMN duration_ns DEFAULT 0`,
      `ALTER TABLE ${db}.session_spans DROP COLUMN IF EXISTS end_time SETTINGS mutations_sync = 2`,
      `ALTER TABLE ${db}.session_spans ADD COLUMN IF NOT EXISTS end_time DateTime64(9, 'UTC')
         ALIAS fromUnixTimestamp64Nano(toInt64(toUnixTimestamp64Nano(start_time) + duration_ns), 'UTC') AFTER duration_ns`,
    ],
  },
  // Migration 15's 4 MiB compression blocks saved 0.2 bytes per span and doubled a transcript
  // read: `SELECT * FROM otel_traces WHERE TraceId = …` decompresses whole blocks of
  // SpanAttributes to return one trace (200 traces on the bench's 198k spans: 48.7–53.6 ms each,
  // against 25.6–27.3 ms with the default blocks). Parts written before keep theirs until merged.
  {
    version: 19,
    description: 'otel_traces back to the default compression block sizes (transcript reads)',
    statements: (db) => [
      `ALTER TABLE ${db}.otel_traces RESET SETTING min_compress_block_size, max_compress_block_size`,
    ],
  },
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
export async function migrate(client: ClickHouseClient, db: string, cluster?: string): Promise<number> {
  // On a cluster each statement becomes its ON CLUSTER form (cluster.ts).
  const run = (statement: string): Promise<void> => runStatement(client, statement, db, cluster);
  const rows = await (
    await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
  ).json<{ v: string }>();
  const version = rows[0]?.v ?? '0';
  if (!isVersionAtLeast(version, MIN_SERVER_VERSION)) throw new UnsupportedServerError(version);

  await run(`CREATE DATABASE IF NOT EXISTS ${db}`);
  await run(
    `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32, description String, applied_at DateTime64(3) DEFAULT now64(3))
            ENGINE = ReplacingMergeTree ORDER BY version`,
  );
  // The set of applied versions, not their maximum: migrations written in parallel land out of
  // order (5 was applied before 4 existed), and a gap must still be filled.
  const done = await (
    await client.query({ query: `SELECT DISTINCT version AS v FROM ${db}.schema_migrations`, format: 'JSONEachRow' })
  ).json<{ v: number }>();
  const applied = new Set(done.map((r) => Number(r.v)));
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    for (const statement of m.statements(db, version)) await run(statement);
    await client.insert({
      table: `${db}.schema_migrations`,
      values: [{ version: m.version, description: m.description }],
      format: 'JSONEachRow',
    });
  }
  return MIGRATIONS.at(-1)?.version ?? 0;
}
