/**
 * A trace's spans read back from `otel_traces` (de-duplicated) as a transcript: what each step
 * was (agent, LLM call, tool call…), when, and its inputs and outputs where the span carried them.
 */
import { classifySpan } from '../conventions/classify.ts';
import {
  finalOutput,
  isError,
  llmInput,
  modelName,
  tokenUsage,
  toolArguments,
  toolName,
  toolResult,
} from '../conventions/fields.ts';
import { endNanos, spanEvents } from '../mapping/span-facts.ts';
import { nsToIso } from '../mapping/time.ts';
import type { SpanRow } from '../otlp/span-row.ts';
import { RAW_SPAN_COLUMNS } from '../storage/raw-span-columns.ts';
import type { Storage } from '../storage/storage.ts';
import { EXPIRED } from '../retention/retention.ts';

/** One step of a session's transcript. */
export interface TranscriptEntry {
  span_id: string;
  parent_span_id: string;
  name: string;
  kind: 'agent' | 'llm' | 'embedding' | 'tool' | 'span';
  start: string;
  end: string;
  /** End in ns, for exact ordering and comparison with a decision time. */
  end_ns: string;
  duration_ms: number;
  status_code: string;
  status_message: string;
  error: boolean;
  tool_name?: string;
  model?: string;
  input_tokens?: number;
  output_tokens?: number;
  input: string;
  output: string;
}

/**
 * Reads the spans of a trace in start order, each once. The trace's time range comes from
 * `otel_traces_trace_id_ts` (ordered by trace id), so only the partitions of those days are
 * searched; a trace stored before that table existed is searched everywhere. (`t.Timestamp` is
 * the column: plain `Timestamp` is RAW_SPAN_COLUMNS' text alias. The bounds are made DateTime64:
 * compared with a DateTime, `…32.72` is rounded to 33 s first and `< 33 s` fails.)
 */
export async function readTranscript(storage: Storage, traceId: string): Promise<TranscriptEntry[]> {
  return (await readTraceRows(storage, traceId)).map(toTranscriptEntry);
}

/** The stored rows of a trace (or of one of its spans), each span once, in start order. */
async function readTraceRows(storage: Storage, traceId: string, spanId?: string): Promise<SpanRow[]> {
  const db = storage.database;
  return storage.read<SpanRow>(
    `WITH (SELECT (min(Start), max(End), count()) FROM ${db}.otel_traces_trace_id_ts WHERE TraceId = {trace:String}) AS range
     SELECT ${RAW_SPAN_COLUMNS} FROM ${db}.otel_traces AS t
     WHERE TraceId = {trace:String} ${spanId === undefined ? '' : 'AND SpanId = {span:String}'}
       AND (range.3 = 0 OR (t.Timestamp >= toDateTime64(range.1, 9) AND t.Timestamp < toDateTime64(range.2 + 1, 9)))
     ORDER BY Timestamp, SpanId LIMIT 1 BY SpanId`,
    { trace: traceId, ...(spanId === undefined ? {} : { span: spanId }) },
  );
}

/** One span as stored, for a span's detail view: every attribute, its resource, scope, events and links. */
export interface SpanRecord {
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  name: string;
  span_kind: string;
  service_name: string;
  start: string;
  end: string;
  duration_ms: number;
  status_code: string;
  status_message: string;
  attributes: Record<string, string>;
  resource: Record<string, string>;
  scope: { name: string; version: string };
  events: Array<{ time: string; name: string; attributes: Record<string, string> }>;
  links: Array<{ trace_id: string; span_id: string; attributes: Record<string, string> }>;
}

/** `GET /api/spans/:trace_id/:span_id`: the span's stored row, or undefined. */
export async function readSpan(storage: Storage, traceId: string, spanId: string): Promise<SpanRecord | undefined> {
  const [row] = await readTraceRows(storage, traceId, spanId);
  if (!row) return undefined;
  return {
    trace_id: row.TraceId,
    span_id: row.SpanId,
    parent_span_id: row.ParentSpanId,
    name: row.SpanName,
    span_kind: row.SpanKind,
    service_name: row.ServiceName,
    start: nsToIso(row.Timestamp),
    end: nsToIso(endNanos(row)),
    duration_ms: Number(row.Duration) / 1e6,
    status_code: row.StatusCode,
    status_message: row.StatusMessage,
    attributes: row.SpanAttributes,
    resource: row.ResourceAttributes,
    scope: { name: row.ScopeName, version: row.ScopeVersion },
    events: spanEvents(row).map((e) => ({ time: nsToIso(e.timeNs), name: e.name, attributes: e.attributes })),
    links: row['Links.TraceId'].map((trace, i) => ({
      trace_id: trace,
      span_id: row['Links.SpanId'][i] ?? '',
      attributes: row['Links.Attributes'][i] ?? {},
    })),
  };
}

/** One raw span → a transcript entry. */
export function toTranscriptEntry(row: SpanRow): TranscriptEntry {
  const attrs = row.SpanAttributes;
  const classes = classifySpan(attrs, row.SpanName);
  const kind = classes.llm
    ? 'llm'
    : classes.tool
      ? 'tool'
      : classes.embedding
        ? 'embedding'
        : classes.agent
          ? 'agent'
          : 'span';
  const events = spanEvents(row);
  const end = endNanos(row);
  const entry: TranscriptEntry = {
    span_id: row.SpanId,
    parent_span_id: row.ParentSpanId,
    name: row.SpanName,
    kind,
    start: nsToIso(row.Timestamp),
    end: nsToIso(end),
    end_ns: end,
    duration_ms: Number(row.Duration) / 1e6,
    status_code: row.StatusCode,
    status_message: row.StatusMessage,
    error: isError(attrs, row.StatusCode, events),
    input: kind === 'tool' ? toolArguments(attrs) : llmInput(attrs),
    output: kind === 'tool' ? toolResult(attrs) : finalOutput(attrs, events),
  };
  // Content expired (--retain-content): say so rather than show nothing.
  if (Object.values(attrs).includes(EXPIRED) || events.some((e) => Object.values(e.attributes).includes(EXPIRED))) {
    entry.input ||= EXPIRED;
    entry.output ||= EXPIRED;
  }
  if (kind === 'tool') entry.tool_name = toolName(attrs, row.SpanName);
  if (kind === 'llm' || kind === 'embedding') {
    const usage = tokenUsage(attrs, {
      scopeName: row.ScopeName,
      spanName: row.SpanName,
      resource: row.ResourceAttributes,
    });
    entry.model = modelName(attrs);
    if (usage) Object.assign(entry, { input_tokens: usage.input, output_tokens: usage.output });
  }
  return entry;
}
