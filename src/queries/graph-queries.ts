/**
 * Reads of the graph for the API and CLI (SPEC §6). Every value reaches ClickHouse as a bound
 * parameter; node tables are read with FINAL so rewrites and duplicates never count twice.
 */
import { BadDataError, NotFoundError } from '../errors.ts';
import { hexToUuid, isUuid } from '../mapping/ids.ts';
import { nsToIso } from '../mapping/time.ts';
import { sessionMembers } from '../mapping/trace-tree.ts';
import {
  SESSION_STATUSES,
  type AgentDefinition,
  type AgentSession,
  type Decision,
  type SessionStatus,
} from '../mapping/types.ts';
import type { Storage } from '../storage/storage.ts';
import { readTranscript, type TranscriptEntry } from './transcript.ts';
import { EXPIRED } from '../retention/retention.ts';
import type { EvidenceStep } from '../mapping/roll-up.ts';

const ns = (column: string): string => `toString(toUnixTimestamp64Nano(${column}))`;

// Times leave ClickHouse as ns strings under *_ns aliases, so WHERE and ORDER BY still see the
// real DateTime64 columns (an alias with the column's own name would shadow it there).
const SESSION_COLUMNS = `* EXCEPT (version, model_usage) REPLACE (toFloat64(cost) AS cost),
  ${ns('session_start')} AS session_start_ns, if(session_end IS NULL, NULL, ${ns('assumeNotNull(session_end)')}) AS session_end_ns,
  ${ns('last_span_at')} AS last_span_at_ns, ${ns('updated_at')} AS updated_at_ns`;
// version: the newest session's (latest_version), not the largest string ("10.0" < "9.0");
// definitions written before migration 11 have no latest_version and keep the largest.
const DEFINITION_COLUMNS = `* EXCEPT (latest_version)
  REPLACE (if(toUnixTimestamp64Nano(latest_version.1) = 0, version, latest_version.2) AS version),
  ${ns('first_seen')} AS first_seen_ns, ${ns('last_seen')} AS last_seen_ns`;
const DECISION_COLUMNS = `*, ${ns('decided_at')} AS decided_at_ns`;

type Row = Record<string, unknown>;

/** Replaces each `<name>` with ISO text from `<name>_ns` and drops the `_ns` helpers. */
function withIsoTimes(row: Row, names: readonly string[]): Row {
  const out: Row = { ...row };
  for (const name of names) {
    const value = out[`${name}_ns`];
    out[name] = typeof value === 'string' ? nsToIso(value) : null;
    delete out[`${name}_ns`];
  }
  return out;
}

function toSession(row: Row): AgentSession {
  return withIsoTimes(row, ['session_start', 'session_end', 'last_span_at', 'updated_at']) as unknown as AgentSession;
}

function toDefinition(row: Row): AgentDefinition {
  return withIsoTimes(row, ['first_seen', 'last_seen']) as unknown as AgentDefinition;
}

function toDecision(row: Row): Decision {
  return withIsoTimes(row, ['decided_at']) as unknown as Decision;
}

function requireUuid(id: string, what: string): void {
  if (!isUuid(id)) throw new NotFoundError(`no ${what} with id ${JSON.stringify(id)} (ids are UUIDs)`);
}

/** Filters of `GET /api/sessions`, as received (strings from the query string). */
export interface SessionFilters {
  agent?: string;
  status?: string;
  from?: string;
  to?: string;
  trace_id?: string;
  conversation_id?: string;
  user_id?: string;
  limit?: string;
  cursor?: string;
}

/** A page of sessions, newest first; `next_cursor` fetches the next page. */
export interface SessionPage {
  sessions: AgentSession[];
  next_cursor: string | null;
}

