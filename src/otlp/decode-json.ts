/**
 * OTLP/JSON → `otel_traces` rows, following the OTLP/JSON rules (opentelemetry-proto
 * docs/specification.md): hex ids (any case), 64-bit integers as strings or numbers, enums as
 * numbers or names, lowerCamelCase or snake_case keys, unknown fields ignored.
 */
import { BadDataError } from '../errors.ts';
import {
  SPAN_KIND_NAMES,
  STATUS_CODE_NAMES,
  checkSpanIds,
  checkSpanTimes,
  durationNanos,
  formatAttributeValue,
  setKey,
  type DecodedTraces,
  type PlainValue,
  type SpanRow,
} from './span-row.ts';
import { MAX_ANY_VALUE_DEPTH, tooDeepError } from './limits.ts';
import { quoteBigIntegers } from './quote-big-integers.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const MAX_REASONS = 10;

/** Decodes an OTLP/JSON `ExportTraceServiceRequest`; throws BadDataError if it is not one. */
export function decodeTraceRequestJson(body: Uint8Array): DecodedTraces {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(body);
  let parsed: Json;
  try {
    // `\ud800`-style escapes can make lone surrogates, which no storage encodes: replace them
    // with U+FFFD as the protobuf path does for invalid UTF-8. Only bodies that contain such
    // an escape pay for the reviver.
    const quoted = quoteBigIntegers(text);
    parsed = (/\\u[dD][89a-fA-F]/.test(quoted) ? JSON.parse(quoted, wellFormed) : JSON.parse(quoted)) as Json;
  } catch (err) {
    throw new BadDataError(`request body is not valid JSON: ${(err as Error).message}`);
  }
  const root = asObject(parsed, 'request');
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
        const row = toSpanRow(asObject(spanJson, path), path, { resourceAttributes, serviceName, scopeName, scopeVersion });
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

  const start = nanos(field(span, 'startTimeUnixNano', 'start_time_unix_nano'), `${path}.startTimeUnixNano`);
  const end = nanos(field(span, 'endTimeUnixNano', 'end_time_unix_nano'), `${path}.endTimeUnixNano`);
  const status = optObject(field(span, 'status'), `${path}.status`);
  const row: SpanRow = {
    Timestamp: start,
    TraceId: traceId,
    SpanId: spanId,
    ParentSpanId: parentSpanId,
    TraceState: optString(field(span, 'traceState', 'trace_state'), `${path}.traceState`),
    SpanName: optString(field(span, 'name'), `${path}.name`),
    SpanKind: SPAN_KIND_NAMES[enumValue(field(span, 'kind'), 'SPAN_KIND_', SPAN_KIND_NAMES, `${path}.kind`)] ?? 'Unspecified',
    ServiceName: ctx.serviceName,
    ResourceAttributes: ctx.resourceAttributes,
    ScopeName: ctx.scopeName,
    ScopeVersion: ctx.scopeVersion,
    SpanAttributes: attributes(field(span, 'attributes'), `${path}.attributes`),
    Duration: durationNanos(start, end),
    StatusCode: STATUS_CODE_NAMES[enumValue(status && field(status, 'code'), 'STATUS_CODE_', STATUS_CODE_NAMES, `${path}.status.code`)] ?? 'Unset',
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
    row['Events.Timestamp'].push(nanos(field(ev, 'timeUnixNano', 'time_unix_nano'), `${path}.events[${i}].timeUnixNano`));
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

// ES2024 string methods, present in Node 20 (V8 11.3) though not in this project's ES2022 lib.
type Es2024String = string & { isWellFormed(): boolean; toWellFormed(): string };

function wellFormed(_key: string, value: unknown): unknown {
  return typeof value === 'string' && !(value as Es2024String).isWellFormed() ? (value as Es2024String).toWellFormed() : value;
}

function field(obj: JsonObject, camel: string, snake?: string): Json | undefined {
  const v = obj[camel];
  return v !== undefined || snake === undefined ? v : obj[snake];
}

function typeName(v: Json | undefined): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function asObject(v: Json | undefined, path: string): JsonObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new BadDataError(`${path}: expected an object, got ${typeName(v)}`);
  }
  return v;
}

function optObject(v: Json | undefined, path: string): JsonObject | undefined {
  return v === undefined || v === null ? undefined : asObject(v, path);
}

function asArray(v: Json | undefined, path: string): Json[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new BadDataError(`${path}: expected an array, got ${typeName(v)}`);
  return v;
}

function optString(v: Json | undefined, path: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new BadDataError(`${path}: expected a string, got ${typeName(v)}`);
  return v;
}

/** Hex id → lowercase hex; '' when absent; null when not hex (the span is then rejected). */
function hexId(v: Json | undefined, path: string): string | null {
  const s = optString(v, path);
  return /^(?:[0-9a-fA-F]{2})*$/.test(s) ? s.toLowerCase() : null;
}

