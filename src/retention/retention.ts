/**
 * Retention (`--retain-spans`, `--retain-content`, `--retain-graph`): how long raw spans, their
 * text content and the graph are kept, enforced by ClickHouse itself.
 *
 * - Spans: a table TTL on `otel_traces` (and its trace-id lookup), `session_spans` and `otel_logs`.
 *   The raw tables are partitioned by day with `ttl_only_drop_parts`, so whole days are dropped.
 * - Graph: a table TTL on `agent_sessions`, `agent_definitions`, `decisions` and `graph_edges`.
 *   `erasures` (who erased what) has none: it is kept.
 * - Content (message, argument and result text): column TTLs on the copies sessiongraph keeps
 *   (`session_spans.input_text` / `output_text`, `agent_sessions.description` / `output_summary`).
 *   In `otel_traces` and `otel_logs` the text sits inside the attribute maps beside the names and
 *   token counts the audit trail needs, and a ClickHouse TTL can only clear a whole column; so
 *   there the content values are replaced by `[expired]`: at ingest for spans already older than
 *   the limit, and by a mutation every hour over the window that has crossed it since.
 *
 * Settings are applied at start (`ALTER … MODIFY TTL` / `REMOVE TTL`, only where they changed,
 * remembered in `retention_settings`), so changing one changes the tables in place.
 */
import { CONTENT_KEY_PATTERNS, EVENT_NAME_BODY, globRegex } from '../redaction/rules.ts';
import type { LogRow } from '../otlp/decode-logs-row.ts';
import type { SpanRow } from '../otlp/span-row.ts';
import type { Storage } from '../storage/storage.ts';

export interface RetentionConfig {
  /** Seconds each is kept; undefined: forever. */
  spansSeconds: number | undefined;
  contentSeconds: number | undefined;
  graphSeconds: number | undefined;
}

export const EXPIRED = '[expired]';

/** False when the raw spans expire before the graph: then decisions need their sessions' calls kept (session_calls). */
export function spansOutliveGraph(config: RetentionConfig): boolean {
  return (
    config.spansSeconds === undefined ||
    (config.graphSeconds !== undefined && config.graphSeconds <= config.spansSeconds)
  );
}

type Kind = 'spans' | 'graph';
/** Table → the time its rows age by, for each table TTL. */
const TABLE_TTLS: Array<{ table: string; kind: Kind; time: string }> = [
  { table: 'otel_traces', kind: 'spans', time: 'toDateTime(Timestamp)' },
  { table: 'otel_traces_trace_id_ts', kind: 'spans', time: 'End' },
  { table: 'session_spans', kind: 'spans', time: 'toDateTime(start_time)' },
  { table: 'otel_logs', kind: 'spans', time: 'toDateTime(Timestamp)' },
  { table: 'agent_sessions', kind: 'graph', time: 'toDateTime(session_start)' },
  { table: 'agent_definitions', kind: 'graph', time: 'toDateTime(last_seen)' },
  { table: 'decisions', kind: 'graph', time: 'toDateTime(decided_at)' },
  { table: 'graph_edges', kind: 'graph', time: 'toDateTime(created_at)' },
  { table: 'session_calls', kind: 'graph', time: 'toDateTime(updated_at)' },
];
/** Columns holding copies of content, with the time they age by. */
const CONTENT_COLUMNS: Array<{ table: string; column: string; time: string }> = [
  { table: 'session_spans', column: 'input_text', time: 'toDateTime(start_time)' },
  { table: 'session_spans', column: 'output_text', time: 'toDateTime(start_time)' },
  { table: 'agent_sessions', column: 'description', time: 'toDateTime(session_start)' },
  { table: 'agent_sessions', column: 'output_summary', time: 'toDateTime(session_start)' },
];

const secondsOf = (config: RetentionConfig, kind: Kind | 'content'): number | undefined =>
  kind === 'spans' ? config.spansSeconds : kind === 'graph' ? config.graphSeconds : config.contentSeconds;

