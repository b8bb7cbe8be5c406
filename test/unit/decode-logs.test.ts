/**
 * OTLP logs decoding (JSON and protobuf) against the Collector ClickHouse exporter's rules:
 * both encodings of one request give identical rows; Timestamp falls back to the observed time;
 * Body and attribute values render as pdata's AsString() (and as the trace decoder renders
 * attributes); invalid ids reject the record alone; malformed input and deep nesting refuse the
 * request with the same message in both encodings.
 */
import { describe, expect, it } from 'vitest';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import { BadDataError } from '../../src/errors.ts';
import { decodeTraceRequestJson } from '../../src/otlp/decode-json.ts';
import { decodeLogsRequestJson } from '../../src/otlp/decode-logs-json.ts';
import { decodeLogsRequestProtobuf } from '../../src/otlp/decode-logs-protobuf.ts';
import { applyLogLimits, encodeLogsExportResponse, type DecodedLogs } from '../../src/otlp/decode-logs-row.ts';
import { MAX_ANY_VALUE_DEPTH } from '../../src/otlp/limits.ts';
import { ProtobufDecodeError } from '../../src/otlp/protobuf-reader.ts';

const T0 = 1767225600; // 2026-01-01T00:00:00Z
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';

/** Records as the SDK makes them (LoggerProvider → in-memory exporter). */
async function sdkRecords(): Promise<ReadableLogRecord[]> {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'unit-logs', 'host.name': 'h1' }),
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  });
  const logger = provider.getLogger('unit-scope', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });
  logger.emit({
    timestamp: [T0, 123456789],
    observedTimestamp: [T0, 223456789],
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    body: 'plain text',
    attributes: { a: 1, b: 'x', c: [1, 2.5], d: true },
  });
  logger.emit({
    timestamp: [T0, 1],
    severityNumber: SeverityNumber.ERROR2,
    body: { z: 1, a: { nested: ['x', false] }, bytes: new Uint8Array([1, 2, 3]) },
  });
  logger.emit({ timestamp: [T0, 2], body: [1, 'two', 3.5], eventName: 'claude_code.api_request' });
  logger.emit({ timestamp: [T0, 3], body: 42 });
  logger.emit({ timestamp: [T0, 4], body: 0.1 });
  logger.emit({ timestamp: [T0, 5], body: new Uint8Array([255, 0, 7]) });
  logger.emit({ timestamp: [T0, 6] }); // no body
  await provider.forceFlush();
  return memory.getFinishedLogRecords();
}

/** The record with some fields replaced (a view: the rest reads through to the SDK's record, whose fields are getters). */
function withFields(record: ReadableLogRecord | undefined, fields: Record<string, unknown>): ReadableLogRecord {
  if (!record) throw new Error('no record');
  return Object.create(
    record,
    Object.fromEntries(Object.entries(fields).map(([k, value]) => [k, { value, enumerable: true }])),
  ) as ReadableLogRecord;
}

function bothEncodings(records: ReadableLogRecord[]): { json: DecodedLogs; protobuf: DecodedLogs } {
  const json = JsonLogsSerializer.serializeRequest(records);
  const protobuf = ProtobufLogsSerializer.serializeRequest(records);
  if (!json || !protobuf) throw new Error('serializer returned nothing');
  return { json: decodeLogsRequestJson(json), protobuf: decodeLogsRequestProtobuf(protobuf) };
}

/** A hand-made OTLP/JSON logs request with one resource and scope. */
function jsonRequest(
  records: object[],
  resource: object[] = [{ key: 'service.name', value: { stringValue: 'hand' } }],
): Uint8Array {
  return Buffer.from(
    JSON.stringify({
      resourceLogs: [
        { resource: { attributes: resource }, scopeLogs: [{ scope: { name: 's' }, logRecords: records }] },
      ],
    }),
  );
}

