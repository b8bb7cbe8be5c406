/**
 * OTLP/protobuf `ExportTraceServiceRequest` → `otel_traces` rows in one pass over the bytes
 * (opentelemetry-proto 1.x: collector/trace/v1, trace/v1, common/v1, resource/v1). Fields may
 * come in any order and repeat (proto merge: last scalar wins, repeated fields append). The
 * request's resources and scopes are walked by envelope-protobuf.ts, as for logs; this reads spans.
 */
import { readKeyValueInto } from './any-value-protobuf.ts';
import { readExportRequest } from './envelope-protobuf.ts';
import { ProtoReader } from './protobuf-reader.ts';
import {
  SPAN_KIND_NAMES,
  STATUS_CODE_NAMES,
  checkSpanIds,
  checkSpanTimes,
  durationNanos,
  type DecodedTraces,
  type SpanRow,
} from './span-row.ts';

const MAX_REASONS = 10;
const ZERO_SPAN_ID = '0000000000000000';

// Tags are (field number << 3) | wire type; wire types: 0 varint, 1 fixed64, 2 length-delimited.
// A known field number with an unexpected wire type falls to `default` and is skipped as
// unknown, as the Go protobuf runtime does.
const [LEN_1, LEN_2, LEN_3, LEN_4, LEN_5] = [10, 18, 26, 34, 42] as const;

/** Rows are created before their resource and scope are known; these placeholders are always overwritten. */
const PENDING_ATTRIBUTES: Record<string, string> = {};

/**
 * Decodes an OTLP/protobuf trace export request; throws ProtobufDecodeError if the bytes are
 * malformed, and a BadDataError worded as the JSON decoder's for values nested too deep.
 */
export function decodeTraceRequestProtobuf(body: Uint8Array): DecodedTraces {
  const out: DecodedTraces = { spans: [], rejectedSpans: 0, rejectReasons: [] };
  readExportRequest(new ProtoReader(body), {
    rows: out.spans,
    readRecord: (r, ri, si, pi) => decodeSpan(r, out, ri, si, pi),
    applyResource: (row, resource) => {
      row.ResourceAttributes = resource.attributes;
      row.ServiceName = resource.serviceName;
    },
    // Scope attributes and schema urls are read (so malformed input is caught) but not stored.
    applyScope: (row, scope) => {
      row.ScopeName = scope.name;
      row.ScopeVersion = scope.version;
    },
  });
  return out;
}

/** Decodes one Span and appends its row, or counts it rejected; `ri`/`si`/`pi` locate it for the reason. */
function decodeSpan(r: ProtoReader, out: DecodedTraces, ri: number, si: number, pi: number): void {
  let traceId = '',
    spanId = '',
    parentSpanId = '',
    traceState = '',
    name = '',
    statusMessage = '';
  let kind = 0,
    statusCode = 0,
    start = 0n,
    end = 0n;
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
      case LEN_1:
        traceId = r.readHex();
        break;
      case LEN_2:
        spanId = r.readHex();
        break;
      case LEN_3:
        traceState = r.readString();
        break;
      case LEN_4:
        parentSpanId = r.readHex();
        break;
      case LEN_5:
        name = r.readString();
        break;
      case 48:
        kind = r.readInt32();
        break; // 6 kind, varint
      case 57:
        start = r.readFixed64();
        break; // 7 start_time_unix_nano, fixed64
      case 65:
        end = r.readFixed64();
        break; // 8 end_time_unix_nano, fixed64
      case 74:
        readKeyValueInto(r, attributes);
        break; // 9 attributes
      case 90: {
        // 11 events: 1 time_unix_nano, 2 name, 3 attributes
        const outer = r.enter();
        let time = 0n,
          eventName = '';
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
      case 106: {
        // 13 links: 1 trace_id, 2 span_id, 3 trace_state, 4 attributes (6 flags unused)
        const outer = r.enter();
        let linkTrace = '',
          linkSpan = '',
          state = '';
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
      case 122: {
        // 15 status: 2 message, 3 code (a repeated status merges: last of each wins)
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
  const problem =
    checkSpanIds(traceId, spanId, parentSpanId) ??
    linkProblem ??
    checkSpanTimes(start.toString(), end.toString(), eventTimes);
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
