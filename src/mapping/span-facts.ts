/**
 * One span → the facts the session roll-up needs (a row of `session_spans`). Computed once at
 * ingest, so the roll-up reads a narrow table instead of re-classifying raw spans. Pure.
 */
import { cutText } from '../conventions/attributes.ts';
import { classifySpan } from '../conventions/classify.ts';
import { recordedDecisions, type RecordedDecision, type TimedEvent } from '../conventions/decisions.ts';
import {
  agentIdentity,
  agentName,
  conversationId,
  environment,
  explicitTurns,
  finalOutput,
  firstInput,
  isError,
  modelName,
  precomputedCost,
  providerName,
  tags,
  tokenUsage,
  requestedToolCalls,
  toolCallId,
  toolName,
  userId,
} from '../conventions/fields.ts';
import type { SpanRow } from '../otlp/span-row.ts';

/** Longest description and output summary of a session, in characters (SPEC §3). */
const SUMMARY_LIMIT = 500;

/** A text as the session shows it: whitespace-trimmed, then its first SUMMARY_LIMIT characters. */
export function summaryText(text: string): string {
  return cutText(text.trim(), SUMMARY_LIMIT);
}

/** A row of `session_spans`: what one span contributes to its session. */
export interface SpanFacts {
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  span_name: string;
  /** Nanoseconds since the epoch, decimal strings. */
  start_time: string;
  end_time: string;
  service_name: string;
  environment: string;
  status_code: string;
  is_llm: 0 | 1;
  is_embedding: 0 | 1;
  is_tool: 0 | 1;
  is_agent: 0 | 1;
  is_aggregate: 0 | 1;
  agent_name: string;
  agent_id: string;
  agent_version: string;
  agent_description: string;
  conversation_id: string;
  user_id: string;
  tags: string[];
  model: string;
  provider: string;
  reports_usage: 0 | 1;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  total_tokens: number;
  precomputed_cost: number | null;
  tool_name: string;
  /** The tool call's id (`gen_ai.tool.call.id`…), '' when absent: spans sharing one are one call. */
  tool_call_id: string;
  /** JSON array of the tool calls an LLM span's answer asks for ({id, name}), '' when none. */
  requested_tools: string;
  has_error: 0 | 1;
  /** The span's input and output as summaryText, kept only where a session may show them (keepSummaryTexts). */
  input_text: string;
  output_text: string;
  turns: number | null;
  /** JSON array of RecordedDecision. */
  decisions: string;
  /** '' for a span; 'log' for a log event standing for one (log-facts.ts), counted only where no span tells the same. */
  origin: '' | 'log';
}

const bit = (b: boolean): 0 | 1 => (b ? 1 : 0);
const jsonOrEmpty = (list: readonly unknown[]): string => (list.length > 0 ? JSON.stringify(list) : '');

/** The events of a span row in the shape the conventions read. */
export function spanEvents(row: SpanRow): TimedEvent[] {
  return row['Events.Name'].map((name, i) => ({
    name,
    attributes: row['Events.Attributes'][i] ?? {},
    timeNs: row['Events.Timestamp'][i] ?? row.Timestamp,
  }));
}

/** End time of a span row in nanoseconds. */
export function endNanos(row: SpanRow): string {
  return (BigInt(row.Timestamp) + BigInt(row.Duration)).toString();
}

