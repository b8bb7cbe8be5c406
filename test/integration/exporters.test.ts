/**
 * Real OpenTelemetry exporters (OTLP/HTTP JSON and protobuf, with and without gzip) and the
 * SDK's own request serializers against a collector on a real loopback port: every column of
 * every stored row must equal what the SDK recorded, to the nanosecond.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  createTraceState,
  trace,
  type Attributes,
  type Tracer,
} from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-node';
import type { RunningCollector } from '../../collector/server.ts';
import { startTestCollector, tempDir } from '../helpers/collector.ts';
import {
  RecordingExporter,
  asText,
  nanos,
  storedSpanRows,
  utcText,
  withoutServiceName,
} from '../helpers/otel-records.ts';

let collector: RunningCollector;

beforeAll(async () => {
  collector = await startTestCollector(tempDir());
});

afterAll(async () => {
  await collector?.close();
});

describe('real OpenTelemetry exporters → collector', () => {
  const variants = [
    { service: 'exp-json', Exporter: JsonExporter, gzip: false },
    { service: 'exp-json-gzip', Exporter: JsonExporter, gzip: true },
    { service: 'exp-proto', Exporter: ProtoExporter, gzip: false },
    { service: 'exp-proto-gzip', Exporter: ProtoExporter, gzip: true },
  ];

  for (const { service, Exporter, gzip } of variants) {
    it(`${service}: every column equals the exported span`, async () => {
      const exporter = new RecordingExporter(
        new Exporter({
          url: `${collector.url}/v1/traces`,
          compression: gzip ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
        }),
      );
      const provider = new NodeTracerProvider({
        resource: testResource(service),
        spanProcessors: [new BatchSpanProcessor(exporter)],
      });
      recordScenario(provider.getTracer('sessiongraph-test-scope', '3.1.4'));
      await provider.forceFlush();
      await provider.shutdown();

      expect(exporter.results).toEqual([{ code: ExportResultCode.SUCCESS }]);
      expect(exporter.items).toHaveLength(3);
      const rows = await storedSpanRows(collector.storage, service);
      expect(rows).toEqual(sortByName(exporter.items).map(expectedRow));

      // Spot checks against literals, so the comparison does not rest on the SDK alone.
      const [server, client, internal] = rows;
      expect(server).toMatchObject({
        ts_text: '2026-01-01 00:00:00.123456789',
        Duration: '1864197532',
        SpanKind: 'Server',
        ParentSpanId: '',
        StatusCode: 'Error',
        StatusMessage: 'upstream failed',
        ScopeName: 'sessiongraph-test-scope',
        ScopeVersion: '3.1.4',
        SpanAttributes: SERVER_ATTRIBUTES_TEXT,
        ev_ts_text: ['2026-01-01 00:00:00.223456789', '2026-01-01 00:00:01.000000001'],
        'Links.TraceState': ['vendor=opaque,other=1'],
        'Links.Attributes': [{ 'link.kind': 'follows', 'link.n': '3' }],
      });
      expect(server?.ResourceAttributes).toMatchObject({
        'service.name': service,
        'process.pid': '4242',
        'test.flag': 'true',
      });
      expect(client).toMatchObject({
        SpanKind: 'Client',
        ParentSpanId: server?.SpanId,
        TraceId: server?.TraceId,
        StatusCode: 'Ok',
        Duration: '600000998',
      });
      expect(internal).toMatchObject({
        SpanKind: 'Internal',
        StatusCode: 'Unset',
        TraceState: 'congo=t61rcWkgMzE',
        Duration: '0',
        ts_text: '2026-01-01 00:00:02.000000005',
      });
    });
  }
});

describe('the SDK serializers: the same request in JSON and protobuf stores identical rows', () => {
  it('JSON, protobuf, and both gzip-compressed store the same rows', async () => {
    const memory = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({
      resource: testResource('ser-base'),
      spanProcessors: [new SimpleSpanProcessor(memory)],
    });
    recordScenario(provider.getTracer('sessiongraph-test-scope', '3.1.4'));
    await provider.forceFlush();
    const spans = memory.getFinishedSpans();
    expect(spans).toHaveLength(3);

    const variants = [
      { service: 'ser-json', serializer: JsonTraceSerializer, type: 'application/json', gzip: false },
      { service: 'ser-proto', serializer: ProtobufTraceSerializer, type: 'application/x-protobuf', gzip: false },
      { service: 'ser-json-gzip', serializer: JsonTraceSerializer, type: 'application/json', gzip: true },
      { service: 'ser-proto-gzip', serializer: ProtobufTraceSerializer, type: 'application/x-protobuf', gzip: true },
    ];
    const stored: Array<Array<Record<string, unknown>>> = [];
    for (const { service, serializer, type, gzip } of variants) {
      const request = withService(spans, service);
      const encoded = serializer.serializeRequest(request);
      if (!encoded) throw new Error(`${service}: serializer returned nothing`);
      const headers: Record<string, string> = { 'content-type': type };
      if (gzip) headers['content-encoding'] = 'gzip';
      const res = await fetch(`${collector.url}/v1/traces`, {
        method: 'POST',
        headers,
        body: gzip ? gzipSync(encoded) : Buffer.from(encoded),
      });
      expect(res.status, service).toBe(200);
      const response = serializer.deserializeResponse(new Uint8Array(await res.arrayBuffer()));
      expect(response.partialSuccess, service).toBeUndefined();

      const rows = await storedSpanRows(collector.storage, service);
      expect(rows, service).toEqual(sortByName(request).map(expectedRow));
      stored.push(rows.map(withoutServiceName));
    }
    await provider.shutdown();
    const [json, ...others] = stored;
    expect(json).toHaveLength(3);
    for (const rows of others) expect(rows).toEqual(json);
  });
});

// ───────────────────────────── helpers ─────────────────────────────

const T0 = 1767225600; // 2026-01-01T00:00:00Z

const SERVER_ATTRIBUTES: Attributes = {
  'attr.string': 'hello',
  'attr.int': 42,
  'attr.large_int': 2 ** 40,
  'attr.double': 0.25,
  'attr.bool': true,
  'attr.false': false,
  'attr.strings': ['a', 'b'],
  'attr.numbers': [1, 2.5],
  'attr.bools': [true, false],
};

const SERVER_ATTRIBUTES_TEXT = {
  'attr.string': 'hello',
  'attr.int': '42',
  'attr.large_int': '1099511627776',
  'attr.double': '0.25',
  'attr.bool': 'true',
  'attr.false': 'false',
  'attr.strings': '["a","b"]',
  'attr.numbers': '[1,2.5]',
  'attr.bools': '[true,false]',
};

/** The SDK's default resource (telemetry.sdk.*) plus ours. */
function testResource(service: string) {
  return defaultResource().merge(
    resourceFromAttributes({
      'service.name': service,
      'deployment.environment.name': 'test',
      'process.pid': 4242,
      'test.flag': true,
    }),
  );
}

