/**
 * OTLP/gRPC receiver (SPEC §6, OTLP spec "OTLP/gRPC"): the real OpenTelemetry gRPC exporter over
 * loopback stores exactly what OTLP/HTTP protobuf stores; refusals carry the statuses the OTLP
 * spec prescribes (retryable ones with google.rpc.RetryInfo); API keys travel as metadata;
 * close() answers the call in flight. Raw calls go through a plain grpc-js client with
 * pass-through serializers, and answers are read with a few lines of wire-format parsing
 * independent of the collector's own encoders.
 */
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Client,
  Metadata,
  compressionAlgorithms,
  credentials,
  status,
  type ChannelOptions,
  type ServiceError,
} from '@grpc/grpc-js';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, createTraceState, trace, type Tracer } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { startCollector, type RunningCollector } from '../../collector/server.ts';
import type { Config } from '../../src/config.ts';
import { silentLogger } from '../../src/logger.ts';
import { openStoppedDataDir, queryRows, tempDir, testConfig } from '../helpers/collector.ts';
import { storedSpanRows, withoutServiceName } from '../helpers/otel-records.ts';
import { protobufFields } from '../helpers/otlp-answer.ts';

const INGEST = 'grpc-test-ingest';
const READ = 'grpc-test-read';
const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

const dir = tempDir();
// Small limits on purpose: a 64 KiB message limit to exceed, and a one-span queue that a lone
// request fills for its 200 ms linger, so a second request meets a full queue (and close() meets
// a call in flight).
const config: Config = testConfig(dir, {
  SESSIONGRAPH_API_KEYS: `${INGEST}=ingest,${READ}=read`,
  SESSIONGRAPH_MAX_BODY_SIZE: '64KiB',
  SESSIONGRAPH_QUEUE_MAX_SPANS: '1',
  SESSIONGRAPH_BATCH_LINGER_MS: '200',
});
let collector: RunningCollector;
let client: Client;

beforeAll(async () => {
  collector = await startCollector(config, silentLogger);
  client = rawClient();
});

afterAll(async () => {
  client?.close();
  await collector?.close();
});

describe('OTLP/gRPC: the real OpenTelemetry exporter', () => {
  it('stores, plain and gzip-compressed, every column exactly as the same spans sent over OTLP/HTTP protobuf', async () => {
    const spans = await recordScenario();
    const metadata = keyMetadata('authorization', `Bearer ${INGEST}`);
    const variants = [
      {
        service: 'via-http-proto',
        exporter: new ProtoExporter({
          url: `${collector.url}/v1/traces`,
          headers: { authorization: `Bearer ${INGEST}` },
        }),
      },
      {
        service: 'via-grpc',
        exporter: new GrpcExporter({ url: grpcUrl(), metadata, compression: CompressionAlgorithm.NONE }),
      },
      {
        service: 'via-grpc-gzip',
        exporter: new GrpcExporter({ url: grpcUrl(), metadata, compression: CompressionAlgorithm.GZIP }),
      },
    ];
    const stored: Array<Array<Record<string, unknown>>> = [];
    for (const { service, exporter } of variants) {
      const result = await exportWith(exporter, withService(spans, service));
      expect(result, service).toEqual({ code: ExportResultCode.SUCCESS });
      const rows = await storedSpanRows(collector.storage, service);
      expect(rows, service).toHaveLength(3);
      stored.push(rows.map(withoutServiceName));
    }
    const [http, ...grpc] = stored;
    for (const rows of grpc) expect(rows).toEqual(http);

    // Spot checks against literals, so that equal rows cannot mean equally wrong rows.
    expect(stored[1]?.[0]).toMatchObject({
      SpanName: 'a-server',
      SpanKind: 'Server',
      ts_text: '2026-01-01 00:00:00.123456789',
      Duration: '1864197532',
      StatusCode: 'Error',
      StatusMessage: 'upstream failed',
      SpanAttributes: { 'attr.string': 'hello', 'attr.int': '42', 'attr.strings': '["a","b"]' },
      ev_ts_text: ['2026-01-01 00:00:00.223456789'],
      'Links.TraceState': ['vendor=opaque'],
    });
    expect(stored[2]?.[2]).toMatchObject({
      SpanName: 'c-internal',
      TraceState: 'congo=t61rcWkgMzE',
      ParentSpanId: '0123456789abcdef',
    });
  });
});

