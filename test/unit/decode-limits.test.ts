/**
 * The AnyValue nesting limit is one rule for both encodings: the same request, serialized by
 * the OpenTelemetry serializers as OTLP/JSON and as OTLP/protobuf, is accepted or refused alike
 * at 63, 64 and 65 levels, with the same message.
 */
import { describe, expect, it } from 'vitest';
import type { AttributeValue } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { BadDataError } from '../../src/errors.ts';
import { decodeTraceRequestJson } from '../../src/otlp/decode-json.ts';
import { decodeTraceRequestProtobuf } from '../../src/otlp/decode-protobuf.ts';
import { MAX_ANY_VALUE_DEPTH } from '../../src/otlp/limits.ts';

/** What the serializers turn into AnyValue: arrays, maps (kvlist), scalars, null (an empty AnyValue). */
type Nested = string | null | Nested[] | { [key: string]: Nested };

/** A value of exactly `levels` AnyValue levels: the attribute's own value is level 1. */
function nested(levels: number, kind: 'array' | 'kvlist', bottom: Nested = 'bottom'): Nested {
  let v = bottom;
  for (let i = 1; i < levels; i++) v = kind === 'array' ? [v] : { [`k${i}`]: v };
  return v;
}

/** One SDK span carrying `value` as attribute `deep` (set past the SDK's attribute sanitizer, as the serializers accept it). */
function spanWith(value: Nested): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'nesting' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  provider
    .getTracer('t')
    .startSpan('s', { startTime: [1767225600, 0] })
    .end([1767225601, 0]);
  return exporter.getFinishedSpans().map(
    (span) =>
      Object.create(span, {
        attributes: { value: { deep: value as unknown as AttributeValue }, enumerable: true },
      }) as ReadableSpan,
  );
}

type Outcome = { stored: string | undefined } | { error: string };

function outcome(decode: () => ReturnType<typeof decodeTraceRequestJson>): Outcome {
  try {
    const out = decode();
    expect(out.spans).toHaveLength(1);
    return { stored: out.spans[0]!.SpanAttributes.deep };
  } catch (err) {
    expect(err).toBeInstanceOf(BadDataError); // → 400, never retried
    return { error: (err as Error).message };
  }
}

/** Decodes the same spans from both encodings; returns [json, protobuf] outcomes. */
function bothEncodings(value: Nested): [Outcome, Outcome] {
  const spans = spanWith(value);
  const json = JsonTraceSerializer.serializeRequest(spans)!;
  const protobuf = ProtobufTraceSerializer.serializeRequest(spans)!;
  return [outcome(() => decodeTraceRequestJson(json)), outcome(() => decodeTraceRequestProtobuf(protobuf))];
}

const TOO_DEEP = { error: 'AnyValue nested deeper than 64 levels (arrays or kvlists within one attribute value)' };

describe('the AnyValue nesting limit, OTLP/JSON and OTLP/protobuf alike', () => {
  it('is 64 levels, one constant for both decoders', () => {
    expect(MAX_ANY_VALUE_DEPTH).toBe(64);
  });

  for (const kind of ['array', 'kvlist'] as const) {
    it.each([63, 64])(`accepts ${kind}s of %i levels in both encodings, stored alike`, (levels) => {
      const [json, protobuf] = bothEncodings(nested(levels, kind));
      expect(json).toEqual(protobuf);
      // One key per map and strings only: the collector's rendering (sorted keys, exact ints) is plain JSON.
      expect(json).toEqual({ stored: JSON.stringify(nested(levels, kind)) });
    });

    it.each([65, 66, 500])(`refuses ${kind}s of %i levels in both encodings with the same message`, (levels) => {
      const [json, protobuf] = bothEncodings(nested(levels, kind));
      expect(json).toEqual(TOO_DEEP);
      expect(protobuf).toEqual(TOO_DEEP);
    });
  }

  it('counts an element or entry at level 65 even when it is empty or null', () => {
    // An empty array or kvlist at level 64 adds no level; one null element (an empty AnyValue on the wire) does.
    expect(bothEncodings(nested(64, 'array', []))).toEqual([
      { stored: expect.any(String) },
      { stored: expect.any(String) },
    ]);
    expect(bothEncodings(nested(64, 'kvlist', {}))).toEqual([
      { stored: expect.any(String) },
      { stored: expect.any(String) },
    ]);
    expect(bothEncodings(nested(64, 'array', [null]))).toEqual([TOO_DEEP, TOO_DEEP]);
    expect(bothEncodings(nested(64, 'kvlist', { last: null }))).toEqual([TOO_DEEP, TOO_DEEP]);
  });

  it('counts a JSON element or entry at level 65 whether its value is null, {} or missing', () => {
    /** An attribute whose value is 63 nested arrays around `inner`, the AnyValue at level 64. */
    const decode = (inner: string): Outcome => {
      const deep = `${'{"arrayValue":{"values":['.repeat(63)}${inner}${']}}'.repeat(63)}`;
      const span = `{"traceId":"${'ab'.repeat(16)}","spanId":"${'cd'.repeat(8)}","attributes":[{"key":"deep","value":${deep}}]}`;
      return outcome(() =>
        decodeTraceRequestJson(Buffer.from(`{"resourceSpans":[{"scopeSpans":[{"spans":[${span}]}]}]}`)),
      );
    };
    expect(decode('{"stringValue":"x"}')).toEqual({ stored: `${'['.repeat(63)}"x"${']'.repeat(63)}` });
    expect(decode('{"arrayValue":{"values":[]}}')).toEqual({ stored: `${'['.repeat(64)}${']'.repeat(64)}` });
    expect(decode('{"kvlistValue":{}}')).toMatchObject({ stored: expect.any(String) });
    for (const inner of ['[null]', '[{}]', '[{"stringValue":"x"}]'])
      expect(decode(`{"arrayValue":{"values":${inner}}}`), inner).toEqual(TOO_DEEP);
    for (const entry of ['{"key":"k"}', '{"key":"k","value":null}', '{"key":"k","value":{}}']) {
      expect(decode(`{"kvlistValue":{"values":[${entry}]}}`), entry).toEqual(TOO_DEEP);
    }
  });
});