/** Graph reads over one storage. */
export function createGraphQueries(storage: Storage) {
  const db = storage.database;

  const definition = async (id: string): Promise<AgentDefinition | null> => {
    const rows = await storage.read<Record<string, unknown>>(
      `SELECT ${DEFINITION_COLUMNS} FROM ${db}.agent_definitions FINAL WHERE id = {id:UUID}`,
      { id },
    );
    return rows[0] ? toDefinition(rows[0]) : null;
  };
  /** A session and its agent definition, one read after the other (beside the caller's other reads). */
  const sessionWithDefinition = async (
    id: string,
  ): Promise<{ session: AgentSession | undefined; agentDefinition: AgentDefinition | null }> => {
    const session = await sessionRow(id);
    return { session, agentDefinition: session ? await definition(session.agent_definition_id) : null };
  };
  const sessionRow = async (id: string): Promise<AgentSession | undefined> => {
    const rows = await storage.read<Record<string, unknown>>(
      `SELECT ${SESSION_COLUMNS} FROM ${db}.agent_sessions FINAL WHERE id = {id:UUID}`,
      { id },
    );
    return rows[0] ? toSession(rows[0]) : undefined;
  };

  const queries = {
    /** Session + agent definition + decisions + span transcript. */
    async session(id: string): Promise<{
      session: AgentSession;
      agent_definition: AgentDefinition | null;
      decisions: Decision[];
      transcript: TranscriptEntry[];
    }> {
      requireUuid(id, 'session');
      const sessionId = id.toLowerCase();
      // The session id is its trace id written as a UUID: the three reads run at once, each on its reader.
      const [withDefinition, decisions, spans] = await Promise.all([
        sessionWithDefinition(sessionId),
        storage.read<Record<string, unknown>>(
          `SELECT ${DECISION_COLUMNS} FROM ${db}.decisions FINAL WHERE session_id = {id:UUID} ORDER BY decided_at, id`,
          { id: sessionId },
        ),
        readTranscript(storage, sessionId.replaceAll('-', '')),
      ]);
      if (!withDefinition.session) throw new NotFoundError(`no session with id ${id}`);
      const { session, agentDefinition } = withDefinition;
      return {
        session,
        agent_definition: agentDefinition,
        decisions: decisions.map(toDecision),
        transcript: sessionMembers(spans, session.root_span_id),
      };
    },

    /** Decision + its session + agent definition + evidence (tool and LLM calls that ended before it). */
    async decision(id: string): Promise<{
      decision: Decision;
      session: AgentSession | null;
      agent_definition: AgentDefinition | null;
      evidence: TranscriptEntry[];
      content_expired?: true;
    }> {
      requireUuid(id, 'decision');
      const rows = await storage.read<Record<string, unknown>>(
        `SELECT ${DECISION_COLUMNS} FROM ${db}.decisions FINAL WHERE id = {id:UUID}`,
        { id: id.toLowerCase() },
      );
      if (!rows[0]) throw new NotFoundError(`no decision with id ${id}`);
      const decision = toDecision(rows[0]);
      const decidedAtNs = String(rows[0].decided_at_ns);
      const [{ session: found, agentDefinition }, spans] = await Promise.all([
        sessionWithDefinition(decision.session_id),
        readTranscript(storage, decision.trace_id),
      ]);
      const session = found ?? null;
      const transcript = sessionMembers(spans, session?.root_span_id ?? '');
      // SPEC §5: the session's tool and LLM calls that ended before the decision.
      const evidence = transcript
        .filter((e) => (e.kind === 'tool' || e.kind === 'llm') && BigInt(e.end_ns) < BigInt(decidedAtNs))
        .sort((a, b) => (BigInt(a.end_ns) < BigInt(b.end_ns) ? -1 : BigInt(a.end_ns) > BigInt(b.end_ns) ? 1 : 0));
      // Spans gone (--retain-spans shorter than --retain-graph): the calls kept with the graph.
      if (spans.length === 0) {
        const [kept] = await storage.read<{ calls: EvidenceStep[] }>(
          `SELECT calls FROM ${db}.session_calls FINAL WHERE session_id = {id:UUID}`,
          { id: decision.session_id },
        );
        const before = (kept?.calls ?? []).filter(
          (c) => BigInt(c.end_ns) < BigInt(decidedAtNs) && c.kind !== 'embedding',
        );
        if (before.length > 0) {
          return {
            decision,
            session,
            agent_definition: agentDefinition,
            evidence: before.map(fromEvidenceStep),
            content_expired: true,
          };
        }
      }
      const expired = evidence.some((e) => e.input === EXPIRED || e.output === EXPIRED);
      return {
        decision,
        session,
        agent_definition: agentDefinition,
        evidence,
        ...(expired ? { content_expired: true } : {}),
      };
    },

    /** Sessions matching the filters, newest first, keyset-paginated. */
    async sessions(filters: SessionFilters): Promise<SessionPage> {
      const where: string[] = [];
      const params: Record<string, unknown> = {};
      if (filters.agent) {
        params.agent = filters.agent;
        where.push(isUuid(filters.agent) ? 'agent_definition_id = {agent:UUID}' : 'agent_name = {agent:String}');
      }
      if (filters.status) {
        if (!SESSION_STATUSES.includes(filters.status as SessionStatus)) {
          throw new BadDataError(
            `status must be one of ${SESSION_STATUSES.join(', ')}; got ${JSON.stringify(filters.status)}`,
          );
        }
        params.status = filters.status;
        where.push('session_status = {status:String}');
      }
      for (const [key, op] of [
        ['from', '>='],
        ['to', '<'],
      ] as const) {
        const value = filters[key];
        if (!value) continue;
        const ms = parseIsoTime(value);
        if (ms === undefined)
          throw new BadDataError(
            `${key} must be an ISO 8601 time between 1900 and 2262, such as 2026-11-24T00:00:00Z; got ${JSON.stringify(value)}`,
          );
        params[key] = (BigInt(ms) * 1_000_000n).toString();
        where.push(`toUnixTimestamp64Nano(session_start) ${op} {${key}:Int64}`);
      }
      if (filters.trace_id) {
        if (!/^[0-9a-fA-F]{32}$/.test(filters.trace_id))
          throw new BadDataError(`trace_id must be 32 hex digits; got ${JSON.stringify(filters.trace_id)}`);
        // The session id is the trace id as a UUID: the table's key, so one granule is read.
        params.trace_session = hexToUuid(filters.trace_id);
        where.push('id = {trace_session:UUID}');
      }
      if (filters.conversation_id) {
        params.conversation_id = filters.conversation_id;
        where.push('conversation_id = {conversation_id:String}');
      }
      if (filters.user_id) {
        params.user_id = filters.user_id;
        where.push('user_id = {user_id:String}');
      }
      const limit = filters.limit === undefined ? 50 : /^\d{1,3}$/.test(filters.limit) ? Number(filters.limit) : NaN;
      if (!(limit >= 1 && limit <= 500))
        throw new BadDataError(`limit must be an integer from 1 to 500; got ${JSON.stringify(filters.limit)}`);
      if (filters.cursor) {
        const [startNs, id] = decodeCursor(filters.cursor);
        Object.assign(params, { cursor_start: startNs, cursor_id: id });
        where.push('(toUnixTimestamp64Nano(session_start), id) < ({cursor_start:Int64}, {cursor_id:UUID})');
      }
      params.limit = limit + 1;
      const rows = await storage.read<Record<string, unknown>>(
        `SELECT ${SESSION_COLUMNS} FROM ${db}.agent_sessions FINAL ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY session_start DESC, id DESC LIMIT {limit:UInt32}`,
        params,
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1] as { session_start_ns: string; id: string } | undefined;
      return {
        sessions: page.map(toSession),
        next_cursor: rows.length > limit && last ? encodeCursor(last.session_start_ns, last.id) : null,
      };
    },

    /** Every agent definition with its session figures. */
    async agents(): Promise<Array<AgentDefinition & AgentStats>> {
      const rows = await storage.read<Record<string, unknown>>(
        `SELECT d.*, s.* EXCEPT (agent_definition_id) FROM (SELECT ${DEFINITION_COLUMNS} FROM ${db}.agent_definitions FINAL) AS d
         LEFT JOIN (${STATS_SQL(db)}) AS s ON s.agent_definition_id = d.id ORDER BY d.title, d.id`,
      );
      return rows.map((r) => ({ ...toDefinition(r), ...toStats(r) }));
    },

    /** One agent definition, its figures and its latest sessions. */
    async agent(
      id: string,
    ): Promise<{ agent_definition: AgentDefinition & AgentStats; recent_sessions: AgentSession[] }> {
      requireUuid(id, 'agent definition');
      const found = await definition(id.toLowerCase());
      if (!found) throw new NotFoundError(`no agent definition with id ${id}`);
      const stats = await storage.read<Record<string, unknown>>(
        `SELECT * FROM (${STATS_SQL(db)}) WHERE agent_definition_id = {id:UUID}`,
        { id: found.id },
      );
      const recent = await queries.sessions({ agent: found.id, limit: '20' });
      return { agent_definition: { ...found, ...toStats(stats[0] ?? {}) }, recent_sessions: recent.sessions };
    },
  };
  return queries;
}