describe('OTLP/gRPC: refusals and partial success', () => {
  it('answers garbage bytes INVALID_ARGUMENT and stores nothing', async () => {
    const before = await countSpans();
    const { err } = await call(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]));
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/malformed protobuf/);
    expect(retryDelayOf(err)).toBeUndefined();
    expect(await countSpans()).toBe(before);
  });

  it('stores the valid spans and reports the invalid ones in partial_success', async () => {
    const good = testSpan(traceIdOf(1), 'partial-good');
    const badTrace = { ...testSpan(traceIdOf(2), 'partial-bad-trace'), traceId: Buffer.alloc(15, 7) };
    const badSpan = { ...testSpan(traceIdOf(3), 'partial-bad-span'), spanId: Buffer.alloc(8) };
    const { err, response } = await call(exportRequest('partial', [good, badTrace, badSpan]));
    expect(err).toBeNull();
    const partial = protobufFields(protobufFields(response ?? Buffer.alloc(0)).get(1)?.[0] as Uint8Array); // ExportTracePartialSuccess
    expect(partial.get(1)?.[0]).toBe(2); // rejected_spans
    expect(text(partial.get(2)?.[0])).toMatch(/trace id/);
    const rows = await queryRows<{ SpanName: string }>(
      collector.storage,
      "SELECT SpanName FROM sessiongraph.otel_traces WHERE ServiceName = 'partial'",
    );
    expect(rows.map((r) => r.SpanName)).toEqual(['partial-good']);
  });

  it('with API keys: none or unknown is UNAUTHENTICATED, read-only is PERMISSION_DENIED, ingest (Bearer or x-api-key) is stored', async () => {
    const body = (n: number): Buffer => exportRequest('keys', [testSpan(traceIdOf(100 + n), `keys-${n}`)]);
    const none = await call(body(1), new Metadata());
    expect(none.err?.code).toBe(status.UNAUTHENTICATED);
    expect(none.err?.details).toMatch(/API key is required/);
    expect((await call(body(2), keyMetadata('authorization', 'Bearer not-a-key'))).err?.code).toBe(
      status.UNAUTHENTICATED,
    );
    expect((await call(body(3), keyMetadata('x-api-key', 'not-a-key'))).err?.code).toBe(status.UNAUTHENTICATED);
    const readOnly = await call(body(4), keyMetadata('authorization', `Bearer ${READ}`));
    expect(readOnly.err?.code).toBe(status.PERMISSION_DENIED);
    expect(readOnly.err?.details).toMatch(/"ingest" scope/);
    expect((await call(body(5), keyMetadata('authorization', `Bearer ${INGEST}`))).err).toBeNull();
    expect((await call(body(6), keyMetadata('x-api-key', INGEST))).err).toBeNull();
    const rows = await queryRows<{ SpanName: string }>(
      collector.storage,
      "SELECT SpanName FROM sessiongraph.otel_traces WHERE ServiceName = 'keys' ORDER BY SpanName",
    );
    expect(rows.map((r) => r.SpanName)).toEqual(['keys-5', 'keys-6']);
  });

  it('answers UNAVAILABLE with a RetryInfo delay while storage is down, and stores again once it is back', async () => {
    collector.writer.markUnavailable('simulated outage', false);
    try {
      const { err } = await call(exportRequest('outage', [testSpan(traceIdOf(200), 'outage-refused')]));
      expect(err?.code).toBe(status.UNAVAILABLE);
      expect(err?.details).toMatch(/storage is unavailable \(simulated outage\)/);
      expect(retryDelayOf(err)).toBe(5);
    } finally {
      collector.writer.markAvailable();
    }
    expect((await call(exportRequest('outage', [testSpan(traceIdOf(201), 'outage-stored')]))).err).toBeNull();
    const rows = await queryRows<{ SpanName: string }>(
      collector.storage,
      "SELECT SpanName FROM sessiongraph.otel_traces WHERE ServiceName = 'outage'",
    );
    expect(rows.map((r) => r.SpanName)).toEqual(['outage-stored']);
  });

  it('answers RESOURCE_EXHAUSTED with a RetryInfo delay when the queue is full', async () => {
    // Six calls at once; the first fills the one-span queue for its 200 ms linger.
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => call(exportRequest('busy', [testSpan(traceIdOf(300 + i), `busy-${i}`)]))),
    );
    const ok = answers.filter((a) => a.err === null);
    const refused = answers.filter((a) => a.err !== null);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const { err } of refused) {
      expect(err?.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(retryDelayOf(err)).toBe(1);
    }
    expect(await countSpans("ServiceName = 'busy'")).toBe(ok.length);
  });

  it('refuses a message over --max-body-size with RESOURCE_EXHAUSTED and no RetryInfo (final), plain or gzip-inflated', async () => {
    const plain = await call(Buffer.alloc(100 * 1024, 1));
    expect(plain.err?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(retryDelayOf(plain.err)).toBeUndefined();

    // 1 MiB that gzip shrinks to about 1 KiB: the limit holds after decompression too.
    const gzipClient = rawClient({ 'grpc.default_compression_algorithm': compressionAlgorithms.gzip });
    try {
      const bomb = await call(Buffer.alloc(1024 * 1024), keyMetadata('authorization', `Bearer ${INGEST}`), gzipClient);
      expect(bomb.err?.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(bomb.err?.details).toMatch(/larger than/);
      const fits = await call(
        exportRequest('gzip-raw', [testSpan(traceIdOf(400), 'gzip-raw')]),
        keyMetadata('authorization', `Bearer ${INGEST}`),
        gzipClient,
      );
      expect(fits.err).toBeNull();
    } finally {
      gzipClient.close();
    }
    expect(await countSpans("ServiceName = 'gzip-raw'")).toBe(1);
  });

  it('refuses a gzip frame that does not inflate with a final status, and keeps serving', async () => {
    // grpc-js inflates before any handler runs and answers INTERNAL itself: final for exporters
    // (OTLP/gRPC's table), like INVALID_ARGUMENT would be.
    const session = http2.connect(grpcUrl());
    try {
      const frame = Buffer.concat([Buffer.from([1, 0, 0, 0, 16]), Buffer.alloc(16, 0x55)]); // compressed flag, length 16, not gzip
      const stream = session.request({
        ':method': 'POST',
        ':path': TRACE_EXPORT,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-encoding': 'gzip',
        authorization: `Bearer ${INGEST}`,
      });
      const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => {
        stream.on('response', (headers) => {
          if (headers['grpc-status'] !== undefined) resolve(headers); // trailers-only answer
        });
        stream.on('trailers', resolve);
      });
      stream.on('error', () => {});
      stream.resume();
      stream.end(frame);
      expect(Number((await trailers)['grpc-status'])).toBe(status.INTERNAL);
    } finally {
      session.close();
    }
    expect((await call(exportRequest('after-bad-gzip', [testSpan(traceIdOf(450), 'still-served')]))).err).toBeNull();
  });

  it('counts gRPC calls by status and their spans on /metrics', async () => {
    const stats = collector.receivers.traces.stats;
    const okBefore = stats.grpcRequests?.OK ?? 0;
    const acceptedBefore = await acceptedSpans();
    expect(
      (
        await call(
          exportRequest('metrics', [
            testSpan(traceIdOf(500), 'm-1'),
            testSpan(traceIdOf(500), 'm-2', '00000000000000b2'),
          ]),
        )
      ).err,
    ).toBeNull();
    expect(await acceptedSpans()).toBe(acceptedBefore + 2);
    expect(stats.grpcRequests).toMatchObject({
      OK: okBefore + 1,
      INVALID_ARGUMENT: 1,
      UNAUTHENTICATED: 3,
      PERMISSION_DENIED: 1,
      UNAVAILABLE: 1,
    });
    expect(stats.grpcRequests?.RESOURCE_EXHAUSTED).toBeGreaterThanOrEqual(1);
  });
});

