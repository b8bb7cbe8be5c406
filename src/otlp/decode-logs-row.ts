/**
 * The decoded form of one OTLP log record, shaped as a row of the `otel_logs` table (the
 * OpenTelemetry Collector ClickHouse exporter's schema, see `storage/schema.ts`), and the rules
 * both log decoders share, so the same request stores identical rows in JSON and protobuf.
 * Values follow the exporter's `pushLogsData`: Timestamp falls back to ObservedTimestamp when 0,
 * ids are lowercase hex with an all-zero id stored as '', flags and severity number are cut to
 * 8 bits (`uint8(…)`), Body and attribute values are rendered as pdata's `AsString()`.
 */
import { applySpanLimits, type AttributeMaps, type LimitStats, type SpanLimits } from './limits.ts';
import type { OtlpBody, OtlpFormat } from './response.ts';
import { MAX_TIME_NS } from './span-row.ts';

/** One `otel_logs` row; `Timestamp` is nanoseconds since the epoch as a decimal string. */
export interface LogRow {
  Timestamp: string;
  TraceId: string;
  SpanId: string;
  TraceFlags: number;
  SeverityText: string;
  SeverityNumber: number;
  ServiceName: string;
  Body: string;
  ResourceSchemaUrl: string;
  ResourceAttributes: Record<string, string>;
  ScopeSchemaUrl: string;
  ScopeName: string;
  ScopeVersion: string;
  ScopeAttributes: Record<string, string>;
  LogAttributes: Record<string, string>;
  EventName: string;
}

/** What a log decoder returns: the records it accepted and why it refused the others (OTLP partial success). */
export interface DecodedLogs {
  records: LogRow[];
  rejectedLogRecords: number;
  /** One line per distinct reason (at most MAX_REJECT_REASONS), e.g. "…logRecords[3]: trace id must be …". */
  rejectReasons: string[];
}

/** Distinct reasons kept for the partial-success message: enough to debug, bounded for hostile input. */
export const MAX_REJECT_REASONS = 10;

/** `SeverityNumber` enum names without their `SEVERITY_NUMBER_` prefix, by value (logs.proto). */
export const SEVERITY_NAMES: readonly string[] = [
  'UNSPECIFIED',
  ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((level) => [
    level,
    `${level}2`,
    `${level}3`,
    `${level}4`,
  ]),
];

/** The fields of a record as read from the wire, before the exporter's rules turn them into a row. */
export interface WireLogRecord {
  timeNs: bigint;
  observedNs: bigint;
  /** Lowercase hex as received: '' when absent. */
  traceId: string;
  spanId: string;
  flags: number;
  severityNumber: number;
  severityText: string;
  body: string;
  attributes: Record<string, string>;
  eventName: string;
}

/** Resource and scope of a record, shared by every row of their ResourceLogs / ScopeLogs. */
export type LogOrigin = Pick<
  LogRow,
  | 'ServiceName'
  | 'ResourceSchemaUrl'
  | 'ResourceAttributes'
  | 'ScopeSchemaUrl'
  | 'ScopeName'
  | 'ScopeVersion'
  | 'ScopeAttributes'
>;

const ZERO_ID = /^0+$/;

/** The row the exporter would write for `record`, or why the record cannot be stored. */
export function toLogRow(record: WireLogRecord, origin: LogOrigin): LogRow | string {
  const { traceId, spanId } = record;
  // OTLP ids are optional on logs: absent (or all zeros, which pdata treats as empty) is valid.
  if (traceId.length !== 0 && traceId.length !== 32)
    return `trace id must be empty or 16 bytes, got ${traceId.length / 2}`;
  if (spanId.length !== 0 && spanId.length !== 16) return `span id must be empty or 8 bytes, got ${spanId.length / 2}`;
  const time = record.timeNs === 0n ? record.observedNs : record.timeNs;
  if (time > MAX_TIME_NS) return 'time is after 2262-04-11, beyond what can be stored';
  return {
    Timestamp: time.toString(),
    TraceId: ZERO_ID.test(traceId) ? '' : traceId,
    SpanId: ZERO_ID.test(spanId) ? '' : spanId,
    TraceFlags: record.flags & 0xff,
    SeverityText: record.severityText,
    SeverityNumber: record.severityNumber & 0xff,
    ServiceName: origin.ServiceName,
    Body: record.body,
    ResourceSchemaUrl: origin.ResourceSchemaUrl,
    ResourceAttributes: origin.ResourceAttributes,
    ScopeSchemaUrl: origin.ScopeSchemaUrl,
    ScopeName: origin.ScopeName,
    ScopeVersion: origin.ScopeVersion,
    ScopeAttributes: origin.ScopeAttributes,
    LogAttributes: record.attributes,
    EventName: record.eventName,
  };
}

/** Counts a refused record and keeps its reason (distinct, bounded) for the partial-success message. */
export function rejectRecord(out: DecodedLogs, where: string, problem: string): void {
  out.rejectedLogRecords++;
  const reason = `${where}: ${problem}`;
  if (out.rejectReasons.length < MAX_REJECT_REASONS && !out.rejectReasons.includes(reason))
    out.rejectReasons.push(reason);
}

/**
 * Applies the span attribute limits (value size, attribute count) to every attribute map of the
 * rows, in place. Body is left whole, as the exporter stores it (the body-size limit bounds it).
 */
export function applyLogLimits(rows: LogRow[], limits: SpanLimits): LimitStats {
  // applySpanLimits reads and replaces only these four maps (and remembers maps shared between
  // rows): views over the log maps let logs share its one implementation of the markers.
  const views = rows.map((r): AttributeMaps => ({
    SpanAttributes: r.LogAttributes,
    ResourceAttributes: r.ResourceAttributes,
    'Events.Attributes': [r.ScopeAttributes],
    'Links.Attributes': [],
  }));
  const stats = applySpanLimits(views, limits);
  views.forEach((v, i) => {
    const row = rows[i]!;
    row.LogAttributes = v.SpanAttributes;
    row.ResourceAttributes = v.ResourceAttributes;
    row.ScopeAttributes = v['Events.Attributes'][0] ?? row.ScopeAttributes;
  });
  return stats;
}

/**
 * `ExportLogsServiceResponse` in the request's encoding; `partial_success` only when records
 * were rejected. The protobuf form is byte-identical to the trace response (same field numbers);
 * the JSON key is `rejectedLogRecords`.
 */
export function encodeLogsExportResponse(format: OtlpFormat, rejected: number, errorMessage: string): OtlpBody {
  if (format === 'json') {
    const body = rejected > 0 ? { partialSuccess: { rejectedLogRecords: String(rejected), errorMessage } } : {};
    return { contentType: 'application/json', body: JSON.stringify(body) };
  }
  if (rejected === 0) return { contentType: 'application/x-protobuf', body: new Uint8Array(0) };
  // ExportLogsPartialSuccess { int64 rejected_log_records = 1; string error_message = 2; }
  const message = Buffer.from(errorMessage, 'utf8');
  const partial = [8, ...varint(rejected), 18, ...varint(message.length), ...message];
  return { contentType: 'application/x-protobuf', body: Uint8Array.from([10, ...varint(partial.length), ...partial]) };
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}
