/**
 * OTLP/protobuf `ExportTraceServiceRequest` → `otel_traces` rows in one pass over the bytes
 * (opentelemetry-proto 1.x: collector/trace/v1, trace/v1, common/v1, resource/v1). Fields may
 * come in any order and repeat (proto merge: last scalar wins, repeated fields append), so a
 * span's resource and scope are applied to its row only once their message has been read.
 */
import { MAX_ANY_VALUE_DEPTH, tooDeepError } from './limits.ts';
import { ProtoReader } from './protobuf-reader.ts';
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

const MAX_REASONS = 10;
const ZERO_SPAN_ID = '0000000000000000';

// Tags are (field number << 3) | wire type; wire types: 0 varint, 1 fixed64, 2 length-delimited.
// A known field number with an unexpected wire type falls to `default` and is skipped as
// unknown, as the Go protobuf runtime does.
const [LEN_1, LEN_2, LEN_3, LEN_4, LEN_5, LEN_6, LEN_7] = [10, 18, 26, 34, 42, 50, 58] as const;

/** Rows are created before their resource and scope are known; these placeholders are always overwritten. */
const PENDING_ATTRIBUTES: Record<string, string> = {};

/**
 * Decodes an OTLP/protobuf trace export request; throws ProtobufDecodeError if the bytes are
 * malformed, and a BadDataError worded as the JSON decoder's for values nested too deep.
 */
export function decodeTraceRequestProtobuf(body: Uint8Array): DecodedTraces {
  const r = new ProtoReader(body);
  const out: DecodedTraces = { spans: [], rejectedSpans: 0, rejectReasons: [] };
  let resourceIndex = 0;
  while (r.pos < r.end) {
    const tag = r.readTag();
    if (tag === LEN_1) {
      const outer = r.enter();
      decodeResourceSpans(r, out, resourceIndex++);
      r.leave(outer);
    } else {
      r.skip(tag & 7);
    }
  }
  return out;
}

function decodeResourceSpans(r: ProtoReader, out: DecodedTraces, ri: number): void {
  const first = out.spans.length;
  // One object shared by all rows of this resource (as the JSON decoder does): rows are read-only.
  const resourceAttributes: Record<string, string> = {};
  let scopeIndex = 0;
  while (r.pos < r.end) {
    const tag = r.readTag();
    if (tag === LEN_1) {
      // Resource: 1 attributes; 2 dropped_attributes_count and 3 entity_refs are not stored.
      const outer = r.enter();
      while (r.pos < r.end) {
        const t = r.readTag();
        if (t === LEN_1) readKeyValueInto(r, resourceAttributes);
        else r.skip(t & 7);
      }
      r.leave(outer);
    } else if (tag === LEN_2) {
      const outer = r.enter();
      decodeScopeSpans(r, out, ri, scopeIndex++);
      r.leave(outer);
    } else {
      r.skip(tag & 7); // 3 schema_url, 1000 legacy instrumentation_library_spans, unknown
    }
  }
  const serviceName = resourceAttributes['service.name'] ?? '';
  for (let i = first; i < out.spans.length; i++) {
    const row = out.spans[i]!;
    row.ResourceAttributes = resourceAttributes;
    row.ServiceName = serviceName;
  }
}

function decodeScopeSpans(r: ProtoReader, out: DecodedTraces, ri: number, si: number): void {
  const first = out.spans.length;
  let name = '';
  let version = '';
  let spanIndex = 0;
  while (r.pos < r.end) {
    const tag = r.readTag();
    if (tag === LEN_1) {
      const outer = r.enter();
      while (r.pos < r.end) {
        const t = r.readTag();
        if (t === LEN_1) name = r.readString();
        else if (t === LEN_2) version = r.readString();
        else if (t === LEN_3) readKeyValueInto(r, {}); // not stored, but decoded so malformed input is caught
        else r.skip(t & 7);
      }
      r.leave(outer);
    } else if (tag === LEN_2) {
      const outer = r.enter();
      decodeSpan(r, out, ri, si, spanIndex++);
      r.leave(outer);
    } else {
      r.skip(tag & 7); // 3 schema_url, unknown
    }
  }
  for (let i = first; i < out.spans.length; i++) {
    const row = out.spans[i]!;
    row.ScopeName = name;
    row.ScopeVersion = version;
  }
}