describe('OTLP/gRPC: shutdown', () => {
  it('close() answers the call in flight once its spans are stored; calls after it get UNAVAILABLE', async () => {
    const inFlight = call(exportRequest('closing', [testSpan(traceIdOf(600), 'in-flight')]));
    // The call has reached the writer and waits out its linger: now close.
    await until(() => collector.writer.backlogSpans > 0, 10_000);
    const closed = collector.close();
    const late = await call(exportRequest('closing', [testSpan(traceIdOf(601), 'too-late')]));
    expect(late.err?.code).toBe(status.UNAVAILABLE);
    const answered = await inFlight;
    expect(answered.err).toBeNull();
    await closed;

    const storage = openStoppedDataDir(dir);
    try {
      const rows = await queryRows<{ SpanName: string }>(
        storage,
        "SELECT SpanName FROM sessiongraph.otel_traces WHERE ServiceName = 'closing'",
      );
      expect(rows.map((r) => r.SpanName)).toEqual(['in-flight']);
    } finally {
      await storage.close();
    }
  });
});

// ───────────────────────────── helpers ─────────────────────────────

function grpcUrl(): string {
  if (!collector.grpcUrl) throw new Error('the collector has no gRPC receiver');
  return collector.grpcUrl;
}

function rawClient(options: ChannelOptions = {}): Client {
  return new Client(grpcUrl().replace(/^http:\/\//, ''), credentials.createInsecure(), options);
}

function keyMetadata(key: string, value: string): Metadata {
  const metadata = new Metadata();
  metadata.set(key, value);
  return metadata;
}

/** One raw Export call (ingest key unless other metadata is given). */
function call(
  body: Buffer,
  metadata = keyMetadata('authorization', `Bearer ${INGEST}`),
  via = client,
): Promise<{ err: ServiceError | null; response?: Buffer }> {
  const same = (b: Buffer): Buffer => b;
  return new Promise((resolve) => {
    via.makeUnaryRequest(TRACE_EXPORT, same, same, body, metadata, { deadline: Date.now() + 30_000 }, (err, response) =>
      resolve({ err, response }),
    );
  });
}

/** The retry delay (seconds) of the RetryInfo in an error's grpc-status-details-bin, if any. */
function retryDelayOf(err: ServiceError | null | undefined): number | undefined {
  const details = err?.metadata?.get('grpc-status-details-bin')[0];
  if (!(details instanceof Buffer)) return undefined;
  const statusFields = protobufFields(details); // google.rpc.Status { 1 code, 2 message, 3 details (Any) }
  expect(statusFields.get(1)?.[0]).toBe(err?.code);
  for (const any of statusFields.get(3) ?? []) {
    const anyFields = protobufFields(any as Uint8Array); // Any { 1 type_url, 2 value }
    if (text(anyFields.get(1)?.[0]) !== 'type.googleapis.com/google.rpc.RetryInfo') continue;
    const retryDelay = protobufFields(protobufFields(anyFields.get(2)?.[0] as Uint8Array).get(1)?.[0] as Uint8Array); // RetryInfo { 1 retry_delay: Duration { 1 seconds } }
    return (retryDelay.get(1)?.[0] as number | undefined) ?? 0;
  }
  return undefined;
}

function text(v: number | Uint8Array | undefined): string {
  return Buffer.from(v instanceof Uint8Array ? v : []).toString('utf8');
}

interface TestSpan {
  traceId: Buffer;
  spanId: Buffer;
  name: string;
}

function traceIdOf(n: number): string {
  return `6a7c0000${n.toString(16).padStart(24, '0')}`;
}

function testSpan(traceId: string, name: string, spanId = '00000000000000a1'): TestSpan {
  return { traceId: Buffer.from(traceId, 'hex'), spanId: Buffer.from(spanId, 'hex'), name };
}

/** An ExportTraceServiceRequest of one resource (service.name) and scope, written field by field. */
function exportRequest(service: string, spans: readonly TestSpan[]): Buffer {
  const start = 1_767_225_600_000_000_000n; // 2026-01-01T00:00:00Z
  const encodedSpans = spans.map((s) =>
    len(
      2,
      Buffer.concat([
        len(1, s.traceId),
        len(2, s.spanId),
        len(5, Buffer.from(s.name)),
        Buffer.from([0x30, 0x01]),
        fixed64(7, start),
        fixed64(8, start + 1_000_000n),
      ]),
    ),
  );
  const resource = len(
    1,
    len(1, Buffer.concat([len(1, Buffer.from('service.name')), len(2, len(1, Buffer.from(service)))])),
  );
  const scopeSpans = len(2, Buffer.concat([len(1, len(1, Buffer.from('grpc-test'))), ...encodedSpans]));
  return len(1, Buffer.concat([resource, scopeSpans]));
}

function len(field: number, bytes: Buffer): Buffer {
  return Buffer.concat([varintBytes(field * 8 + 2), varintBytes(bytes.length), bytes]);
}

function fixed64(field: number, value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return Buffer.concat([varintBytes(field * 8 + 1), b]);
}

function varintBytes(n: number): Buffer {
  const out: number[] = [];
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.from(out);
}

async function countSpans(where = '1'): Promise<number> {
  const [row] = await queryRows<{ n: string }>(
    collector.storage,
    `SELECT count() AS n FROM sessiongraph.otel_traces WHERE ${where}`,
  );
  return Number(row?.n);
}

async function acceptedSpans(): Promise<number> {
  const res = await collector.app.request('/metrics', { headers: { authorization: `Bearer ${READ}` } });
  const m = /^sessiongraph_spans_accepted_total (\d+)$/m.exec(await res.text());
  return Number(m?.[1]);
}

async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Exports through a real exporter and shuts it down. */
async function exportWith(exporter: SpanExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  const result = await new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));
  await exporter.shutdown();
  return result.error ? result : { code: result.code };
}