/** A stored evidence step as a transcript entry whose spans have expired: structure, no content. */
function fromEvidenceStep(step: EvidenceStep): TranscriptEntry {
  const { start_ns: start, end_ns: end } = step;
  return {
    span_id: step.span_id,
    parent_span_id: '',
    name: step.name,
    kind: step.kind,
    start: nsToIso(start),
    end: nsToIso(end),
    end_ns: end,
    duration_ms: Number(BigInt(end) - BigInt(start)) / 1e6,
    status_code: step.error ? 'Error' : '',
    status_message: '',
    error: step.error === 1,
    ...(step.kind === 'tool'
      ? { tool_name: step.tool }
      : { model: step.model, input_tokens: Number(step.input_tokens), output_tokens: Number(step.output_tokens) }),
    input: EXPIRED,
    output: EXPIRED,
  };
}

/** Session figures of one agent definition. */
export interface AgentStats {
  session_count: number;
  failed_sessions: number;
  total_cost: number;
  total_tokens: number;
  error_count: number;
}

const STATS_SQL = (db: string): string => `
  SELECT agent_definition_id, count() AS session_count, countIf(session_status = 'failed') AS failed_sessions,
         toFloat64(sum(cost)) AS total_cost, sum(tokens_used) AS total_tokens, sum(error_count) AS error_count
  FROM ${db}.agent_sessions FINAL GROUP BY agent_definition_id`;

