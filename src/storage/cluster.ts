/**
 * Cluster mode (`--clickhouse-cluster NAME`): the same schema, created `ON CLUSTER` as
 * `Replicated*MergeTree` tables (`<name>_local`) behind `Distributed` tables with the original
 * names, so every reader and writer keeps using `otel_traces`, `agent_sessions`… unchanged.
 *
 * Sharding: raw spans, facts, logs, sessions, decisions and edges all by `cityHash64` of the trace
 * id (an edge's session is its trace: the session id is the trace id as a UUID), so everything a
 * roll-up reads and writes for a trace lives on one shard; with `optimize_skip_unused_shards` a
 * roll-up's `trace_id IN (…)` read goes only to the shards of those traces. Agent definitions span
 * traces and are sharded by their own id, so the rows of one definition merge on one shard.
 *
 * Every DDL statement the collector runs (migrations, retention TTLs, erasure mutations) goes
 * through `clusterStatements`: written once for a single server, rewritten here for a cluster.
 */

import type { ClickHouseClient } from '@clickhouse/client';

/** The sharding key of each table's Distributed table. */
export const SHARDING_KEYS: Record<string, string> = {
  otel_traces: 'cityHash64(TraceId)',
  otel_traces_trace_id_ts: 'cityHash64(TraceId)',
  otel_logs: 'cityHash64(TraceId)',
  session_spans: 'cityHash64(trace_id)',
  agent_sessions: 'cityHash64(trace_id)',
  decisions: 'cityHash64(trace_id)',
  // The edge's session: its target (definition → session) or its source (session → decision),
  // written back as the 32 hex digits of the trace id.
  graph_edges:
    "cityHash64(replaceAll(toString(if(edge_type = 'agent_definition_runs_agent_session', target_id, source_id)), '-', ''))",
  session_calls: "cityHash64(replaceAll(toString(session_id), '-', ''))",
  agent_definitions: 'cityHash64(id)',
};

/** Bookkeeping tables, small and not per trace: spread at random. */
const DEFAULT_SHARDING_KEY = 'rand()';

const quote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Runs a statement written for one server: as is, or on a cluster as its cluster form. */
export async function runStatement(
  client: ClickHouseClient,
  statement: string,
  db: string,
  cluster: string | undefined,
  params: Record<string, unknown> = {},
): Promise<void> {
  for (const query of cluster ? clusterStatements(statement, cluster, db) : [statement]) {
    await client.command({ query, query_params: params });
  }
}

/** The statements that do on a cluster what `statement` does on one server. */
export function clusterStatements(statement: string, cluster: string, db: string): string[] {
  const on = `ON CLUSTER ${quote(cluster)}`;
  const text = statement.trim();

  let m = /^CREATE DATABASE IF NOT EXISTS (\w+)$/i.exec(text);
  if (m) return [`CREATE DATABASE IF NOT EXISTS ${m[1]} ${on}`];

  m = /^CREATE TABLE IF NOT EXISTS (\w+)\.(\w+)\s*\(([\s\S]*)$/i.exec(text);
  if (m) {
    const [, tableDb = db, table = '', rest = ''] = m;
    const engine = /ENGINE\s*=\s*(\w*MergeTree)(?:\(([^)]*)\))?/i.exec(rest);
    if (!engine) throw new Error(`cluster mode: no MergeTree engine in the statement creating ${table}`);
    const args = [
      quote(`/clickhouse/tables/{shard}/${tableDb}/${table}_local`),
      quote('{replica}'),
      ...(engine[2]?.trim() ? [engine[2].trim()] : []),
    ];
    const local = `CREATE TABLE IF NOT EXISTS ${tableDb}.${table}_local ${on} (${rest.replace(engine[0], `ENGINE = Replicated${engine[1]}(${args.join(', ')})`)}`;
    const distributed = `CREATE TABLE IF NOT EXISTS ${tableDb}.${table} ${on} AS ${tableDb}.${table}_local
      ENGINE = Distributed(${quote(cluster)}, ${quote(tableDb)}, ${quote(`${table}_local`)}, ${SHARDING_KEYS[table] ?? DEFAULT_SHARDING_KEY})`;
    return [local, distributed];
  }

  m = /^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+)\.(\w+) TO (\w+)\.(\w+)([\s\S]*)$/i.exec(text);
  if (m) {
    const [, viewDb, view, toDb, to, rest = ''] = m;
    // On each shard, from its local rows into its local table.
    const select = rest.replace(
      /\bFROM\s+(\w+)\.(\w+)/gi,
      (_all, fromDb: string, from: string) => `FROM ${fromDb}.${from}_local`,
    );
    return [`CREATE MATERIALIZED VIEW IF NOT EXISTS ${viewDb}.${view} ${on} TO ${toDb}.${to}_local${select}`];
  }

  m = /^(ALTER TABLE|OPTIMIZE TABLE) (\w+)\.(\w+)\s+([\s\S]*)$/i.exec(text);
  if (m) {
    const [, verb, tableDb, table, rest = ''] = m;
    const out = [`${verb} ${tableDb}.${table}_local ${on} ${rest}`];
    // A column added, dropped or given another default or alias on the local tables changes on the
    // Distributed table too, or it cannot be read (added) or written (dropped: an insert would still
    // send it). Codecs and settings are the local tables' business: a Distributed table stores nothing.
    const columns = /^(ADD|DROP) COLUMN/i.test(rest) || (/^MODIFY COLUMN/i.test(rest) && !/\bCODEC\(/i.test(rest));
    if (/^ALTER/i.test(verb ?? '') && columns)
      out.push(
        `ALTER TABLE ${tableDb}.${table} ${on} ${rest
          .replace(/\s+SETTINGS mutations_sync = 2\s*$/i, '')
          .replace(/\s+AFTER\s+\w+\s*$/i, '')
          .replace(/\s+CODEC\((?:[^()]|\([^()]*\))*\)/gi, '')}`,
      );
    return out;
  }
  throw new Error(`cluster mode: no cluster form for the statement ${text.slice(0, 60)}…`);
}
