/**
 * OTLP/JSON `ExportLogsServiceRequest` → `otel_logs` rows, following the OTLP/JSON rules
 * (opentelemetry-proto docs/specification.md) as the trace decoder does: hex ids (any case),
 * 64-bit integers as strings or numbers, enums as numbers or names, lowerCamelCase or snake_case
 * keys, unknown fields ignored. A record with unusable ids or time is rejected alone (partial
 * success); a body that is not such a request is refused whole (400).
 */
import {
  SEVERITY_NAMES,
  rejectRecord,
  toLogRow,
  type DecodedLogs,
  type LogOrigin,
  type WireLogRecord,
} from './decode-logs-row.ts';
import {
  anyValue,
  asArray,
  asObject,
  attributes,
  enumValue,
  field,
  hexId,
  nanos,
  optObject,
  optString,
  parseOtlpJson,
  unsigned,
  type JsonObject,
} from './json-values.ts';
import { formatAttributeValue } from './span-row.ts';

/** Decodes an OTLP/JSON logs export request; throws BadDataError if it is not one. */
export function decodeLogsRequestJson(body: Uint8Array): DecodedLogs {
  const root = asObject(parseOtlpJson(body), 'request');
  const out: DecodedLogs = { records: [], rejectedLogRecords: 0, rejectReasons: [] };
  asArray(field(root, 'resourceLogs', 'resource_logs'), 'resourceLogs').forEach((rlJson, ri) => {
    const rlPath = `resourceLogs[${ri}]`;
    const rl = asObject(rlJson, rlPath);
    const resource = optObject(field(rl, 'resource'), `${rlPath}.resource`);
    const resourceAttributes = attributes(resource && field(resource, 'attributes'), `${rlPath}.resource.attributes`);
    const resourceSchemaUrl = optString(field(rl, 'schemaUrl', 'schema_url'), `${rlPath}.schemaUrl`);
    asArray(field(rl, 'scopeLogs', 'scope_logs'), `${rlPath}.scopeLogs`).forEach((slJson, si) => {
      const slPath = `${rlPath}.scopeLogs[${si}]`;
      const sl = asObject(slJson, slPath);
      const scope = optObject(field(sl, 'scope'), `${slPath}.scope`);
      const origin: LogOrigin = {
        ServiceName: resourceAttributes['service.name'] ?? '',
        ResourceSchemaUrl: resourceSchemaUrl,
        ResourceAttributes: resourceAttributes,
        ScopeSchemaUrl: optString(field(sl, 'schemaUrl', 'schema_url'), `${slPath}.schemaUrl`),
        ScopeName: optString(scope && field(scope, 'name'), `${slPath}.scope.name`),
        ScopeVersion: optString(scope && field(scope, 'version'), `${slPath}.scope.version`),
        ScopeAttributes: attributes(scope && field(scope, 'attributes'), `${slPath}.scope.attributes`),
      };
      asArray(field(sl, 'logRecords', 'log_records'), `${slPath}.logRecords`).forEach((recordJson, i) => {
        const path = `${slPath}.logRecords[${i}]`;
        const record = toWireRecord(asObject(recordJson, path), path);
        const row = typeof record === 'string' ? record : toLogRow(record, origin);
        if (typeof row === 'string') rejectRecord(out, path, row);
        else out.records.push(row);
      });
    });
  });
  return out;
}

/** One LogRecord object → its fields, or why its ids make it unstorable. */
function toWireRecord(record: JsonObject, path: string): WireLogRecord | string {
  const traceId = hexId(field(record, 'traceId', 'trace_id'), `${path}.traceId`);
  const spanId = hexId(field(record, 'spanId', 'span_id'), `${path}.spanId`);
  if (traceId === null || spanId === null) return 'ids must be hex strings';
  return {
    timeNs: nanos(field(record, 'timeUnixNano', 'time_unix_nano'), `${path}.timeUnixNano`),
    observedNs: nanos(field(record, 'observedTimeUnixNano', 'observed_time_unix_nano'), `${path}.observedTimeUnixNano`),
    traceId,
    spanId,
    flags: Number(unsigned(field(record, 'flags'), `${path}.flags`, 0xffffffffn, 'unsigned 32-bit flags')),
    severityNumber: enumValue(
      field(record, 'severityNumber', 'severity_number'),
      'SEVERITY_NUMBER_',
      SEVERITY_NAMES,
      `${path}.severityNumber`,
    ),
    severityText: optString(field(record, 'severityText', 'severity_text'), `${path}.severityText`),
    body: formatAttributeValue(anyValue(field(record, 'body'), `${path}.body`, 1)),
    attributes: attributes(field(record, 'attributes'), `${path}.attributes`),
    eventName: optString(field(record, 'eventName', 'event_name'), `${path}.eventName`),
  };
}