/** Decodes one Span and appends its row, or counts it rejected; `ri`/`si`/`pi` locate it for the reason. */
function decodeSpan(r: ProtoReader, out: DecodedTraces, ri: number, si: number, pi: number): void {
  let traceId = '', spanId = '', parentSpanId = '', traceState = '', name = '', statusMessage = '';
  let kind = 0, statusCode = 0, start = 0n, end = 0n;
  let linkProblem: string | null = null;
  const attributes: Record<string, string> = {};
  const eventTimes: string[] = [];
  const eventNames: string[] = [];
  const eventAttributes: Array<Record<string, string>> = [];
  const linkTraceIds: string[] = [];
  const linkSpanIds: string[] = [];
  const linkStates: string[] = [];
  const linkAttributes: Array<Record<string, string>> = [];

  while (r.pos < r.end) {
    const tag = r.readTag();
    switch (tag) {
      case LEN_1: traceId = r.readHex(); break;
      case LEN_2: spanId = r.readHex(); break;
      case LEN_3: traceState = r.readString(); break;
      case LEN_4: parentSpanId = r.readHex(); break;
      case LEN_5: name = r.readString(); break;
      case 48: kind = r.readInt32(); break; // 6 kind, varint
      case 57: start = r.readFixed64(); break; // 7 start_time_unix_nano, fixed64
      case 65: end = r.readFixed64(); break; // 8 end_time_unix_nano, fixed64
      case 74: readKeyValueInto(r, attributes); break; // 9 attributes
      case 90: { // 11 events: 1 time_unix_nano, 2 name, 3 attributes
        const outer = r.enter();
        let time = 0n, eventName = '';
        const attrs: Record<string, string> = {};
        while (r.pos < r.end) {
          const t = r.readTag();
          if (t === 9) time = r.readFixed64();
          else if (t === LEN_2) eventName = r.readString();
          else if (t === LEN_3) readKeyValueInto(r, attrs);
          else r.skip(t & 7);
        }
        r.leave(outer);
        eventTimes.push(time.toString());
        eventNames.push(eventName);
        eventAttributes.push(attrs);
        break;
      }
      case 106: { // 13 links: 1 trace_id, 2 span_id, 3 trace_state, 4 attributes (6 flags unused)
        const outer = r.enter();
        let linkTrace = '', linkSpan = '', state = '';
        const attrs: Record<string, string> = {};
        while (r.pos < r.end) {
          const t = r.readTag();
          if (t === LEN_1) linkTrace = r.readHex();
          else if (t === LEN_2) linkSpan = r.readHex();
          else if (t === LEN_3) state = r.readString();
          else if (t === LEN_4) readKeyValueInto(r, attrs);
          else r.skip(t & 7);
        }
        r.leave(outer);
        if (linkProblem === null && (linkTrace.length !== 32 || linkSpan.length !== 16)) {
          linkProblem = `link ${linkTraceIds.length} must have a 16-byte trace id and an 8-byte span id, got ${linkTrace.length / 2} and ${linkSpan.length / 2}`;
        }
        linkTraceIds.push(linkTrace);
        linkSpanIds.push(linkSpan);
        linkStates.push(state);
        linkAttributes.push(attrs);
        break;
      }
      case 122: { // 15 status: 2 message, 3 code (a repeated status merges: last of each wins)
        const outer = r.enter();
        while (r.pos < r.end) {
          const t = r.readTag();
          if (t === LEN_2) statusMessage = r.readString();
          else if (t === 24) statusCode = r.readInt32();
          else r.skip(t & 7);
        }
        r.leave(outer);
        break;
      }
      default:
        r.skip(tag & 7); // 10/12/14 dropped counts, 16 flags, unknown
    }
  }

  if (parentSpanId === ZERO_SPAN_ID) parentSpanId = '';
  const problem = checkSpanIds(traceId, spanId, parentSpanId) ?? linkProblem ?? checkSpanTimes(start.toString(), end.toString(), eventTimes);
  if (problem !== null) {
    out.rejectedSpans++;
    const reason = `resource ${ri} scope ${si} span ${pi}: ${problem}`;
    if (out.rejectReasons.length < MAX_REASONS && !out.rejectReasons.includes(reason)) out.rejectReasons.push(reason);
    return;
  }
  const startNs = start.toString();
  const row: SpanRow = {
    Timestamp: startNs,
    TraceId: traceId,
    SpanId: spanId,
    ParentSpanId: parentSpanId,
    TraceState: traceState,
    SpanName: name,
    SpanKind: SPAN_KIND_NAMES[kind] ?? 'Unspecified',
    ServiceName: '',
    ResourceAttributes: PENDING_ATTRIBUTES,
    ScopeName: '',
    ScopeVersion: '',
    SpanAttributes: attributes,
    Duration: durationNanos(startNs, end.toString()),
    StatusCode: STATUS_CODE_NAMES[statusCode] ?? 'Unset',
    StatusMessage: statusMessage,
    'Events.Timestamp': eventTimes,
    'Events.Name': eventNames,
    'Events.Attributes': eventAttributes,
    'Links.TraceId': linkTraceIds,
    'Links.SpanId': linkSpanIds,
    'Links.TraceState': linkStates,
    'Links.Attributes': linkAttributes,
  };
  out.spans.push(row);
}

