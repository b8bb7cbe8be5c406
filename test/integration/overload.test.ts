/**
 * Overload (SPEC §7): more load than storage takes leads to 429 + Retry-After once the bounded
 * queue is full — not to growing memory or a crash. The collector runs as its own process so
 * its peak RSS (VmHWM) can be read. OVERLOAD_SECONDS lengthens the run.
 */
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { context, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { spawnCollector, type CollectorProcess } from '../helpers/cli.ts';
import { tempDir } from '../helpers/collector.ts';

const SECONDS = Number(process.env.OVERLOAD_SECONDS ?? 6);
const SENDERS = 32;
/** The stated bound: chDB's engine (~300 MiB resident once warm) plus a queue of 8 MiB and in-flight bodies. */
const PEAK_RSS_BOUND_MIB = 900;
let collector: CollectorProcess | undefined;

afterAll(() => {
  collector?.child.kill('SIGKILL');
});

function requestBody(spans: number): Uint8Array {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'overload' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('overload');
  // Agent-shaped: runs of 16 spans (an invoke_agent root and 15 chat calls), as agents send them.
  for (let i = 0; i < spans; i += 16) {
    const root = tracer.startSpan('invoke_agent overload', {
      attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'overload' },
    });
    const parent = trace.setSpan(context.active(), root);
    for (let j = 1; j < 16; j++) {
      tracer
        .startSpan(
          `chat ${j}`,
          {
            attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': 100, payload: 'p'.repeat(300) },
          },
          parent,
        )
        .end();
    }
    root.end();
  }
  return ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans()) ?? new Uint8Array();
}

function peakRssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

describe('overload', () => {
  it(`${SENDERS} unthrottled senders get 429 + Retry-After from a bounded queue; peak RSS stays under ${PEAK_RSS_BOUND_MIB} MiB`, async () => {
    collector = await spawnCollector([
      'serve',
      '--port',
      '0',
      '--data-dir',
      tempDir(),
      '--queue-max-spans',
      '4000',
      '--queue-max-bytes',
      '8MiB',
      '--batch-max-spans',
      '2000',
    ]);
    const pid = collector.child.pid ?? 0;
    const body = Buffer.from(requestBody(512));
    const statuses: Record<number, number> = {};
    let retryAfterMissing = 0;
    const deadline = Date.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (Date.now() < deadline) {
          const res = await fetch(`${collector?.url}/v1/traces`, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/x-protobuf' },
          });
          await res.arrayBuffer();
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          if ((res.status === 429 || res.status === 503) && !res.headers.get('retry-after')) retryAfterMissing++;
        }
      }),
    );
    const peak = peakRssMiB(pid);
    const accepted = statuses[200] ?? 0;
    const throttled = statuses[429] ?? 0;
    console.log(
      `overload: ${SECONDS} s, ${SENDERS} senders × 512-span requests → ${accepted} stored (${accepted * 512} spans), ${throttled} × 429, ` +
        `other ${JSON.stringify(Object.fromEntries(Object.entries(statuses).filter(([k]) => k !== '200' && k !== '429')))}; peak RSS ${peak.toFixed(0)} MiB`,
    );
    expect(Object.keys(statuses).every((s) => s === '200' || s === '429')).toBe(true);
    expect(throttled).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(0);
    expect(retryAfterMissing).toBe(0);
    expect(peak).toBeLessThan(PEAK_RSS_BOUND_MIB);

    // Still healthy, and every acknowledged span is there.
    expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);
    const res = await fetch(`${collector.url}/api/sql`, {
      method: 'POST',
      body: "SELECT count() AS n FROM sessiongraph.otel_traces WHERE ServiceName = 'overload'",
    });
    const { rows } = (await res.json()) as { rows: Array<{ n: string }> };
    expect(Number(rows[0]?.n)).toBe(accepted * 512);
    collector.child.kill('SIGTERM');
    expect(await collector.exited).toBe(0);
    collector = undefined;
  }, 120_000);
});