describe('the SDK serializers: JSON and protobuf decode to identical rows', () => {
  it('every column, every body kind', async () => {
    const { json, protobuf } = bothEncodings(await sdkRecords());
    expect(json.rejectedLogRecords).toBe(0);
    expect(protobuf).toEqual(json);
    expect(json.records.map((r) => r.Body)).toEqual([
      'plain text',
      '{"a":{"nested":["x",false]},"bytes":"AQID","z":1}',
      '[1,"two",3.5]',
      '42',
      '0.1',
      '/wAH',
      '',
    ]);
    expect(json.records[0]).toMatchObject({
      Timestamp: '1767225600123456789',
      TraceId: '',
      SpanId: '',
      TraceFlags: 0,
      SeverityText: 'INFO',
      SeverityNumber: 9,
      ServiceName: 'unit-logs',
      ResourceAttributes: { 'service.name': 'unit-logs', 'host.name': 'h1' },
      ScopeName: 'unit-scope',
      ScopeVersion: '1.2.3',
      ScopeSchemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
      LogAttributes: { a: '1', b: 'x', c: '[1,2.5]', d: 'true' },
      EventName: '',
    });
    expect(json.records[1]).toMatchObject({ SeverityNumber: 18, SeverityText: '' });
    expect(json.records[2]?.EventName).toBe('claude_code.api_request');
  });
});

describe('hand-made records', () => {
  it('Timestamp falls back to the observed time when the time is 0 (as the exporter does), in both encodings', async () => {
    const [sdk] = await sdkRecords();
    const observedOnly = withFields(sdk, { hrTime: [0, 0], hrTimeObserved: [T0, 999] });
    const { json, protobuf } = bothEncodings([observedOnly]);
    expect(json.records[0]?.Timestamp).toBe('1767225600000000999');
    expect(protobuf.records[0]?.Timestamp).toBe('1767225600000000999');
    const none = decodeLogsRequestJson(jsonRequest([{ body: { stringValue: 'x' } }]));
    expect(none.records[0]?.Timestamp).toBe('0'); // neither: 1970-01-01, as the exporter stores it
  });

  it('ids: lowercase hex; all zeros stored as empty; wrong lengths and non-hex reject the record alone', () => {
    const decoded = decodeLogsRequestJson(
      jsonRequest([
        { timeUnixNano: '1', traceId: TRACE.toUpperCase(), spanId: SPAN, flags: 257 },
        { timeUnixNano: '2', traceId: '0'.repeat(32), spanId: '0'.repeat(16) },
        { timeUnixNano: '3', traceId: 'abcd' },
        { timeUnixNano: '4', spanId: 'zz'.repeat(8) },
        { timeUnixNano: '5', body: { stringValue: 'kept' } },
      ]),
    );
    expect(decoded.records.map((r) => [r.TraceId, r.SpanId, r.TraceFlags, r.Body])).toEqual([
      [TRACE, SPAN, 1, ''],
      ['', '', 0, ''],
      ['', '', 0, 'kept'],
    ]);
    expect(decoded.rejectedLogRecords).toBe(2);
    expect(decoded.rejectReasons).toEqual([
      'resourceLogs[0].scopeLogs[0].logRecords[2]: trace id must be empty or 16 bytes, got 2',
      'resourceLogs[0].scopeLogs[0].logRecords[3]: ids must be hex strings',
    ]);
  });

  it('a protobuf record with a 15-byte trace id is rejected alone, with its position', async () => {
    const [good, bad] = await sdkRecords();
    const broken = withFields(bad, { spanContext: { traceId: 'ab'.repeat(15), spanId: SPAN, traceFlags: 1 } });
    const decoded = decodeLogsRequestProtobuf(ProtobufLogsSerializer.serializeRequest([good!, broken])!);
    expect(decoded.records).toHaveLength(1);
    expect(decoded.rejectedLogRecords).toBe(1);
    expect(decoded.rejectReasons).toEqual([
      'resource 0 scope 0 log record 1: trace id must be empty or 16 bytes, got 15',
    ]);
  });

  it('JSON: severity by name, snake_case keys, int64 as strings or numbers, big nanoseconds exact', () => {
    const body = Buffer.from(
      '{"resource_logs":[{"schema_url":"r-url","scope_logs":[{"schema_url":"s-url","scope":{"name":"n","version":"v","attributes":[{"key":"k","value":{"int_value":"9007199254740993"}}]},' +
        '"log_records":[{"time_unix_nano":1767225600000000001,"severity_number":"SEVERITY_NUMBER_WARN","severity_text":"W","event_name":"e","body":{"kvlist_value":{"values":[{"key":"b","value":{"double_value":2}},{"key":"a","value":{}}]}},"attributes":[{"key":"n","value":{"intValue":9007199254740993}}]}]}]}]}',
    );
    const [row] = decodeLogsRequestJson(body).records;
    expect(row).toMatchObject({
      Timestamp: '1767225600000000001',
      SeverityNumber: 13,
      SeverityText: 'W',
      EventName: 'e',
      Body: '{"a":null,"b":2}',
      ResourceSchemaUrl: 'r-url',
      ScopeSchemaUrl: 's-url',
      ScopeName: 'n',
      ScopeVersion: 'v',
      ScopeAttributes: { k: '9007199254740993' },
      LogAttributes: { n: '9007199254740993' },
    });
  });

  it('severity number and flags are cut to 8 bits, as the exporter casts them (uint8)', () => {
    const [row] = decodeLogsRequestJson(jsonRequest([{ severityNumber: 300, flags: 4294967295 }])).records;
    expect(row).toMatchObject({ SeverityNumber: 300 & 0xff, TraceFlags: 255 });
  });

  it('attribute values render exactly as the trace decoder renders span attributes', () => {
    const values = [
      { stringValue: 'ü<&>\u2028' },
      { intValue: '-9223372036854775808' },
      { doubleValue: 1e-7 },
      { doubleValue: 'Infinity' },
      { boolValue: false },
      { bytesValue: 'AAEC' },
      {
        arrayValue: {
          values: [
            {
              kvlistValue: {
                values: [
                  { key: 'é', value: { intValue: 1 } },
                  { key: 'a', value: { doubleValue: 1e21 } },
                ],
              },
            },
          ],
        },
      },
      {},
    ];
    const attributes = values.map((value, i) => ({ key: `k${i}`, value }));
    const logs = decodeLogsRequestJson(jsonRequest([{ attributes }]));
    const spans = decodeTraceRequestJson(
      Buffer.from(
        JSON.stringify({
          resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: TRACE, spanId: SPAN, attributes }] }] }],
        }),
      ),
    );
    expect(logs.records[0]?.LogAttributes).toEqual(spans.spans[0]?.SpanAttributes);
  });

  it('a time beyond 2262 (DateTime64(9)) rejects the record; a record with only an absurd observed time keeps its own', () => {
    const decoded = decodeLogsRequestJson(
      jsonRequest([
        { timeUnixNano: '18446744073709551615' },
        { timeUnixNano: '5', observedTimeUnixNano: '18446744073709551615' },
      ]),
    );
    expect(decoded.rejectReasons).toEqual([
      'resourceLogs[0].scopeLogs[0].logRecords[0]: time is after 2262-04-11, beyond what can be stored',
    ]);
    expect(decoded.records.map((r) => r.Timestamp)).toEqual(['5']);
  });
});

