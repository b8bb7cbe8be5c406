/**
 * `npm run bench`: end-to-end ingest throughput of a collector on the embedded engine (raw
 * spans, span facts and the session roll-up of every touched trace), with real OTLP protobuf
 * and JSON requests from the SDK's serializers, plus decode cost per request. Figures are
 * printed; nothing here asserts a speed. BENCH_SPANS_PER_REQUEST, BENCH_SPANS_PER_TRACE,
 * BENCH_REQUESTS and BENCH_CONCURRENCY change the shape.
 */
import { performance } from 'node:perf_hooks';
import { context, trace } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { decodeTraceRequestJson } from '../src/otlp/decode-json.ts';
import { decodeTraceRequestProtobuf } from '../src/otlp/decode-protobuf.ts';
import { startTestCollector, tempDir } from '../test/helpers/collector.ts';

const SPANS_PER_REQUEST = Number(process.env.BENCH_SPANS_PER_REQUEST ?? 512);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const SPANS_PER_TRACE = Number(process.env.BENCH_SPANS_PER_TRACE ?? 16);

/** `n` spans as agent runs of SPANS_PER_TRACE spans: an invoke_agent root with chat children. */
function makeSpans(n: number): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench-agent', 'deployment.environment.name': 'bench' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('bench', '1.0.0');
  for (let made = 0; made < n; ) {
    const root = tracer.startSpan('invoke_agent bench', { attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'bench' } });
    const parent = trace.setSpan(context.active(), root);
    for (let i = 1; i < SPANS_PER_TRACE && made + i < n; i++) {
      const span = tracer.startSpan(
        `chat gpt-4o-${i % 7}`,
        {
          attributes: {
            'gen_ai.operation.name': 'chat',
            'gen_ai.request.model': 'gpt-4o',
            'gen_ai.usage.input_tokens': 1200 + i,
            'gen_ai.usage.output_tokens': 300,
            'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'x'.repeat(200) }] }]),
          },
        },
        parent,
      );
      span.addEvent('gen_ai.content.prompt', { 'gen_ai.prompt': 'y'.repeat(100) });
      span.end();
    }
    root.end();
    made += SPANS_PER_TRACE;
  }
  return exporter.getFinishedSpans().slice(0, n);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN;
}

async function main(): Promise<void> {
  const spans = makeSpans(SPANS_PER_REQUEST);
  const bodies = {
    protobuf: ProtobufTraceSerializer.serializeRequest(spans) ?? new Uint8Array(),
    json: JsonTraceSerializer.serializeRequest(spans) ?? new Uint8Array(),
  };
  console.log(`request: ${SPANS_PER_REQUEST} spans in traces of ${SPANS_PER_TRACE}; protobuf ${bodies.protobuf.length} B, JSON ${bodies.json.length} B`);

  for (const [name, decode] of [
    ['protobuf', () => decodeTraceRequestProtobuf(bodies.protobuf)],
    ['json', () => decodeTraceRequestJson(bodies.json)],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      decode();
      times.push(performance.now() - t);
    }
    const ms = median(times);
    console.log(`decode ${name}: median ${ms.toFixed(2)} ms per request (${Math.round(SPANS_PER_REQUEST / ms * 1000)} spans/s)`);
  }

  const collector = await startTestCollector(tempDir('sessiongraph-bench-'));
  try {
    for (const format of ['protobuf', 'json'] as const) {
      const body = bodies[format];
      const contentType = format === 'protobuf' ? 'application/x-protobuf' : 'application/json';
      const latencies: number[] = [];
      const insertsBefore = collector.writer.stats.inserts;
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < REQUESTS) {
            next++;
            const t = performance.now();
            const res = await fetch(`${collector.url}/v1/traces`, { method: 'POST', body: Buffer.from(body), headers: { 'content-type': contentType } });
            await res.arrayBuffer();
            if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
            latencies.push(performance.now() - t);
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const inserts = collector.writer.stats.inserts - insertsBefore;
      console.log(
        `ingest ${format}: ${REQUESTS} requests × ${SPANS_PER_REQUEST} spans, ${CONCURRENCY} concurrent → ` +
          `${Math.round((REQUESTS * SPANS_PER_REQUEST) / seconds)} spans/s, ${inserts} inserts, ` +
          `latency p50 ${median(latencies).toFixed(0)} ms p99 ${percentile(latencies, 0.99).toFixed(0)} ms, ` +
          `RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`,
      );
    }
  } finally {
    await collector.close();
  }
}

await main();
