/**
 * Claude Code's log events → the facts the session roll-up reads (rows of `session_spans`, with
 * `origin = 'log'`). Its default telemetry is events, not spans (CONVENTIONS.md): `api_request`
 * is a model call (tokens in Anthropic's meaning, `cost_usd`), `tool_result` a tool call,
 * `user_prompt` / `assistant_response` the first input and the answer, `tool_decision` a
 * Decision (which tool use was allowed or refused, and by what). An event emitted under a trace
 * (tracing beta on) belongs to that trace's session; without one, to a session per Claude
 * `session.id`. The roll-up counts an event only where the session has no span of its kind, so
 * a session sent both ways is never counted twice. Pure.
 */
import { createHash } from 'node:crypto';
import type { RecordedDecision } from '../conventions/decisions.ts';
import type { LogRow } from '../otlp/decode-logs-row.ts';
import { summaryText, type SpanFacts } from './span-facts.ts';

/** The events read, by `event.name`. */
const EVENTS = new Set(['api_request', 'tool_result', 'user_prompt', 'assistant_response', 'tool_decision']);

/** The trace id a Claude Code session's events share when no trace carries them. */
export function claudeSessionTraceId(sessionId: string): string {
  return createHash('sha256').update(`claude_code.session:${sessionId}`).digest('hex').slice(0, 32);
}

/** True for a record Claude Code emitted (its events are named `claude_code.<event>`). */
function isClaudeCode(row: LogRow): boolean {
  return (
    row.Body.startsWith('claude_code.') ||
    row.EventName.startsWith('claude_code.') ||
    row.ScopeName.startsWith('com.anthropic.claude_code')
  );
}

/** The facts of one Claude Code event, or undefined for any other record. */
export function claudeCodeFacts(row: LogRow): SpanFacts | undefined {
  const a = row.LogAttributes;
  const event = a['event.name'] ?? '';
  const sessionId = a['session.id'] ?? '';
  if (!EVENTS.has(event) || !isClaudeCode(row) || (row.TraceId === '' && sessionId === '')) return undefined;
  const endNs = BigInt(row.Timestamp);
  // tool_result and api_request are emitted when the call ends: it started duration_ms before.
  const durationNs = BigInt(Math.max(0, Math.round(Number(a.duration_ms ?? 0) || 0))) * 1_000_000n;
  const start = endNs > durationNs ? endNs - durationNs : 0n;
  const facts = emptyFacts(row, sessionId, start.toString());
  switch (event) {
    case 'api_request':
      return { ...facts, ...apiRequest(a) };
    case 'tool_result':
      return {
        ...facts,
        is_tool: 1,
        tool_name: a.tool_name ?? '',
        tool_call_id: a.tool_use_id ?? '',
        has_error: a.success === 'false' ? 1 : 0,
      };
    case 'user_prompt':
      return { ...facts, input_text: summaryText(a.prompt ?? '') };
    case 'assistant_response':
      return { ...facts, output_text: summaryText(a.response ?? '') };
    default:
      return { ...facts, decisions: JSON.stringify([toolDecision(a, row.Timestamp)]) };
  }
}

function emptyFacts(row: LogRow, sessionId: string, startNs: string): SpanFacts {
  const a = row.LogAttributes;
  return {
    trace_id: row.TraceId || claudeSessionTraceId(sessionId),
    // The same record re-sent by an exporter is the same fact: its id comes from its content.
    span_id: createHash('sha256')
      .update(`${row.Timestamp}|${a['event.name']}|${a['event.sequence'] ?? ''}|${sessionId}|${a['prompt.id'] ?? ''}`)
      .digest('hex')
      .slice(0, 16),
    parent_span_id: row.TraceId ? row.SpanId : '',
    span_name: `claude_code.${a['event.name'] ?? ''}`,
    start_time: startNs,
    end_time: row.Timestamp,
    service_name: row.ServiceName,
    environment: row.ResourceAttributes['deployment.environment.name'] ?? '',
    status_code: 'Unset',
    is_llm: 0,
    is_embedding: 0,
    is_tool: 0,
    is_agent: 0,
    is_aggregate: 0,
    agent_name: row.ServiceName,
    agent_id: '',
    agent_version: row.ResourceAttributes['service.version'] ?? '',
    agent_description: '',
    conversation_id: sessionId,
    user_id: a['user.id'] ?? '',
    tags: [],
    model: '',
    provider: '',
    reports_usage: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    total_tokens: 0,
    precomputed_cost: null,
    tool_name: '',
    tool_call_id: '',
    requested_tools: '',
    has_error: 0,
    input_text: '',
    output_text: '',
    turns: null,
    decisions: '',
    origin: 'log',
  };
}

const count = (value: string | undefined): number => {
  const n = Math.round(Number(value ?? 0));
  return Number.isFinite(n) && n > 0 ? n : 0;
};

/** A model call: Anthropic's input excludes the cache, so input = input + cache read + cache write. */
function apiRequest(a: Record<string, string>): Partial<SpanFacts> {
  const cacheRead = count(a.cache_read_tokens);
  const cacheWrite = count(a.cache_creation_tokens);
  const input = count(a.input_tokens) + cacheRead + cacheWrite;
  const output = count(a.output_tokens);
  const cost = Number(a.cost_usd);
  return {
    is_llm: 1,
    model: a.model ?? '',
    provider: 'anthropic',
    reports_usage: 1,
    input_tokens: input,
    output_tokens: output,
    cache_read_tokens: cacheRead,
    cache_write_tokens: cacheWrite,
    total_tokens: input + output,
    precomputed_cost: Number.isFinite(cost) ? cost : null,
  };
}

/** `tool_decision` → a Decision: "Allow Bash" / "Reject Write", decided by its source (config, user, hook…). */
function toolDecision(a: Record<string, string>, timeNs: string): RecordedDecision {
  const accepted = a.decision === 'accept';
  const tool = a.tool_name ?? 'tool';
  return {
    title: `${accepted ? 'Allow' : 'Reject'} ${tool}`,
    given_id: '',
    description: a.tool_parameters ?? '',
    context: [
      `tool_use_id=${a.tool_use_id ?? ''}`,
      `permission_mode=${a.permission_mode ?? ''}`,
      `tool_source=${a.tool_source ?? ''}`,
    ].join('; '),
    rationale: `decided by ${a.source ?? 'unknown'}`,
    consequences: accepted ? `${tool} ran` : `${tool} did not run`,
    status: accepted ? 'accepted' : 'rejected',
    tags: ['claude_code', 'tool_decision', tool],
    decided_at_ns: timeNs,
    event_index: -1,
  };
}
