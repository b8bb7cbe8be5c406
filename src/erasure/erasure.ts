/**
 * Erasure on request (`sessiongraph erase`, `DELETE /api/sessions?…`): every span, fact, log
 * record and text of the sessions of a user, a conversation or one session is removed from
 * ClickHouse — `ALTER TABLE … DELETE` with `mutations_sync = 2`, so the rows are gone from disk,
 * not only hidden, when the answer comes — and the graph nodes are removed or kept without their
 * personal fields, as the operator chooses. Rows are counted before and after, and an erasure
 * record (who asked, what matched, when: the criterion kept only as a SHA-256) is written to
 * `erasures`, which no retention touches. The erased trace ids are remembered, so a copy of an
 * erased span that an exporter re-sends later is dropped on arrival (acknowledged, not stored).
 */
import { createHash, randomUUID } from 'node:crypto';
import { BadDataError, NotFoundError } from '../errors.ts';
import { isUuid } from '../mapping/ids.ts';
import type { Storage } from '../storage/storage.ts';

export type ErasureCriterion = { user_id: string } | { conversation_id: string } | { session_id: string };
export type GraphAction = 'keep' | 'remove';

export interface ErasureRecord {
  id: string;
  requested_at: string;
  requested_by: string;
  /** `user_id`, `conversation_id` or `session_id`: which criterion, not its value. */
  criterion: string;
  /** SHA-256 of the value: proves what was asked without keeping it. */
  criterion_sha256: string;
  graph: GraphAction;
  sessions: number;
  trace_ids: string[];
  rows_before: Record<string, number>;
  rows_after: Record<string, number>;
}

/** The criterion a request names; exactly one of user_id, conversation_id, session_id. */
export function erasureCriterion(query: Record<string, string | undefined>): ErasureCriterion {
  const given = (['user_id', 'conversation_id', 'session_id'] as const).filter((k) => (query[k] ?? '') !== '');
  if (given.length !== 1) throw new BadDataError('name exactly one of user_id, conversation_id or session_id');
  const key = given[0] as 'user_id' | 'conversation_id' | 'session_id';
  const value = query[key] ?? '';
  if (key === 'session_id' && !isUuid(value))
    throw new BadDataError(`session_id must be a session id (a UUID); got ${JSON.stringify(value)}`);
  return { [key]: key === 'session_id' ? value.toLowerCase() : value } as ErasureCriterion;
}

const [criterionKey, criterionValue] = [
  (c: ErasureCriterion): string => Object.keys(c)[0] ?? '',
  (c: ErasureCriterion): string => Object.values(c)[0] ?? '',
];

/** The sessions (id, trace id) a criterion matches. */
export async function matchingSessions(
  storage: Storage,
  criterion: ErasureCriterion,
): Promise<Array<{ id: string; trace_id: string }>> {
  const key = criterionKey(criterion);
  const where = key === 'session_id' ? 'id = {v:UUID}' : `${key} = {v:String}`;
  return storage.select<{ id: string; trace_id: string }>(
    `SELECT id, trace_id FROM ${storage.database}.agent_sessions FINAL WHERE ${where} ORDER BY id`,
    { v: criterionValue(criterion) },
  );
}

/** Each table's rows of the traces (and sessions), for the before/after counts. */
const TABLES = (db: string, graph: boolean): Array<{ table: string; where: string }> => [
  { table: 'otel_traces', where: 'TraceId IN {traces:Array(String)}' },
  { table: 'otel_traces_trace_id_ts', where: 'TraceId IN {traces:Array(String)}' },
  { table: 'session_spans', where: 'trace_id IN {traces:Array(String)}' },
  { table: 'otel_logs', where: 'TraceId IN {traces:Array(String)}' },
  ...(graph
    ? [
        { table: 'agent_sessions', where: 'id IN {sessions:Array(UUID)}' },
        { table: 'decisions', where: 'session_id IN {sessions:Array(UUID)}' },
        { table: 'session_calls', where: 'session_id IN {sessions:Array(UUID)}' },
        {
          table: 'graph_edges',
          // Definition → session, and session → decision: every edge touching the sessions.
          where: `source_id IN {sessions:Array(UUID)} OR target_id IN {sessions:Array(UUID)} OR target_id IN (SELECT id FROM ${db}.decisions WHERE session_id IN {sessions:Array(UUID)})`,
        },
      ]
    : []),
];