/**
 * Three spans: a SERVER root (every attribute type, two events, a link, status ERROR) with a
 * CLIENT child (status OK), and an INTERNAL span under a remote parent carrying a trace state.
 */
function recordScenario(tracer: Tracer): void {
  const linked = {
    traceId: 'f'.repeat(31) + '1',
    spanId: 'e'.repeat(15) + '2',
    traceFlags: 1,
    traceState: createTraceState('vendor=opaque,other=1'),
  };
  const server = tracer.startSpan(
    'a-server',
    {
      kind: SpanKind.SERVER,
      startTime: [T0, 123456789],
      attributes: SERVER_ATTRIBUTES,
      links: [{ context: linked, attributes: { 'link.kind': 'follows', 'link.n': 3 } }],
    },
    ROOT_CONTEXT,
  );
  server.addEvent('request.received', { 'ev.int': 7, 'ev.str': 'x', 'ev.double': 1.5 }, [T0, 223456789]);
  server.addEvent('retry', { 'ev.bools': [true, false] }, [T0 + 1, 1]);
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed' });

  const client = tracer.startSpan(
    'b-client',
    { kind: SpanKind.CLIENT, startTime: [T0, 300000001], attributes: { 'peer.service': 'db', 'db.rows': 12 } },
    trace.setSpan(ROOT_CONTEXT, server),
  );
  client.addEvent('sent', {}, [T0, 300000002]);
  client.setStatus({ code: SpanStatusCode.OK });
  client.end([T0, 900000999]);
  server.end([T0 + 1, 987654321]);

  const remote = {
    traceId: '0123456789abcdef0123456789abcdef',
    spanId: '0123456789abcdef',
    traceFlags: 1,
    isRemote: true,
    traceState: createTraceState('congo=t61rcWkgMzE'),
  };
  tracer
    .startSpan('c-internal', { startTime: [T0 + 2, 5] }, trace.setSpanContext(ROOT_CONTEXT, remote))
    .end([T0 + 2, 5]);
}

/** The row the collector must store for a span (same keys as `storedRows`). */
function expectedRow(span: ReadableSpan): Record<string, unknown> {
  const context = span.spanContext();
  return {
    TraceId: context.traceId,
    SpanId: context.spanId,
    ParentSpanId: span.parentSpanContext?.spanId ?? '',
    TraceState: context.traceState?.serialize() ?? '',
    SpanName: span.name,
    SpanKind: ['Internal', 'Server', 'Client', 'Producer', 'Consumer'][span.kind],
    ServiceName: span.resource.attributes['service.name'],
    ResourceAttributes: asText(span.resource.attributes),
    ScopeName: span.instrumentationScope.name,
    ScopeVersion: span.instrumentationScope.version ?? '',
    SpanAttributes: asText(span.attributes),
    Duration: (nanos(span.endTime) - nanos(span.startTime)).toString(),
    StatusCode: ['Unset', 'Ok', 'Error'][span.status.code],
    StatusMessage: span.status.message ?? '',
    'Events.Name': span.events.map((e) => e.name),
    'Events.Attributes': span.events.map((e) => asText(e.attributes ?? {})),
    'Links.TraceId': span.links.map((l) => l.context.traceId),
    'Links.SpanId': span.links.map((l) => l.context.spanId),
    'Links.TraceState': span.links.map((l) => l.context.traceState?.serialize() ?? ''),
    'Links.Attributes': span.links.map((l) => asText(l.attributes ?? {})),
    ts_text: utcText(nanos(span.startTime)),
    ev_ts_text: span.events.map((e) => utcText(nanos(e.time))),
  };
}

function sortByName(spans: ReadableSpan[]): ReadableSpan[] {
  return [...spans].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The same spans with another service.name (a view: everything else reads through to the span). */
function withService(spans: ReadableSpan[], service: string): ReadableSpan[] {
  return spans.map((span) => {
    const resource = resourceFromAttributes({ ...span.resource.attributes, 'service.name': service });
    return Object.create(span, { resource: { value: resource, enumerable: true } }) as ReadableSpan;
  });
}