/** The content-key pattern as a ClickHouse (RE2) regular expression. */
const CONTENT_RE = CONTENT_KEY_PATTERNS.map((g) => globRegex(g).source).join('|');
const CONTENT_KEYS = new RegExp(CONTENT_RE, 'i');
/** A ClickHouse expression: `map` with every content value replaced by `[expired]` (RE2, case-insensitive like CONTENT_KEYS). */
const mapExpired = (map: string): string =>
  `mapApply((k, v) -> (k, if(match(k, '(?i)${CONTENT_RE.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'), '${EXPIRED}', v)), ${map})`;

/** Applies the TTLs that differ from those applied last; returns what it changed, for the log. */
export async function applyRetention(storage: Storage, config: RetentionConfig): Promise<string[]> {
  const db = storage.database;
  const applied = new Map(
    (
      await storage.select<{ name: string; value: string }>(
        `SELECT name, argMax(value, applied_at) AS value FROM ${db}.retention_settings GROUP BY name`,
      )
    ).map((r) => [r.name, r.value]),
  );
  const changes: string[] = [];
  const apply = async (name: string, wanted: string, statement: string): Promise<void> => {
    if ((applied.get(name) ?? 'off') === wanted) return;
    // mutations_sync: the TTL is in force (and existing parts re-evaluated) before the collector takes data.
    await storage.command(`${statement} SETTINGS mutations_sync = 2`);
    await storage.insertJsonLines('retention_settings', JSON.stringify({ name, value: wanted }));
    changes.push(`${name}: ${wanted}`);
  };
  for (const { table, kind, time } of TABLE_TTLS) {
    const seconds = secondsOf(config, kind);
    const wanted = seconds === undefined ? 'off' : `${seconds}s`;
    await apply(
      `${table}`,
      wanted,
      seconds === undefined
        ? `ALTER TABLE ${db}.${table} REMOVE TTL`
        : `ALTER TABLE ${db}.${table} MODIFY TTL ${time} + INTERVAL ${seconds} SECOND`,
    );
  }
  for (const { table, column, time } of CONTENT_COLUMNS) {
    const seconds = config.contentSeconds;
    const wanted = seconds === undefined ? 'off' : `${seconds}s`;
    await apply(
      `${table}.${column}`,
      wanted,
      seconds === undefined
        ? `ALTER TABLE ${db}.${table} MODIFY COLUMN ${column} REMOVE TTL`
        : `ALTER TABLE ${db}.${table} MODIFY COLUMN ${column} TTL ${time} + INTERVAL ${seconds} SECOND`,
    );
  }
  return changes;
}

/** Replaces content values older than the limit with `[expired]` in spans about to be stored (a backfill). */
export function expireOldSpanContent(rows: SpanRow[], contentSeconds: number, nowMs = Date.now()): number {
  const cutoffNs = BigInt(nowMs - contentSeconds * 1000) * 1_000_000n;
  let expired = 0;
  for (const row of rows) {
    if (BigInt(row.Timestamp) >= cutoffNs) continue;
    row.SpanAttributes = expireMap(row.SpanAttributes);
    row['Events.Attributes'] = row['Events.Attributes'].map(expireMap);
    expired++;
  }
  return expired;
}

/** The same for log records: their content attributes, and a body that is not an event's name. */
export function expireOldLogContent(rows: LogRow[], contentSeconds: number, nowMs = Date.now()): number {
  const cutoffNs = BigInt(nowMs - contentSeconds * 1000) * 1_000_000n;
  let expired = 0;
  for (const row of rows) {
    if (BigInt(row.Timestamp) >= cutoffNs) continue;
    row.LogAttributes = expireMap(row.LogAttributes);
    if (row.Body !== '' && !EVENT_NAME_BODY.test(row.Body)) row.Body = EXPIRED;
    expired++;
  }
  return expired;
}

function expireMap(attrs: Record<string, string>): Record<string, string> {
  let out: Record<string, string> | undefined;
  for (const key in attrs) {
    if (CONTENT_KEYS.test(key) && attrs[key] !== '' && attrs[key] !== EXPIRED) (out ??= { ...attrs })[key] = EXPIRED;
  }
  return out ?? attrs;
}

/**
 * Replaces the content of spans and log records whose time crossed the content limit since the
 * last sweep (the window is remembered in `retention_settings` as `content_swept_until`).
 * Returns the new bound (ns).
 */
