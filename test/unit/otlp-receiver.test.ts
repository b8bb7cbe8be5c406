/**
 * The OTLP/HTTP receiver through `app.request()` over an in-memory sink, no engine (as Hono's and
 * the Collector's own receiver tests do): what reaches the writer, and what each failure of the
 * sink becomes for the exporter (status, `google.rpc.Status` code, Retry-After). The engine-backed
 * behaviour of the same paths is in the integration tests.
 */
import { context, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../collector/app.ts';
import { parseConfig } from '../../src/config.ts';
import { SpanWriter } from '../../src/ingest/span-writer.ts';
import type { GraphWriter } from '../../src/ingest/graph-writer.ts';
import { silentLogger } from '../../src/logger.ts';
import type { WrittenBatch } from '../../src/storage/batch-writer.ts';
import type { Storage } from '../../src/storage/storage.ts';
import { readOtlpAnswer } from '../helpers/otlp-answer.ts';

/** A sink that keeps what it is given, fails with `failure` when set, or waits for `gate`. */
function sinkApp(env: Record<string, string> = {}) {
  const batches: WrittenBatch[] = [];
  const sink = { failure: undefined as Error | undefined, gate: undefined as Promise<void> | undefined };
  const config = parseConfig({
    SESSIONGRAPH_DATA_DIR: '/nonexistent',
    SESSIONGRAPH_PORT: '0',
    SESSIONGRAPH_BATCH_LINGER_MS: '0',
    ...env,
  });
  const writer = new SpanWriter(async (batch) => {
    await sink.gate;
    if (sink.failure) throw sink.failure;
    batches.push(batch);
  }, config);
  // Only what the receiver's routes touch: nothing is stored or rolled up here.
  const graph = {
    stageSeconds: { raw: 0, facts: 0, rollup: 0 },
    rollUps: { passes: 0, failedPasses: 0, tracesRolledUp: 0, backlog: 0 },
    settled: async () => true,
  } as unknown as GraphWriter;
  const storage = { database: 'sessiongraph', engine: 'embedded', ping: async () => true } as unknown as Storage;
  const app = createApp({ storage, writer, graph, config, logger: silentLogger });
  const post = (body: Uint8Array | string, contentType: string) =>
    app.request('/v1/traces', {
      method: 'POST',
      body: typeof body === 'string' ? body : Buffer.from(body),
      headers: { 'content-type': contentType },
    });
  return { app, batches, sink, writer, post };
}

/** A request made by the OpenTelemetry SDK's own protobuf serializer: an agent span and a tool span. */
function protobufRequest(): Uint8Array {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'receiver-test' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('test');
  const root = tracer.startSpan('invoke_agent triage', {
    attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'triage' },
  });
  tracer
    .startSpan(
      'execute_tool search',
      { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search' } },
      trace.setSpan(context.active(), root),
    )
    .end();
  root.end();
  return ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans()) ?? new Uint8Array();
}

const jsonSpan = (traceId: string, spanId: string, name: string) => ({
  traceId,
  spanId,
  name,
  startTimeUnixNano: '1795000000000000000',
  endTimeUnixNano: '1795000001000000000',
});
const jsonRequest = (spans: unknown[]): string =>
  JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans }] }] });