async function countRows(storage: Storage, params: Record<string, unknown>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { table, where } of TABLES(storage.database, true)) {
    const [row] = await storage.select<{ n: number }>(
      `SELECT count() AS n FROM ${storage.database}.${table} WHERE ${where}`,
      params,
    );
    counts[table] = Number(row?.n ?? 0);
  }
  return counts;
}

/** Erases what `criterion` matches; throws NotFoundError when it matches no session. */
export async function erase(
  storage: Storage,
  criterion: ErasureCriterion,
  graph: GraphAction,
  requestedBy: string,
): Promise<ErasureRecord> {
  const sessions = await matchingSessions(storage, criterion);
  if (sessions.length === 0)
    throw new NotFoundError(
      `no session matches ${criterionKey(criterion)} ${JSON.stringify(criterionValue(criterion))}`,
    );
  const db = storage.database;
  const params = { traces: sessions.map((s) => s.trace_id), sessions: sessions.map((s) => s.id) };
  const before = await countRows(storage, params);
  const run = (statement: string): Promise<unknown> =>
    storage.command(`${statement} SETTINGS mutations_sync = 2`, params);
  // Edges first: their condition reads the decisions about to go.
  const order = graph === 'remove' ? [...TABLES(db, true)].reverse() : TABLES(db, false);
  for (const { table, where } of order) await run(`ALTER TABLE ${db}.${table} DELETE WHERE ${where}`);
  if (graph === 'keep') {
    // The nodes stay for the audit trail, without the personal fields and texts.
    await run(
      `ALTER TABLE ${db}.agent_sessions UPDATE description = '[erased]', output_summary = '[erased]', user_id = '', conversation_id = '' WHERE id IN {sessions:Array(UUID)}`,
    );
  }
  const after = await countRows(storage, params);
  const record: ErasureRecord = {
    id: randomUUID(),
    requested_at: new Date().toISOString(),
    requested_by: requestedBy,
    criterion: criterionKey(criterion),
    criterion_sha256: createHash('sha256').update(criterionValue(criterion)).digest('hex'),
    graph,
    sessions: sessions.length,
    trace_ids: params.traces,
    rows_before: before,
    rows_after: after,
  };
  await storage.insertJsonLines(
    'erasures',
    JSON.stringify({
      ...record,
      requested_at: record.requested_at,
      rows_before: JSON.stringify(before),
      rows_after: JSON.stringify(after),
    }),
  );
  return record;
}

/** Every erasure record, newest first. */
export async function erasureRecords(storage: Storage): Promise<ErasureRecord[]> {
  const rows = await storage.read<
    Omit<ErasureRecord, 'rows_before' | 'rows_after'> & { rows_before: string; rows_after: string }
  >(
    `SELECT toString(id) AS id, formatDateTime(requested_at, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS requested_at, requested_by, criterion, criterion_sha256, graph, sessions, trace_ids, rows_before, rows_after
     FROM ${storage.database}.erasures ORDER BY requested_at DESC`,
  );
  return rows.map((r) => ({
    ...r,
    requested_at: r.requested_at.replace(/(\.\d{3})\d*Z$/, '$1Z'),
    sessions: Number(r.sessions),
    rows_before: JSON.parse(r.rows_before) as Record<string, number>,
    rows_after: JSON.parse(r.rows_after) as Record<string, number>,
  }));
}

/** Removes (in place) the rows of erased traces: an exporter's late retry of what was erased. */
export function dropErased<T>(rows: T[], traceIdOf: (row: T) => string, erased: ErasedTraces | undefined): void {
  if (!erased?.any()) return;
  const kept = rows.filter((r) => !erased.has(traceIdOf(r)));
  erased.dropped += rows.length - kept.length;
  rows.splice(0, rows.length, ...kept);
}

/**
 * The trace ids erased so far, for dropping re-sent copies at ingest: loaded at start, extended
 * by this collector's erasures at once and re-read every minute (erasures made through another
 * collector sharing the server).
 */
export class ErasedTraces {
  private ids = new Set<string>();
  dropped = 0;

  any(): boolean {
    return this.ids.size > 0;
  }

  has(traceId: string): boolean {
    return this.ids.has(traceId);
  }

  add(traceIds: readonly string[]): void {
    for (const id of traceIds) this.ids.add(id);
  }

  async load(storage: Storage): Promise<void> {
    const rows = await storage.select<{ t: string }>(
      `SELECT DISTINCT arrayJoin(trace_ids) AS t FROM ${storage.database}.erasures`,
    );
    this.ids = new Set(rows.map((r) => r.t));
  }
}