describe('refused requests', () => {
  it('malformed bodies are BadDataError (400) in both encodings', () => {
    expect(() => decodeLogsRequestJson(Buffer.from('{"resourceLogs":'))).toThrow(BadDataError);
    expect(() => decodeLogsRequestJson(Buffer.from('{"resourceLogs":[{"scopeLogs":{}}]}'))).toThrow(
      /resourceLogs\[0\]\.scopeLogs: expected an array/,
    );
    expect(() => decodeLogsRequestJson(jsonRequest([{ timeUnixNano: 'soon' }]))).toThrow(
      /timeUnixNano: expected unsigned 64-bit nanoseconds/,
    );
    expect(() => decodeLogsRequestJson(jsonRequest([{ severityNumber: 'LOUD' }]))).toThrow(/SEVERITY_NUMBER_TRACE/);
    expect(() => decodeLogsRequestProtobuf(Uint8Array.from([0x0a, 0x05, 0x12, 0x09]))).toThrow(ProtobufDecodeError);
    expect(() => decodeLogsRequestProtobuf(Uint8Array.from([0x0a, 0x05, 0x12, 0x09]))).toThrow(BadDataError);
  });

  it(`a body nested deeper than ${MAX_ANY_VALUE_DEPTH} levels is refused with the same message in both encodings`, async () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < MAX_ANY_VALUE_DEPTH; i++) deep = [deep];
    const [sdk] = await sdkRecords();
    const record = withFields(sdk, { body: deep });
    const json = JsonLogsSerializer.serializeRequest([record])!;
    const protobuf = ProtobufLogsSerializer.serializeRequest([record])!;
    const message = `AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels (arrays or kvlists within one attribute value)`;
    expect(() => decodeLogsRequestJson(json)).toThrow(message);
    expect(() => decodeLogsRequestProtobuf(protobuf)).toThrow(message);
    const shallow = withFields(sdk, { body: (deep as unknown[])[0] });
    expect(decodeLogsRequestProtobuf(ProtobufLogsSerializer.serializeRequest([shallow])!).records).toHaveLength(1);
  });
});

