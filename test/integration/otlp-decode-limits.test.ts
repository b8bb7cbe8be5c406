/**
 * The decoders' limits seen through the real OTLP/HTTP receiver with its default configuration:
 * a JSON request carrying one string of many megabytes (up to a 64 MiB body) is stored, its
 * value cut as documented, instead of a 400 that would lose the span; and the AnyValue nesting
 * limit answers the same in OTLP/JSON and OTLP/protobuf at 64 and 65 levels.
 */
import type { AttributeValue } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { queryRows, startTestCollector, tempDir } from '../helpers/collector.ts';
import { readOtlpAnswer } from '../helpers/otlp-answer.ts';

const MAX_VALUE = 64 * 1024; // SESSIONGRAPH_MAX_ATTRIBUTE_VALUE_SIZE's default
const MAX_BODY = 64 * 1024 * 1024; // SESSIONGRAPH_MAX_BODY_SIZE's default

let collector: RunningCollector;
beforeAll(async () => {
  collector = await startTestCollector(tempDir());
});
afterAll(async () => {
  await collector?.close();
});

async function post(body: Uint8Array, contentType: string): Promise<{ status: number; message: string }> {
  const res = await fetch(`${collector.url}/v1/traces`, {
    method: 'POST',
    body: new Uint8Array(body),
    headers: { 'content-type': contentType },
  });
  const answer = await readOtlpAnswer(res);
  return { status: res.status, message: answer.message ?? '' };
}

/** A JSON request of exactly `size` bytes: one span of `service` whose attribute `big` is one string of `fill` bytes of 'z'. */
function giantStringRequest(service: string, size: number): { body: Buffer; fill: number } {
  const text = JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: Buffer.from(service.padEnd(16, '.')).subarray(0, 16).toString('hex'),
                spanId: 'cd'.repeat(8),
                name: 'big',
                startTimeUnixNano: '1767225600000000000',
                endTimeUnixNano: '1767225601000000000',
                attributes: [{ key: 'big', value: { stringValue: '@' } }],
              },
            ],
          },
        ],
      },
    ],
  });
  const [head, tail] = text.split('@') as [string, string];
  const fill = size - head.length - tail.length;
  return { body: Buffer.concat([Buffer.from(head), Buffer.alloc(fill, 'z'), Buffer.from(tail)]), fill };
}

async function storedBig(service: string): Promise<Array<{ v: string }>> {
  return queryRows<{ v: string }>(
    collector.storage,
    "SELECT SpanAttributes['big'] AS v FROM sessiongraph.otel_traces WHERE ServiceName = {s:String}",
    { s: service },
  );
}

describe('OTLP/JSON with one string of many megabytes', () => {
  it.each([
    ['a 9 MB string', 'long-9mb', 9_000_000],
    ['a 64 MiB body', 'long-64mib', MAX_BODY],
  ] as const)(
    'stores %s, the value cut to the limit with the marker',
    { timeout: 120_000 },
    async (_name, service, size) => {
      const { body, fill } = giantStringRequest(service, size);
      expect(body.length).toBe(size);
      expect(await post(body, 'application/json')).toEqual({ status: 200, message: '' });
      expect(await storedBig(service)).toEqual([
        { v: `${'z'.repeat(MAX_VALUE)}…[truncated ${fill - MAX_VALUE} bytes]` },
      ]);
    },
  );

  it('answers 413, not 400, one byte over the body limit', async () => {
    expect((await post(giantStringRequest('long-over', MAX_BODY + 1).body, 'application/json')).status).toBe(413);
    expect(await storedBig('long-over')).toEqual([]);
  });
});

/** SDK spans of `service` carrying a value of `levels` nested arrays (bypassing the SDK's attribute sanitizer, as the serializers accept it). */
function nestedSpans(service: string, levels: number): ReadableSpan[] {
  let value: unknown = 'bottom';
  for (let i = 1; i < levels; i++) value = [value];
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  provider
    .getTracer('t')
    .startSpan('s', { startTime: [1767225600, 0] })
    .end([1767225601, 0]);
  return exporter.getFinishedSpans().map(
    (span) =>
      Object.create(span, {
        attributes: { value: { deep: value as AttributeValue }, enumerable: true },
      }) as ReadableSpan,
  );
}

describe('the AnyValue nesting limit over HTTP', () => {
  it.each([
    [63, 200],
    [64, 200],
    [65, 400],
  ] as const)('%i levels: %i in both OTLP/JSON and OTLP/protobuf, with the same message', async (levels, status) => {
    const json = await post(
      JsonTraceSerializer.serializeRequest(nestedSpans(`deep-json-${levels}`, levels))!,
      'application/json',
    );
    const protobuf = await post(
      ProtobufTraceSerializer.serializeRequest(nestedSpans(`deep-pb-${levels}`, levels))!,
      'application/x-protobuf',
    );
    expect(json).toEqual(protobuf);
    expect(json.status).toBe(status);
    if (status === 400)
      expect(json.message).toBe('AnyValue nested deeper than 64 levels (arrays or kvlists within one attribute value)');
    const stored = await queryRows<{ n: string }>(
      collector.storage,
      'SELECT count() AS n FROM sessiongraph.otel_traces WHERE ServiceName LIKE {s:String}',
      { s: `deep-%-${levels}` },
    );
    expect(Number(stored[0]?.n)).toBe(status === 200 ? 2 : 0);
  });
});