const T0 = 1767225600; // 2026-01-01T00:00:00Z

/**
 * Three spans: a SERVER root (attributes of each type, an event, a link, status ERROR) with a
 * CLIENT child, and an INTERNAL span under a remote parent carrying a trace state.
 */
async function recordScenario(): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'base', 'process.pid': 4242 }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer: Tracer = provider.getTracer('grpc-test-scope', '1.2.3');
  const linked = {
    traceId: 'f'.repeat(31) + '1',
    spanId: 'e'.repeat(15) + '2',
    traceFlags: 1,
    traceState: createTraceState('vendor=opaque'),
  };
  const server = tracer.startSpan(
    'a-server',
    {
      kind: SpanKind.SERVER,
      startTime: [T0, 123456789],
      attributes: {
        'attr.string': 'hello',
        'attr.int': 42,
        'attr.double': 0.25,
        'attr.bool': true,
        'attr.strings': ['a', 'b'],
      },
      links: [{ context: linked, attributes: { 'link.n': 3 } }],
    },
    ROOT_CONTEXT,
  );
  server.addEvent('request.received', { 'ev.int': 7 }, [T0, 223456789]);
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed' });
  const child = tracer.startSpan(
    'b-client',
    { kind: SpanKind.CLIENT, startTime: [T0, 300000001] },
    trace.setSpan(ROOT_CONTEXT, server),
  );
  child.setStatus({ code: SpanStatusCode.OK });
  child.end([T0, 900000999]);
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
  await provider.forceFlush();
  const spans = memory.getFinishedSpans(); // before shutdown, which empties the in-memory exporter
  await provider.shutdown();
  return spans;
}

/** The same spans with another service.name (a view: everything else reads through to the span). */
function withService(spans: ReadableSpan[], service: string): ReadableSpan[] {
  return spans.map((span) => {
    const resource = resourceFromAttributes({ ...span.resource.attributes, 'service.name': service });
    return Object.create(span, { resource: { value: resource, enumerable: true } }) as ReadableSpan;
  });
}