/** Derives the facts of one span. */
export function toSpanFacts(row: SpanRow): SpanFacts {
  const attrs = row.SpanAttributes;
  const classes = classifySpan(attrs, row.SpanName);
  const events = spanEvents(row);
  const usage = tokenUsage(attrs, {
    scopeName: row.ScopeName,
    spanName: row.SpanName,
    resource: row.ResourceAttributes,
  });
  const identity = agentIdentity(attrs);
  const end = endNanos(row);
  const decisions: RecordedDecision[] = recordedDecisions(attrs, end, events);
  return {
    trace_id: row.TraceId,
    span_id: row.SpanId,
    parent_span_id: row.ParentSpanId,
    span_name: row.SpanName,
    start_time: row.Timestamp,
    end_time: end,
    service_name: row.ServiceName,
    environment: environment(attrs, row.ResourceAttributes),
    status_code: row.StatusCode,
    is_llm: bit(classes.llm),
    is_embedding: bit(classes.embedding),
    is_tool: bit(classes.tool),
    is_agent: bit(classes.agent),
    is_aggregate: bit(classes.aggregate),
    agent_name: classes.agent || row.ParentSpanId === '' ? agentName(attrs, row.SpanName) : '',
    agent_id: identity.id,
    agent_version: identity.version,
    agent_description: identity.description,
    conversation_id: conversationId(attrs),
    user_id: userId(attrs),
    tags: tags(attrs, row.ResourceAttributes),
    model: modelName(attrs),
    provider: providerName(attrs),
    reports_usage: bit(usage !== undefined),
    input_tokens: usage?.input ?? 0,
    output_tokens: usage?.output ?? 0,
    cache_read_tokens: usage?.cacheRead ?? 0,
    cache_write_tokens: usage?.cacheWrite ?? 0,
    reasoning_tokens: usage?.reasoning ?? 0,
    total_tokens: usage?.total ?? 0,
    precomputed_cost: precomputedCost(attrs) ?? null,
    tool_name: classes.tool ? toolName(attrs, row.SpanName) : '',
    tool_call_id: classes.tool ? toolCallId(attrs) : '',
    requested_tools: classes.llm ? jsonOrEmpty(requestedToolCalls(attrs)) : '',
    has_error: bit(isError(attrs, row.StatusCode, events)),
    input_text: summaryText(firstInput(attrs, events)),
    output_text: summaryText(finalOutput(attrs, events)),
    turns: explicitTurns(attrs) ?? null,
    decisions: jsonOrEmpty(decisions),
    origin: '',
  };
}

/** Compares two non-negative decimal strings (nanoseconds) without BigInt. */
export function compareNs(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Clears every text among `facts` (one request's) that no session can show, so `session_spans`
 * keeps no copy of message text beyond what the roll-up needs (roll-up.ts): the texts of spans
 * that may be a session's root (agent spans, parentless spans, log events) stay; of the others,
 * per trace, only the earliest input (the description when the root has none) and the latest
 * answer of a model call (the output summary when the root has none). A later request may hold
 * an earlier or later one: the roll-up picks among the survivors of every request, which are the
 * same it would pick among all spans. Mutates and returns `facts`.
 */
export function keepSummaryTexts(facts: SpanFacts[]): SpanFacts[] {
  const earliestInput = new Map<string, SpanFacts>();
  const latestAnswer = new Map<string, SpanFacts>();
  const isEarlier = (a: SpanFacts, b: SpanFacts): boolean =>
    (compareNs(a.start_time, b.start_time) || (a.span_id < b.span_id ? -1 : 1)) < 0;
  const isLater = (a: SpanFacts, b: SpanFacts): boolean =>
    (compareNs(a.end_time, b.end_time) || compareNs(a.start_time, b.start_time) || (a.span_id > b.span_id ? 1 : -1)) >
    0;
  for (const f of facts) {
    if (f.is_agent === 1 || f.parent_span_id === '' || f.origin === 'log') continue;
    if (f.input_text !== '') {
      const best = earliestInput.get(f.trace_id);
      if (!best || isEarlier(f, best)) earliestInput.set(f.trace_id, f);
    }
    if (f.output_text !== '' && f.is_llm === 1) {
      const best = latestAnswer.get(f.trace_id);
      if (!best || isLater(f, best)) latestAnswer.set(f.trace_id, f);
    }
  }
  for (const f of facts) {
    if (f.is_agent === 1 || f.parent_span_id === '' || f.origin === 'log') continue;
    if (f.input_text !== '' && earliestInput.get(f.trace_id) !== f) f.input_text = '';
    if (f.output_text !== '' && latestAnswer.get(f.trace_id) !== f) f.output_text = '';
  }
  return facts;
}