describe('OTLP/HTTP receiver over an in-memory sink', () => {
  it('protobuf: 200 once the sink has the spans, as raw lines and facts, with the traces to roll up', async () => {
    const { post, batches } = sinkApp();
    const res = await post(protobufRequest(), 'application/x-protobuf');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    expect(await readOtlpAnswer(res)).toEqual({}); // a full success: an empty ExportTraceServiceResponse
    expect(batches).toHaveLength(1);
    const [batch] = batches;
    const rows = (batch?.slices ?? [])
      .flatMap((slice) => slice.split('\n'))
      .map((line) => JSON.parse(line) as { SpanName: string; ServiceName: string });
    expect(rows.map((r) => r.SpanName).sort()).toEqual(['execute_tool search', 'invoke_agent triage']);
    expect(rows.every((r) => r.ServiceName === 'receiver-test')).toBe(true);
    const facts = (batch?.factLines ?? '')
      .split('\n')
      .map((line) => JSON.parse(line) as { tool_name?: string; is_agent?: number });
    expect(facts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ tool_name: 'search' }),
        expect.objectContaining({ is_agent: 1 }),
      ]),
    );
    expect(batch?.traceIds).toHaveLength(1);
  });

  it('JSON with an invalid span: a partial success, and only the valid span reaches the sink', async () => {
    const { post, batches } = sinkApp();
    const res = await post(
      jsonRequest([
        jsonSpan('0102030405060708090a0b0c0d0e0f10', '0102030405060708', 'ok'),
        jsonSpan('xyz', '0102030405060709', 'bad id'),
      ]),
      'application/json',
    );
    expect(res.status).toBe(200);
    const answer = await readOtlpAnswer(res);
    expect(answer.rejected).toBe(1);
    expect(answer.message).toMatch(/spans\[1\]/);
    expect(batches.flatMap((b) => b.slices).join('\n')).toContain('"SpanName":"ok"');
    expect(batches.flatMap((b) => b.slices).join('\n')).not.toContain('bad id');
  });

  it('storage unreachable: 503 + Retry-After + UNAVAILABLE, then refused before the sink until storage is back', async () => {
    const { post, sink, batches, writer } = sinkApp();
    sink.failure = new Error('connect ECONNREFUSED 127.0.0.1:8123');
    const res = await post(
      jsonRequest([jsonSpan('0102030405060708090a0b0c0d0e0f11', '0102030405060708', 'a')]),
      'application/json',
    );
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await readOtlpAnswer(res)).toMatchObject({ code: 14, message: expect.stringContaining('ECONNREFUSED') });
    sink.failure = undefined;
    const again = await post(
      jsonRequest([jsonSpan('0102030405060708090a0b0c0d0e0f12', '0102030405060708', 'b')]),
      'application/json',
    );
    expect(again.status).toBe(503);
    expect(batches).toHaveLength(0);
    writer.markAvailable();
    expect(
      (
        await post(
          jsonRequest([jsonSpan('0102030405060708090a0b0c0d0e0f13', '0102030405060708', 'c')]),
          'application/json',
        )
      ).status,
    ).toBe(200);
    expect(batches).toHaveLength(1);
  });

  it('the engine refusing the rows: 400 + INVALID_ARGUMENT, final (no Retry-After), and storage stays available', async () => {
    const { post, sink } = sinkApp();
    sink.failure = Object.assign(new Error("Cannot parse input: expected '\"' before: …"), { code: '27' });
    const res = await post(
      jsonRequest([jsonSpan('0102030405060708090a0b0c0d0e0f14', '0102030405060708', 'a')]),
      'application/json',
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(await readOtlpAnswer(res)).toMatchObject({
      code: 3,
      message: expect.stringContaining('storage refused the spans'),
    });
    sink.failure = undefined;
    expect(
      (
        await post(
          jsonRequest([jsonSpan('0102030405060708090a0b0c0d0e0f15', '0102030405060708', 'b')]),
          'application/json',
        )
      ).status,
    ).toBe(200);
  });

  it('the queue full: 429 + Retry-After before the body is read; the queued request is answered 200 when stored', async () => {
    const { post, sink } = sinkApp({ SESSIONGRAPH_QUEUE_MAX_SPANS: '1' });
    let open!: () => void;
    sink.gate = new Promise<void>((resolve) => (open = resolve));
    const first = post(
      jsonRequest([jsonSpan('0102030405060708090a0b0c0d0e0f16', '0102030405060708', 'a')]),
      'application/json',
    );
    await new Promise((r) => setTimeout(r, 10));
    const refused = await post(
      jsonRequest([jsonSpan('0102030405060708090a0b0c0d0e0f17', '0102030405060708', 'b')]),
      'application/json',
    );
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    expect(await readOtlpAnswer(refused)).toMatchObject({ code: 8 });
    open();
    expect((await first).status).toBe(200);
  });

  it('a Content-Type it does not take: 415, nothing reaches the sink', async () => {
    const { post, batches } = sinkApp();
    const res = await post('hello', 'text/plain');
    expect(res.status).toBe(415);
    expect(batches).toHaveLength(0);
  });
});