export async function sweepExpiredContent(
  storage: Storage,
  contentSeconds: number,
  nowMs = Date.now(),
): Promise<bigint> {
  const db = storage.database;
  const [last] = await storage.select<{ value: string }>(
    `SELECT argMax(value, applied_at) AS value FROM ${db}.retention_settings WHERE name = 'content_swept_until' HAVING count() > 0`,
  );
  const from = BigInt(last?.value ?? '0');
  const until = BigInt(nowMs - contentSeconds * 1000) * 1_000_000n;
  if (until <= from) return from;
  const window = (column: string): string =>
    `${column} >= fromUnixTimestamp64Nano(${from}) AND ${column} < fromUnixTimestamp64Nano(${until})`;
  await storage.command(
    `ALTER TABLE ${db}.otel_traces UPDATE SpanAttributes = ${mapExpired('SpanAttributes')},
            \`Events.Attributes\` = arrayMap(m -> ${mapExpired('m')}, \`Events.Attributes\`)
            WHERE ${window('Timestamp')} SETTINGS mutations_sync = 2`,
  );
  await storage.command(
    `ALTER TABLE ${db}.otel_logs UPDATE LogAttributes = ${mapExpired('LogAttributes')},
            Body = if(match(Body, '(?i)${EVENT_NAME_BODY.source.replaceAll('\\', '\\\\')}') OR Body = '', Body, '${EXPIRED}')
            WHERE ${window('Timestamp')} SETTINGS mutations_sync = 2`,
  );
  await storage.insertJsonLines(
    'retention_settings',
    JSON.stringify({ name: 'content_swept_until', value: until.toString() }),
  );
  return until;
}

/** Parses `30d`, `12h`, `7y`, `2w`, `90s` or `off` into seconds (undefined: keep forever). */
export function parseRetention(text: string): number | undefined | null {
  const t = text.trim().toLowerCase();
  if (t === 'off' || t === 'forever' || t === '') return undefined;
  const m = /^(\d+)\s*(s|m|h|d|w|y)$/.exec(t);
  if (!m) return null;
  const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 }[m[2] as 's'];
  const seconds = Number(m[1]) * unit;
  return seconds >= 1 ? seconds : null;
}

/** What `GET /api/retention` and `sessiongraph retention` show: the settings and each table's TTL in force. */
export interface RetentionReport {
  spans: string;
  content: string;
  graph: string;
  tables: Array<{
    table: string;
    ttl: string | null;
    column_ttls: Record<string, string>;
    rows: number;
    bytes_on_disk: number;
  }>;
}

const shown = (seconds: number | undefined): string => (seconds === undefined ? 'forever' : formatSeconds(seconds));

function formatSeconds(seconds: number): string {
  for (const [unit, size] of [
    ['y', 31_536_000],
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** The retention in force, read back from the engine (system.tables), not from the settings alone. */
export async function retentionReport(storage: Storage, config: RetentionConfig): Promise<RetentionReport> {
  const names = [...new Set([...TABLE_TTLS.map((t) => t.table), ...CONTENT_COLUMNS.map((c) => c.table), 'erasures'])];
  const rows = await storage.read<{
    name: string;
    create_table_query: string;
    total_rows: number | null;
    total_bytes: number | null;
  }>(
    `SELECT name, create_table_query, total_rows, total_bytes FROM system.tables WHERE database = {db:String} AND name IN {names:Array(String)} ORDER BY name`,
    { db: storage.database, names },
  );
  return {
    spans: shown(config.spansSeconds),
    content: shown(config.contentSeconds),
    graph: shown(config.graphSeconds),
    tables: rows.map((r) => ({
      table: r.name,
      ttl: /\) ENGINE = .*? TTL (.+?)(?: SETTINGS |$)/.exec(r.create_table_query)?.[1] ?? null,
      column_ttls: Object.fromEntries(
        [...r.create_table_query.matchAll(/`(\w+)` [^,]*? TTL ([^,]+?)(?=, `|\) ENGINE)/g)].map((m) => [
          m[1] ?? '',
          m[2] ?? '',
        ]),
      ),
      rows: Number(r.total_rows ?? 0),
      bytes_on_disk: Number(r.total_bytes ?? 0),
    })),
  };
}
