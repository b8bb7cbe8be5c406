/**
 * OTLP/protobuf `ExportLogsServiceRequest` → `otel_logs` rows in one pass over the bytes
 * (opentelemetry-proto 1.x: collector/logs/v1, logs/v1, common/v1, resource/v1), on the same
 * reader and with the same rules as the trace decoder (decode-protobuf.ts): fields in any order
 * and repeated (proto merge), a record's resource and scope applied once their message is read,
 * AnyValue nesting bounded by MAX_ANY_VALUE_DEPTH, invalid UTF-8 turned into U+FFFD.
 */
import { rejectRecord, toLogRow, type DecodedLogs, type LogOrigin, type LogRow, type WireLogRecord } from './decode-logs-row.ts';
import { MAX_ANY_VALUE_DEPTH, tooDeepError } from './limits.ts';
import { ProtoReader } from './protobuf-reader.ts';
import { formatAttributeValue, setKey, type PlainValue } from './span-row.ts';

// Tags are (field number << 3) | wire type. A known field number with an unexpected wire type
// falls to `default` and is skipped as unknown, as the Go protobuf runtime does.
const [LEN_1, LEN_2, LEN_3, LEN_5, LEN_6, LEN_7] = [10, 18, 26, 42, 50, 58] as const;

/** Rows are created before their resource and scope are read; this placeholder is always replaced. */
const PENDING: LogOrigin = {
  serviceName: '',
  resourceSchemaUrl: '',
  resourceAttributes: {},
  scopeSchemaUrl: '',
  scopeName: '',
  scopeVersion: '',
  scopeAttributes: {},
};

/**
 * Decodes an OTLP/protobuf logs export request; throws ProtobufDecodeError if the bytes are
 * malformed, and the same BadDataError as the JSON decoder for values nested too deep.
 */
export function decodeLogsRequestProtobuf(body: Uint8Array): DecodedLogs {
  const r = new ProtoReader(body);
  const out: DecodedLogs = { records: [], rejectedLogRecords: 0, rejectReasons: [] };
  let resourceIndex = 0;
  while (r.pos < r.end) {
    const tag = r.readTag();
    if (tag === LEN_1) {
      const outer = r.enter();
      decodeResourceLogs(r, out, resourceIndex++);
      r.leave(outer);
    } else {
      r.skip(tag & 7);
    }
  }
  return out;
}

function decodeResourceLogs(r: ProtoReader, out: DecodedLogs, ri: number): void {
  const first = out.records.length;
  // One object shared by all rows of this resource: rows are read-only.
  const resourceAttributes: Record<string, string> = {};
  let schemaUrl = '';
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
      decodeScopeLogs(r, out, ri, scopeIndex++);
      r.leave(outer);
    } else if (tag === LEN_3) {
      schemaUrl = r.readString();
    } else {
      r.skip(tag & 7);
    }
  }
  const serviceName = resourceAttributes['service.name'] ?? '';
  for (let i = first; i < out.records.length; i++) {
    const row = out.records[i]!;
    row.ResourceAttributes = resourceAttributes;
    row.ResourceSchemaUrl = schemaUrl;
    row.ServiceName = serviceName;
  }
}

function decodeScopeLogs(r: ProtoReader, out: DecodedLogs, ri: number, si: number): void {
  const first = out.records.length;
  let name = '';
  let version = '';
  let schemaUrl = '';
  const attributes: Record<string, string> = {};
  let recordIndex = 0;
  while (r.pos < r.end) {
    const tag = r.readTag();
    if (tag === LEN_1) {
      // InstrumentationScope: 1 name, 2 version, 3 attributes (4 dropped_attributes_count unused).
      const outer = r.enter();
      while (r.pos < r.end) {
        const t = r.readTag();
        if (t === LEN_1) name = r.readString();
        else if (t === LEN_2) version = r.readString();
        else if (t === LEN_3) readKeyValueInto(r, attributes);
        else r.skip(t & 7);
      }
      r.leave(outer);
    } else if (tag === LEN_2) {
      const outer = r.enter();
      const record = decodeLogRecord(r);
      r.leave(outer);
      const row = toLogRow(record, PENDING);
      if (typeof row === 'string') rejectRecord(out, `resource ${ri} scope ${si} log record ${recordIndex}`, row);
      else out.records.push(row);
      recordIndex++;
    } else if (tag === LEN_3) {
      schemaUrl = r.readString();
    } else {
      r.skip(tag & 7);
    }
  }
  for (let i = first; i < out.records.length; i++) {
    const row: LogRow = out.records[i]!;
    row.ScopeName = name;
    row.ScopeVersion = version;
    row.ScopeSchemaUrl = schemaUrl;
    row.ScopeAttributes = attributes;
  }
}

/** LogRecord → its wire fields (a repeated scalar: the last one wins; repeated attributes append). */
function decodeLogRecord(r: ProtoReader): WireLogRecord {
  const record: WireLogRecord = {
    timeNs: 0n,
    observedNs: 0n,
    traceId: '',
    spanId: '',
    flags: 0,
    severityNumber: 0,
    severityText: '',
    body: '',
    attributes: {},
    eventName: '',
  };
  while (r.pos < r.end) {
    const tag = r.readTag();
    switch (tag) {
      case 9: record.timeNs = r.readFixed64(); break; // 1 time_unix_nano, fixed64
      case 16: record.severityNumber = r.readInt32(); break; // 2 severity_number, enum
      case LEN_3: record.severityText = r.readString(); break;
      case LEN_5: { // body: AnyValue at nesting level 1, as an attribute's value
        const inner = r.enter();
        record.body = formatAttributeValue(decodeAnyValue(r, 1));
        r.leave(inner);
        break;
      }
      case LEN_6: readKeyValueInto(r, record.attributes); break;
      case 69: record.flags = r.readFixed32(); break; // 8 flags, fixed32
      case 74: record.traceId = r.readHex(); break; // 9 trace_id
      case 82: record.spanId = r.readHex(); break; // 10 span_id
      case 89: record.observedNs = r.readFixed64(); break; // 11 observed_time_unix_nano, fixed64
      case 98: record.eventName = r.readString(); break; // 12 event_name
      default: r.skip(tag & 7); // 7 dropped_attributes_count, unknown
    }
  }
  return record;
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
 * AnyValue at nesting level `depth` → PlainValue, exactly as the trace decoder reads it (a copy:
 * decode-protobuf.ts keeps its reader private); the oneof's last field on the wire wins, and
 * elements one level down are counted as soon as their tag is read (MAX_ANY_VALUE_DEPTH).
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