/** KeyValue → `target[key] = value rendered as the Collector stores it`; a duplicate key's last value wins. */
function readKeyValueInto(r: ProtoReader, target: Record<string, string>): void {
  readKeyValue(r, 1); // an attribute's value is nesting level 1 (MAX_ANY_VALUE_DEPTH)
  setKey(target, kvKey, formatAttributeValue(kvValue));
}

// readKeyValue's result, returned through module state rather than a tuple so nothing is allocated.
let kvKey = '';
let kvValue: PlainValue = null;

/** KeyValue (1 key, 2 value at nesting level `depth`) → kvKey/kvValue, set last so nested calls cannot clobber them. */
function readKeyValue(r: ProtoReader, depth: number): void {
  const outer = r.enter();
  let key = '';
  let value: PlainValue = null;
  while (r.pos < r.end) {
    const tag = r.readTag();
    if (tag === LEN_1) {
      key = r.readString();
    } else if (tag === LEN_2) {
      const inner = r.enter();
      value = decodeAnyValue(r, depth);
      r.leave(inner);
    } else {
      r.skip(tag & 7);
    }
  }
  r.leave(outer);
  kvKey = key;
  kvValue = value;
}

/**
 * AnyValue at nesting level `depth` → PlainValue; the oneof's last field on the wire wins, and a
 * repeated value message replaces rather than merges (a simplification of proto merge no real
 * producer relies on). Elements and entries one level down are counted as soon as their tag is
 * read, empty or not, as the JSON decoder counts them (see MAX_ANY_VALUE_DEPTH); this also
 * bounds the recursion on hostile input.
 */
function decodeAnyValue(r: ProtoReader, depth: number): PlainValue {
  let value: PlainValue = null;
  while (r.pos < r.end) {
    const tag = r.readTag();
    switch (tag) {
      case LEN_1: value = r.readString(); break; // string_value
      case 16: value = r.readVarint() !== 0; break; // 2 bool_value
      case 24: value = r.readInt64(); break; // 3 int_value
      case 33: value = r.readDouble(); break; // 4 double_value, fixed64
      case LEN_5: { // array_value: 1 repeated AnyValue values
        const outer = r.enter();
        const items: PlainValue[] = [];
        while (r.pos < r.end) {
          const t = r.readTag();
          if (t === LEN_1) {
            if (depth >= MAX_ANY_VALUE_DEPTH) throw tooDeepError();
            const inner = r.enter();
            items.push(decodeAnyValue(r, depth + 1));
            r.leave(inner);
          } else {
            r.skip(t & 7);
          }
        }
        r.leave(outer);
        value = items;
        break;
      }
      case LEN_6: { // kvlist_value: 1 repeated KeyValue values
        const outer = r.enter();
        const map: { [key: string]: PlainValue } = {};
        while (r.pos < r.end) {
          const t = r.readTag();
          if (t === LEN_1) {
            if (depth >= MAX_ANY_VALUE_DEPTH) throw tooDeepError();
            readKeyValue(r, depth + 1);
            setKey(map, kvKey, kvValue);
          } else {
            r.skip(t & 7);
          }
        }
        r.leave(outer);
        value = map;
        break;
      }
      case LEN_7: value = r.readBytes(); break; // bytes_value (a view; rendered before the body is released)
      default: r.skip(tag & 7);
    }
  }
  return value;
}
