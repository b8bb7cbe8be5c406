/**
 * OTLP/JSON → `otel_traces` rows, following the OTLP/JSON rules (opentelemetry-proto
 * docs/specification.md): hex ids (any case), 64-bit integers as strings or numbers, enums as
 * numbers or names, lowerCamelCase or snake_case keys, unknown fields ignored. The value rules
 * are json-values.ts's, shared with the log decoder so both read a value alike.
 */
import {
  SPAN_KIND_NAMES,
  STATUS_CODE_NAMES,
  checkSpanIds,
  checkSpanTimes,
  durationNanos,
  type DecodedTraces,
  type SpanRow,
} from './span-row.ts';
import {
  UNSIGNED_NUMERAL,
  asArray,
  asObject,
  attributes,
  enumValue,
  field,
  hexId,
  optObject,
  optString,
  parseOtlpJson,
  spanNanos,
  type JsonObject,
} from './json-values.ts';

const MAX_REASONS = 10;

/** Decodes an OTLP/JSON `ExportTraceServiceRequest`; throws BadDataError if it is not one. */
export function decodeTraceRequestJson(body: Uint8Array): DecodedTraces {
  const root = asObject(parseOtlpJson(body), 'request');
  const out: DecodedTraces = { spans: [], rejectedSpans: 0, rejectReasons: [] };
  const reasons = new Set<string>();
  asArray(field(root, 'resourceSpans', 'resource_spans'), 'resourceSpans').forEach((rsJson, ri) => {
    const rsPath = `resourceSpans[${ri}]`;
    const rs = asObject(rsJson, rsPath);
    const resource = optObject(field(rs, 'resource'), `${rsPath}.resource`);
    const resourceAttributes = attributes(resource && field(resource, 'attributes'), `${rsPath}.resource.attributes`);
    const serviceName = resourceAttributes['service.name'] ?? '';
    asArray(field(rs, 'scopeSpans', 'scope_spans'), `${rsPath}.scopeSpans`).forEach((ssJson, si) => {
      const ssPath = `${rsPath}.scopeSpans[${si}]`;
      const ss = asObject(ssJson, ssPath);
      const scope = optObject(field(ss, 'scope'), `${ssPath}.scope`);
      const scopeName = optString(scope && field(scope, 'name'), `${ssPath}.scope.name`);
      const scopeVersion = optString(scope && field(scope, 'version'), `${ssPath}.scope.version`);
      asArray(field(ss, 'spans'), `${ssPath}.spans`).forEach((spanJson, pi) => {
        const path = `${ssPath}.spans[${pi}]`;
        const row = toSpanRow(asObject(spanJson, path), path, {
          resourceAttributes,
          serviceName,
          scopeName,
          scopeVersion,
        });
        if (typeof row === 'string') {
          out.rejectedSpans++;
          if (reasons.size < MAX_REASONS) reasons.add(`${path}: ${row}`);
        } else {
          out.spans.push(row);
        }
      });
    });
  });
  out.rejectReasons = [...reasons];
  return out;
}

interface SpanContext {
  resourceAttributes: Record<string, string>;
  serviceName: string;
  scopeName: string;
  scopeVersion: string;
}

/** One span object → row, or the reason the span must be rejected (bad ids). */
function toSpanRow(span: JsonObject, path: string, ctx: SpanContext): SpanRow | string {
  const traceId = hexId(field(span, 'traceId', 'trace_id'), `${path}.traceId`);
  const spanId = hexId(field(span, 'spanId', 'span_id'), `${path}.spanId`);
  const parent = hexId(field(span, 'parentSpanId', 'parent_span_id'), `${path}.parentSpanId`);
  if (traceId === null || spanId === null || parent === null) return 'ids must be hex strings';
  const parentSpanId = /^0+$/.test(parent) ? '' : parent;
  const idProblem = checkSpanIds(traceId, spanId, parentSpanId);
  if (idProblem) return idProblem;

  const start = spanNanos(field(span, 'startTimeUnixNano', 'start_time_unix_nano'), `${path}.startTimeUnixNano`);
  const end = spanNanos(field(span, 'endTimeUnixNano', 'end_time_unix_nano'), `${path}.endTimeUnixNano`);
  const status = optObject(field(span, 'status'), `${path}.status`);
  const row: SpanRow = {
    Timestamp: start,
    TraceId: traceId,
    SpanId: spanId,
    ParentSpanId: parentSpanId,
    TraceState: optString(field(span, 'traceState', 'trace_state'), `${path}.traceState`),
    SpanName: optString(field(span, 'name'), `${path}.name`),
    SpanKind:
      SPAN_KIND_NAMES[
        enumValue(field(span, 'kind'), 'SPAN_KIND_', SPAN_KIND_NAMES, `${path}.kind`, UNSIGNED_NUMERAL)
      ] ?? 'Unspecified',
    ServiceName: ctx.serviceName,
    ResourceAttributes: ctx.resourceAttributes,
    ScopeName: ctx.scopeName,
    ScopeVersion: ctx.scopeVersion,
    SpanAttributes: attributes(field(span, 'attributes'), `${path}.attributes`),
    Duration: durationNanos(start, end),
    StatusCode:
      STATUS_CODE_NAMES[
        enumValue(
          status && field(status, 'code'),
          'STATUS_CODE_',
          STATUS_CODE_NAMES,
          `${path}.status.code`,
          UNSIGNED_NUMERAL,
        )
      ] ?? 'Unset',
    StatusMessage: optString(status && field(status, 'message'), `${path}.status.message`),
    'Events.Timestamp': [],
    'Events.Name': [],
    'Events.Attributes': [],
    'Links.TraceId': [],
    'Links.SpanId': [],
    'Links.TraceState': [],
    'Links.Attributes': [],
  };
  asArray(field(span, 'events'), `${path}.events`).forEach((evJson, i) => {
    const ev = asObject(evJson, `${path}.events[${i}]`);
    row['Events.Timestamp'].push(
      spanNanos(field(ev, 'timeUnixNano', 'time_unix_nano'), `${path}.events[${i}].timeUnixNano`),
    );
    row['Events.Name'].push(optString(field(ev, 'name'), `${path}.events[${i}].name`));
    row['Events.Attributes'].push(attributes(field(ev, 'attributes'), `${path}.events[${i}].attributes`));
  });
  const links = asArray(field(span, 'links'), `${path}.links`);
  for (let i = 0; i < links.length; i++) {
    const link = asObject(links[i] ?? null, `${path}.links[${i}]`);
    const linkTrace = hexId(field(link, 'traceId', 'trace_id'), `${path}.links[${i}].traceId`);
    const linkSpan = hexId(field(link, 'spanId', 'span_id'), `${path}.links[${i}].spanId`);
    if (linkTrace?.length !== 32 || linkSpan?.length !== 16) {
      return `link ${i} must have a 16-byte trace id and an 8-byte span id`;
    }
    row['Links.TraceId'].push(linkTrace);
    row['Links.SpanId'].push(linkSpan);
    row['Links.TraceState'].push(optString(field(link, 'traceState', 'trace_state'), `${path}.links[${i}].traceState`));
    row['Links.Attributes'].push(attributes(field(link, 'attributes'), `${path}.links[${i}].attributes`));
  }
  return checkSpanTimes(row.Timestamp, end, row['Events.Timestamp']) ?? row;
}
