/**
 * Real OpenTelemetry log exporters (OTLP/HTTP JSON and protobuf, with and without gzip) and the
 * SDK's own request serializers against a collector on a real loopback port: every column of
 * every stored `otel_logs` row must equal what the SDK recorded, to the nanosecond, in both
 * encodings alike.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { SeverityNumber, type AnyValue, type Logger } from '@opentelemetry/api-logs';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as GrpcExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import type { RunningCollector } from '../../collector/server.ts';
import { formatAttributeValue, type PlainValue } from '../../src/otlp/span-row.ts';
import { queryRows, startTestCollector, tempDir } from '../helpers/collector.ts';
import { RecordingExporter, asText, nanos, sortByTime, utcText, withoutServiceName } from '../helpers/otel-records.ts';

let collector: RunningCollector;

beforeAll(async () => {
  collector = await startTestCollector(tempDir());
});

afterAll(async () => {
  await collector?.close();
});

const T0 = 1767225600; // 2026-01-01T00:00:00Z
const SPAN_CONTEXT = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };

describe('real OpenTelemetry log exporters → collector', () => {
  const http = (Exporter: typeof JsonExporter | typeof ProtoExporter, gzip: boolean) => () =>
    new Exporter({
      url: `${collector.url}/v1/logs`,
      compression: gzip ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
    });
  // OTLP/gRPC LogsService/Export: the same receiver as POST /v1/logs.
  const grpc = (gzip: boolean) => () =>
    new GrpcExporter({
      url: collector.grpcUrl ?? '',
      compression: gzip ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
    });
  const variants = [
    { service: 'logs-json', make: http(JsonExporter, false) },
    { service: 'logs-json-gzip', make: http(JsonExporter, true) },
    { service: 'logs-proto', make: http(ProtoExporter, false) },
    { service: 'logs-proto-gzip', make: http(ProtoExporter, true) },
    { service: 'logs-grpc', make: grpc(false) },
    { service: 'logs-grpc-gzip', make: grpc(true) },
  ];
  const stored: Array<Array<Record<string, unknown>>> = [];

  for (const { service, make } of variants) {
    it(`${service}: every column equals the emitted record`, async () => {
      const exporter = new RecordingExporter(make());
      const provider = new LoggerProvider({
        resource: testResource(service),
        processors: [new BatchLogRecordProcessor({ exporter })],
      });
      emitScenario(
        provider.getLogger('sessiongraph-logs-scope', '2.7.1', {
          schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
          attributes: { 'scope.attr': 'on' },
        }),
      );
      await provider.forceFlush();
      await provider.shutdown();

      expect(exporter.results).toEqual([{ code: ExportResultCode.SUCCESS }]);
      expect(exporter.items).toHaveLength(SCENARIO_SIZE);
      const rows = await storedRows(service);
      expect(rows).toEqual(sortByTime(exporter.items).map(expectedRow));

      // Spot checks against literals, so the comparison does not rest on the SDK alone.
      expect(rows[0]).toMatchObject({
        ts_text: '2026-01-01 00:00:00.123456789',
        TraceId: SPAN_CONTEXT.traceId,
        SpanId: SPAN_CONTEXT.spanId,
        TraceFlags: 1,
        SeverityText: 'INFO',
        SeverityNumber: 9,
        Body: 'user asked for a refactor',
        EventName: 'claude_code.user_prompt',
        ScopeName: 'sessiongraph-logs-scope',
        ScopeVersion: '2.7.1',
        ScopeSchemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
        ScopeAttributes: { 'scope.attr': 'on' },
        ResourceSchemaUrl: 'https://opentelemetry.io/schemas/1.29.0',
        LogAttributes: {
          'attr.int': '42',
          'attr.double': '0.25',
          'attr.bool': 'true',
          'attr.strings': '["a","b"]',
          'attr.large_int': '1099511627776',
        },
      });
      expect(rows.map((r) => r.Body)).toEqual([
        'user asked for a refactor',
        '{"nested":{"list":[1,"two",false]},"tokens":1200}',
        '[1,2.5,"three",true]',
        '7',
        '2.5',
        'false',
        'AQID/w==',
        '',
      ]);
      expect(rows[1]).toMatchObject({
        TraceId: '',
        SpanId: '',
        TraceFlags: 0,
        SeverityNumber: 17,
        SeverityText: 'ERROR',
        ts_text: '2026-01-01 00:00:01.000000001',
      });
      stored.push(rows.map(withoutServiceName));
    });
  }

  it('the six exporters (HTTP JSON, HTTP protobuf, gRPC; each plain and gzip) stored identical rows (but for service.name)', () => {
    expect(stored).toHaveLength(variants.length);
    const [first, ...others] = stored;
    for (const rows of others) expect(rows).toEqual(first);
  });
});

describe('the SDK serializers: one request in JSON and protobuf stores identical rows', () => {
  it('JSON, protobuf, and both gzip-compressed; the answers are empty ExportLogsServiceResponses', async () => {
    const variants = [
      { service: 'ser-logs-json', serializer: JsonLogsSerializer, type: 'application/json', gzip: false },
      { service: 'ser-logs-proto', serializer: ProtobufLogsSerializer, type: 'application/x-protobuf', gzip: false },
      { service: 'ser-logs-json-gzip', serializer: JsonLogsSerializer, type: 'application/json', gzip: true },
      {
        service: 'ser-logs-proto-gzip',
        serializer: ProtobufLogsSerializer,
        type: 'application/x-protobuf',
        gzip: true,
      },
    ];
    const stored: Array<Array<Record<string, unknown>>> = [];
    for (const { service, serializer, type, gzip } of variants) {
      const records = await recordInMemory(service, emitScenario);
      const encoded = serializer.serializeRequest(records);
      if (!encoded) throw new Error(`${service}: serializer returned nothing`);
      const headers: Record<string, string> = { 'content-type': type };
      if (gzip) headers['content-encoding'] = 'gzip';
      const res = await fetch(`${collector.url}/v1/logs`, {
        method: 'POST',
        headers,
        body: gzip ? gzipSync(encoded) : Buffer.from(encoded),
      });
      expect(res.status, service).toBe(200);
      expect(res.headers.get('content-type'), service).toBe(type);
      expect(
        serializer.deserializeResponse(new Uint8Array(await res.arrayBuffer())).partialSuccess,
        service,
      ).toBeUndefined();
      const rows = await storedRows(service);
      expect(rows, service).toEqual(sortByTime(records).map(expectedRow));
      stored.push(rows.map(withoutServiceName));
    }
    const [json, ...others] = stored;
    expect(json).toHaveLength(SCENARIO_SIZE);
    for (const rows of others) expect(rows).toEqual(json);
  });
});

// ───────────────────────────── helpers ─────────────────────────────

const SCENARIO_SIZE = 8;

/**
 * Eight records, one per body kind: a string body with a span context, every attribute type and
 * an event name; a kvlist; an array; an int; a double; a bool; bytes; and no body at all.
 */