function toStats(r: Record<string, unknown>): AgentStats {
  const n = (k: string): number => Number(r[k] ?? 0);
  return {
    session_count: n('session_count'),
    failed_sessions: n('failed_sessions'),
    total_cost: n('total_cost'),
    total_tokens: n('total_tokens'),
    error_count: n('error_count'),
  };
}

// DateTime64(9) holds 1900-01-01 … 2262-04-11; nanoseconds beyond that would wrap in Int64.
const MIN_TIME_MS = Date.UTC(1900, 0, 1);
const MAX_TIME_MS = Date.UTC(2262, 3, 11);

/** An ISO 8601 date or date-time in ms; without an offset it is UTC (never the server's zone). */
export function parseIsoTime(text: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(
    text.trim(),
  );
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2] ?? '00:00'}${m[3] ?? 'Z'}`);
  return Number.isNaN(ms) || ms < MIN_TIME_MS || ms > MAX_TIME_MS ? undefined : ms;
}

function encodeCursor(startNs: string, id: string): string {
  return Buffer.from(`${startNs}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  const [startNs, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!startNs || !/^\d{1,19}$/.test(startNs) || BigInt(startNs) >= 2n ** 63n || !id || !isUuid(id))
    throw new BadDataError('cursor is not one this API returned');
  return [startNs, id];
}