/** A fixed64 nanosecond time given as a string or number → exact decimal string. */
function nanos(v: Json | undefined, path: string): string {
  if (v === undefined || v === null) return '0';
  const s = typeof v === 'number' ? (Number.isInteger(v) && v >= 0 ? BigInt(v).toString() : '') : String(v);
  if (!/^\d{1,20}$/.test(s) || BigInt(s) > 0xffffffffffffffffn) {
    throw new BadDataError(`${path}: expected unsigned 64-bit nanoseconds, got ${JSON.stringify(v)}`);
  }
  return BigInt(s).toString();
}

/** An enum given as a number or as its proto name (`SPAN_KIND_SERVER`); unknown numbers pass through. */
function enumValue(v: Json | undefined, prefix: string, names: readonly string[], path: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    if (/^\d+$/.test(v)) return Number(v);
    const wanted = v.toUpperCase();
    const i = names.findIndex((n) => `${prefix}${n.toUpperCase()}` === wanted);
    if (i >= 0) return i;
  }
  throw new BadDataError(`${path}: expected an enum number or name like ${prefix}${(names[1] ?? '').toUpperCase()}, got ${JSON.stringify(v)}`);
}

function attributes(v: Json | undefined, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  asArray(v, path).forEach((kvJson, i) => {
    const kv = asObject(kvJson, `${path}[${i}]`);
    const key = optString(field(kv, 'key'), `${path}[${i}].key`);
    setKey(out, key, formatAttributeValue(anyValue(field(kv, 'value'), `${path}[${i}].value`, 1)));
  });
  return out;
}

/**
 * OTLP AnyValue (JSON form) at nesting level `depth` → plain value. Elements and entries one
 * level down are counted before they are read, whatever they hold, as the protobuf decoder
 * counts them (see MAX_ANY_VALUE_DEPTH); this also bounds the recursion on hostile input.
 */
function anyValue(v: Json | undefined, path: string, depth: number): PlainValue {
  if (v === undefined || v === null) return null;
  const o = asObject(v, path);
  const s = field(o, 'stringValue', 'string_value');
  if (s !== undefined && s !== null) return optString(s, `${path}.stringValue`);
  const b = field(o, 'boolValue', 'bool_value');
  if (b !== undefined && b !== null) {
    if (typeof b !== 'boolean') throw new BadDataError(`${path}.boolValue: expected a boolean, got ${typeName(b)}`);
    return b;
  }
  const n = field(o, 'intValue', 'int_value');
  if (n !== undefined && n !== null) {
    const text = typeof n === 'number' && Number.isInteger(n) ? BigInt(n).toString() : String(n);
    const value = typeof n !== 'object' && /^-?\d{1,20}$/.test(text) ? BigInt(text) : undefined;
    if (value === undefined || value < -(2n ** 63n) || value >= 2n ** 63n) {
      throw new BadDataError(`${path}.intValue: expected a 64-bit integer, got ${JSON.stringify(n)}`);
    }
    return value;
  }
  const d = field(o, 'doubleValue', 'double_value');
  if (d !== undefined && d !== null) {
    const num = typeof d === 'number' ? d : typeof d === 'string' && d.trim() !== '' ? Number(d) : NaN;
    if (Number.isNaN(num) && d !== 'NaN') {
      throw new BadDataError(`${path}.doubleValue: expected a number, got ${JSON.stringify(d)}`);
    }
    return num;
  }
  const arr = field(o, 'arrayValue', 'array_value');
  if (arr !== undefined && arr !== null) {
    const values = asArray(field(asObject(arr, `${path}.arrayValue`), 'values'), `${path}.arrayValue.values`);
    if (values.length > 0 && depth >= MAX_ANY_VALUE_DEPTH) throw tooDeepError();
    return values.map((item, i) => anyValue(item, `${path}.arrayValue.values[${i}]`, depth + 1));
  }
  const kvl = field(o, 'kvlistValue', 'kvlist_value');
  if (kvl !== undefined && kvl !== null) {
    const out: { [key: string]: PlainValue } = {};
    const entries = asArray(field(asObject(kvl, `${path}.kvlistValue`), 'values'), `${path}.kvlistValue.values`);
    if (entries.length > 0 && depth >= MAX_ANY_VALUE_DEPTH) throw tooDeepError();
    entries.forEach((kvJson, i) => {
      const kv = asObject(kvJson, `${path}.kvlistValue.values[${i}]`);
      setKey(out, optString(field(kv, 'key'), `${path}.kvlistValue.values[${i}].key`), anyValue(field(kv, 'value'), `${path}.kvlistValue.values[${i}].value`, depth + 1));
    });
    return out;
  }
  const bytes = field(o, 'bytesValue', 'bytes_value');
  if (bytes !== undefined && bytes !== null) {
    const text = optString(bytes, `${path}.bytesValue`);
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) throw new BadDataError(`${path}.bytesValue: expected base64`);
    return new Uint8Array(Buffer.from(text, 'base64'));
  }
  return null;
}