describe('limits and responses', () => {
  it('attribute limits apply to log, resource and scope attributes (a shared map once), never to Body', () => {
    const long = 'x'.repeat(100);
    const decoded = decodeLogsRequestJson(
      jsonRequest(
        [
          { body: { stringValue: long }, attributes: [{ key: 'a', value: { stringValue: long } }] },
          { body: { stringValue: 'y' } },
        ],
        [{ key: 'r', value: { stringValue: long } }],
      ),
    );
    const stats = applyLogLimits(decoded.records, { maxAttributeValueBytes: 10, maxAttributesPerSpan: 100 });
    expect(stats).toEqual({ truncatedValues: 2, droppedAttributes: 0 });
    const [first, second] = decoded.records;
    expect(first?.LogAttributes.a).toBe('xxxxxxxxxx…[truncated 90 bytes]');
    expect(first?.ResourceAttributes.r).toBe('xxxxxxxxxx…[truncated 90 bytes]');
    expect(second?.ResourceAttributes).toBe(first?.ResourceAttributes);
    expect(first?.Body).toBe(long);
  });

  it('ExportLogsServiceResponse: partial success in JSON (rejectedLogRecords) and protobuf, as the SDK reads it', () => {
    const json = encodeLogsExportResponse('json', 2, 'why');
    expect(JSON.parse(json.body as string)).toEqual({
      partialSuccess: { rejectedLogRecords: '2', errorMessage: 'why' },
    });
    const protobuf = encodeLogsExportResponse('protobuf', 300, 'ü'.repeat(100));
    const read = ProtobufLogsSerializer.deserializeResponse(protobuf.body as Uint8Array);
    expect(Number(read.partialSuccess?.rejectedLogRecords)).toBe(300);
    expect(read.partialSuccess?.errorMessage).toBe('ü'.repeat(100));
    expect(encodeLogsExportResponse('protobuf', 0, '').body).toHaveLength(0);
    expect(encodeLogsExportResponse('json', 0, '').body).toBe('{}');
  });
});

describe('speed', () => {
  it('decodes a 512-record Claude Code-shaped request (figures logged)', async () => {
    const memory = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'claude-code' }),
      processors: [new SimpleLogRecordProcessor({ exporter: memory })],
    });
    const logger = provider.getLogger('com.anthropic.claude_code.events', '2.1.0');
    for (let i = 0; i < 512; i++) {
      logger.emit({
        body: 'claude_code.api_request',
        attributes: {
          'session.id': `s-${i % 8}`,
          'event.name': 'api_request',
          'event.timestamp': new Date(T0 * 1000 + i).toISOString(),
          'event.sequence': i,
          model: 'claude-sonnet-4-5',
          input_tokens: 1200 + i,
          output_tokens: 300,
          cache_read_tokens: 5000,
          cache_creation_tokens: 100,
          cost_usd: 0.0123 + i / 1e6,
          duration_ms: 900,
          'user.account_uuid': 'u-1',
          'organization.id': 'o-1',
          'terminal.type': 'vscode',
        },
      });
    }
    await provider.forceFlush();
    const records = memory.getFinishedLogRecords();
    const protobuf = ProtobufLogsSerializer.serializeRequest(records)!;
    const json = JsonLogsSerializer.serializeRequest(records)!;
    const time = (fn: () => DecodedLogs): number => {
      for (let i = 0; i < 20; i++) fn(); // warm-up
      const runs = 50;
      const start = process.hrtime.bigint();
      for (let i = 0; i < runs; i++) fn();
      return Number(process.hrtime.bigint() - start) / runs / 1e6;
    };
    const pbMs = time(() => decodeLogsRequestProtobuf(protobuf));
    const jsonMs = time(() => decodeLogsRequestJson(json));
    console.log(
      `decode 512 records: protobuf ${pbMs.toFixed(2)} ms (${protobuf.length} bytes), JSON ${jsonMs.toFixed(2)} ms (${json.length} bytes)`,
    );
    expect(decodeLogsRequestProtobuf(protobuf).records).toHaveLength(512);
  });
});
