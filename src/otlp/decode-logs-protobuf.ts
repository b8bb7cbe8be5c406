/**
 * OTLP/protobuf `ExportLogsServiceRequest` → `otel_logs` rows in one pass over the bytes
 * (opentelemetry-proto 1.x: collector/logs/v1, logs/v1, common/v1, resource/v1), on the same code
 * as the trace decoder for all but the record (envelope-protobuf.ts, any-value-protobuf.ts): fields
 * in any order and repeated (proto merge), a record's resource and scope applied once their message
 * is read, AnyValue nesting bounded by MAX_ANY_VALUE_DEPTH, invalid UTF-8 turned into U+FFFD.
 */
import { rejectRecord, toLogRow, type DecodedLogs, type LogOrigin, type WireLogRecord } from './decode-logs-row.ts';
import { readAnyValueText, readKeyValueInto } from './any-value-protobuf.ts';
import { readExportRequest } from './envelope-protobuf.ts';
import { ProtoReader } from './protobuf-reader.ts';

// Tags are (field number << 3) | wire type. A known field number with an unexpected wire type
// falls to `default` and is skipped as unknown, as the Go protobuf runtime does.
const [LEN_3, LEN_5, LEN_6] = [26, 42, 50] as const;

/** Rows are created before their resource and scope are read; this placeholder is always replaced. */
const PENDING: LogOrigin = {
  ServiceName: '',
  ResourceSchemaUrl: '',
  ResourceAttributes: {},
  ScopeSchemaUrl: '',
  ScopeName: '',
  ScopeVersion: '',
  ScopeAttributes: {},
};

/**
 * Decodes an OTLP/protobuf logs export request; throws ProtobufDecodeError if the bytes are
 * malformed, and the same BadDataError as the JSON decoder for values nested too deep.
 */
export function decodeLogsRequestProtobuf(body: Uint8Array): DecodedLogs {
  const out: DecodedLogs = { records: [], rejectedLogRecords: 0, rejectReasons: [] };
  readExportRequest(new ProtoReader(body), {
    rows: out.records,
    readRecord: (r, ri, si, li) => {
      const row = toLogRow(decodeLogRecord(r), PENDING);
      if (typeof row === 'string') rejectRecord(out, `resource ${ri} scope ${si} log record ${li}`, row);
      else out.records.push(row);
    },
    applyResource: (row, resource) => {
      row.ResourceAttributes = resource.attributes;
      row.ResourceSchemaUrl = resource.schemaUrl;
      row.ServiceName = resource.serviceName;
    },
    applyScope: (row, scope) => {
      row.ScopeName = scope.name;
      row.ScopeVersion = scope.version;
      row.ScopeSchemaUrl = scope.schemaUrl;
      row.ScopeAttributes = scope.attributes;
    },
  });
  return out;
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
      case 9:
        record.timeNs = r.readFixed64();
        break; // 1 time_unix_nano, fixed64
      case 16:
        record.severityNumber = r.readInt32();
        break; // 2 severity_number, enum
      case LEN_3:
        record.severityText = r.readString();
        break;
      case LEN_5:
        record.body = readAnyValueText(r);
        break; // body: AnyValue at nesting level 1, as an attribute's value
      case LEN_6:
        readKeyValueInto(r, record.attributes);
        break;
      case 69:
        record.flags = r.readFixed32();
        break; // 8 flags, fixed32
      case 74:
        record.traceId = r.readHex();
        break; // 9 trace_id
      case 82:
        record.spanId = r.readHex();
        break; // 10 span_id
      case 89:
        record.observedNs = r.readFixed64();
        break; // 11 observed_time_unix_nano, fixed64
      case 98:
        record.eventName = r.readString();
        break; // 12 event_name
      default:
        r.skip(tag & 7); // 7 dropped_attributes_count, unknown
    }
  }
  return record;
}