function emitScenario(logger: Logger): void {
  const withSpan = trace.setSpanContext(ROOT_CONTEXT, SPAN_CONTEXT);
  logger.emit({
    timestamp: [T0, 123456789],
    observedTimestamp: [T0, 223456789],
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    body: 'user asked for a refactor',
    eventName: 'claude_code.user_prompt',
    context: withSpan,
    attributes: {
      'attr.int': 42,
      'attr.double': 0.25,
      'attr.bool': true,
      'attr.strings': ['a', 'b'],
      'attr.large_int': 2 ** 40,
    },
  });
  const bodies: AnyValue[] = [
    { tokens: 1200, nested: { list: [1, 'two', false] } },
    [1, 2.5, 'three', true],
    7,
    2.5,
    false,
    new Uint8Array([1, 2, 3, 255]),
  ];
  bodies.forEach((body, i) => {
    logger.emit({
      timestamp: [T0 + 1 + i, 1],
      observedTimestamp: [T0 + 1 + i, 2],
      severityNumber: i === 0 ? SeverityNumber.ERROR : SeverityNumber.DEBUG,
      severityText: i === 0 ? 'ERROR' : 'DEBUG',
      body,
      context: ROOT_CONTEXT,
    });
  });
  logger.emit({ timestamp: [T0 + 9, 999999999], context: ROOT_CONTEXT }); // no body, no severity
}

function testResource(service: string) {
  return resourceFromAttributes(
    { 'service.name': service, 'host.name': 'test-host', 'process.pid': 4242 },
    { schemaUrl: 'https://opentelemetry.io/schemas/1.29.0' },
  );
}

/** Records made by the SDK for `service`, kept in memory. */
async function recordInMemory(service: string, emit: (logger: Logger) => void): Promise<ReadableLogRecord[]> {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: testResource(service),
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  });
  emit(
    provider.getLogger('sessiongraph-logs-scope', '2.7.1', {
      schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
      attributes: { 'scope.attr': 'on' },
    }),
  );
  await provider.forceFlush();
  return [...memory.getFinishedLogRecords()];
}

/** Rows of one service, oldest first; the time read as UTC text so the engine's zone does not matter. */
async function storedRows(service: string): Promise<Array<Record<string, unknown>>> {
  const rows = await queryRows(
    collector.storage,
    `SELECT * EXCEPT (Timestamp), toString(Timestamp, 'UTC') AS ts_text FROM sessiongraph.otel_logs WHERE ServiceName = {s:String} ORDER BY Timestamp`,
    { s: service },
  );
  return rows;
}

/** The row the collector must store for a record (same keys as `storedRows`). */
function expectedRow(record: ReadableLogRecord): Record<string, unknown> {
  const time = nanos(record.hrTime) === 0n ? nanos(record.hrTimeObserved) : nanos(record.hrTime);
  return {
    TraceId: record.spanContext?.traceId ?? '',
    SpanId: record.spanContext?.spanId ?? '',
    TraceFlags: record.spanContext?.traceFlags ?? 0,
    SeverityText: record.severityText ?? '',
    SeverityNumber: record.severityNumber ?? 0,
    ServiceName: record.resource.attributes['service.name'],
    Body: formatAttributeValue(toPlain(record.body)),
    ResourceSchemaUrl: record.resource.schemaUrl ?? '',
    ResourceAttributes: asText(record.resource.attributes),
    ScopeSchemaUrl: record.instrumentationScope.schemaUrl ?? '',
    ScopeName: record.instrumentationScope.name,
    ScopeVersion: record.instrumentationScope.version ?? '',
    ScopeAttributes: asText(record.instrumentationScope.attributes ?? {}),
    LogAttributes: asText(record.attributes),
    EventName: record.eventName ?? '',
    ts_text: utcText(time),
  };
}

/** An SDK AnyValue as the decoders' PlainValue (integers as bigints, as OTLP carries them). */
function toPlain(value: AnyValue | undefined): PlainValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (typeof value === 'string' || typeof value === 'boolean' || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(toPlain);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(v)]));
}
