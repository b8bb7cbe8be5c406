/**
 * A table-driven corpus of hostile and malformed OTLP/HTTP requests sent over the real port:
 * each case checks its status, its message (google.rpc.Status or partialSuccess, in the
 * request's encoding), how many rows it stored, and that a valid request sent right after it
 * is stored intact. Extends bad-input.test.ts (which covers the basic cases) without repeating it.
 */
import zlib from 'node:zlib';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
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
import { seededRandom } from '../helpers/agent-run.ts';

const MAX_ATTRS = 4096; // SESSIONGRAPH_MAX_ATTRIBUTES_PER_SPAN (its default, set explicitly)
const MAX_VALUE = 64 * 1024; // SESSIONGRAPH_MAX_ATTRIBUTE_VALUE_SIZE (its default, set explicitly)
const MAX_BODY = 32 * 1024 * 1024; // high enough that the 10 MB value is not a 413
type Fmt = 'json' | 'protobuf';
const CT: Record<Fmt, string> = { json: 'application/json', protobuf: 'application/x-protobuf' };

let collector: RunningCollector;
let validVerified = 0;
beforeAll(async () => {
  collector = await startTestCollector(tempDir(), {
    SESSIONGRAPH_MAX_BODY_SIZE: String(MAX_BODY),
    SESSIONGRAPH_MAX_ATTRIBUTES_PER_SPAN: String(MAX_ATTRS),
    SESSIONGRAPH_MAX_ATTRIBUTE_VALUE_SIZE: String(MAX_VALUE),
  });
});
afterAll(async () => {
  console.log(
    `bad-input corpus: ${CASES.length + 1} cases (incl. the 431 header case), ${validVerified} valid requests verified`,
  );
  await collector?.close();
});

interface Case {
  name: string;
  /** Encoding of the answer and of the valid request sent after it. */
  format: Fmt;
  body: () => Uint8Array | string;
  headers?: Record<string, string>;
  status: number | number[];
  /** Matches google.rpc.Status.message, or partialSuccess.errorMessage on a 200. */
  message?: RegExp;
  rejected?: number;
  /** Rows added on a 200 (any other answer must add none). */
  stored?: number;
  check?: () => Promise<void>;
}

const BASE_PB = () => pbOf(sdkSpans('corpus-base', 3));

const CASES: Case[] = [
  // ── protobuf framing ──
  ...[1, 2, 7, 0.5, -1].map((at): Case => ({
    name: `protobuf truncated at ${at === 0.5 ? 'half' : at === -1 ? 'length − 1' : `${at} bytes`}`,
    format: 'protobuf',
    status: 400,
    body: () => {
      const b = BASE_PB();
      return b.subarray(0, at === 0.5 ? b.length >> 1 : at < 0 ? b.length - 1 : at);
    },
    message: /^malformed protobuf: (truncated varint|length \d+ at offset \d+ runs past the enclosing message)/,
  })),
  ...[
    [1, 16],
    [2, 64],
    [3, 512],
    [4, 4096],
    [5, 3],
    [6, 8],
  ].map(([seed, len]): Case => ({
    name: `protobuf: ${len} random bytes (seed ${seed})`,
    format: 'protobuf',
    status: 400,
    message: /^malformed protobuf: /,
    body: () => {
      const r = seededRandom(seed!);
      return Uint8Array.from({ length: len! }, () => Math.floor(r() * 256));
    },
  })),
  // A known field with another wire type is an unknown field to protobuf parsers (Go, C++): skipped.
  {
    name: 'protobuf: resource_spans sent as a varint (skipped as unknown)',
    format: 'protobuf',
    status: 200,
    stored: 0,
    body: () => Uint8Array.from([0x08, 0x96, 0x01]),
  },
  {
    name: 'protobuf: span attributes sent as fixed32 (attribute skipped, span stored)',
    format: 'protobuf',
    status: 200,
    stored: 1,
    body: () => pbRequest('corpus-wt-fixed32', pbSpan({ extra: [0x4d, 1, 2, 3, 4] })),
    check: async () => expect(await rowsOf('corpus-wt-fixed32', 'length(SpanAttributes) AS n')).toEqual([{ n: 0 }]),
  },
  {
    name: 'protobuf: a span sent as a group (wire type 3)',
    format: 'protobuf',
    status: 400,
    message: /group \(wire type 3\) at offset \d+ is not supported/,
    body: () => ld(1, ld(2, cat([0x13], str(1, 'x'), [0x14]))),
  },
  {
    name: 'protobuf: wire type 7 where a message is expected',
    format: 'protobuf',
    status: 400,
    message: /invalid wire type 7/,
    body: () => Uint8Array.from([0x0f, 0x01]),
  },
  {
    name: 'protobuf: top-level length prefix points past the end',
    format: 'protobuf',
    status: 400,
    message: /length \d+ at offset 1 runs past the enclosing message/,
    body: () => {
      const b = BASE_PB();
      return cat([0x0a], varint(b.length + 100), b.subarray(2));
    },
  },
  {
    name: 'protobuf: a span length runs past its scope_spans (not past the body)',
    format: 'protobuf',
    status: 400,
    message: /runs past the enclosing message \(3 bytes left\)/,
    body: () => cat(ld(1, ld(2, cat([0x12, 0x40], [1, 2, 3]))), str(9, 'x'.repeat(100))),
  },
  {
    name: 'protobuf: AnyValue nested 10,000 levels',
    format: 'protobuf',
    status: 400,
    message: /AnyValue nested deeper than 64 levels/,
    body: () => pbRequest('corpus-deep', pbSpan({ extra: ld(9, cat(str(1, 'deep'), ld(2, deepAnyValue(10_000)))) })),
  },
  {
    name: 'protobuf: JSON sent as application/x-protobuf',
    format: 'protobuf',
    status: 400,
    message: /group \(wire type 3\)/,
    body: () => jsonOf(sdkSpans('corpus-json-as-pb', 1)),
  },
  {
    name: 'protobuf: empty body is an empty request',
    format: 'protobuf',
    status: 200,
    stored: 0,
    body: () => new Uint8Array(0),
  },
  // ── ids: partial success ──
  {
    name: 'protobuf: 15-byte trace id and 7-byte span id rejected, the rest stored',
    format: 'protobuf',
    status: 200,
    rejected: 2,
    stored: 1,
    message: /span 1: trace id must be 16 bytes, got 15.*span 2: span id must be 8 bytes, got 7/,
    body: () =>
      pbRequest('corpus-pb-ids', pbSpan({}), pbSpan({ trace: 'ab'.repeat(15) }), pbSpan({ span: 'cd'.repeat(7) })),
  },
  {
    name: 'JSON: non-hex, odd-length and 7-byte ids rejected, the rest stored',
    format: 'json',
    status: 200,
    rejected: 4,
    stored: 1,
    message:
      /spans\[1\]: ids must be hex strings.*spans\[2\]: ids must be hex strings.*spans\[3\]: ids must be hex strings.*spans\[4\]: span id must be 8 bytes, got 7/,
    body: () =>
      jsonRequest('corpus-json-ids', [
        jsonSpan(),
        jsonSpan({ traceId: 'zz'.repeat(16) }),
        jsonSpan({ spanId: 'abc' }),
        jsonSpan({ parentSpanId: '0x12345678901234' }),
        jsonSpan({ spanId: 'cd'.repeat(7) }),
      ]),
  },
  // ── JSON syntax and types ──
  ...['{"resourceSpans":[],}', "{'resourceSpans':[]}", '{"resourceSpans":[NaN]}', '', ' \n'].map((text): Case => ({
    name: `JSON: invalid JSON ${JSON.stringify(text)}`,
    format: 'json',
    status: 400,
    message: /^request body is not valid JSON: /,
    body: () => text,
  })),
  {
    name: 'JSON: null body',
    format: 'json',
    status: 400,
    message: /^request: expected an object, got null/,
    body: () => 'null',
  },
  ...(
    [
      ['attributes not an array', { attributes: { a: 1 } }, /spans\[0\]\.attributes: expected an array, got object/],
      [
        'intValue as an object',
        { attributes: [{ key: 'n', value: { intValue: { low: 1 } } }] },
        /attributes\[0\]\.value\.intValue: expected a 64-bit integer, got \{"low":1\}/,
      ],
      [
        'kind as a boolean',
        { kind: true },
        /spans\[0\]\.kind: expected an enum number or name like SPAN_KIND_INTERNAL, got true/,
      ],
      ['status as a string', { status: 'ERROR' }, /spans\[0\]\.status: expected an object, got string/],
      ['traceId as a number', { traceId: 1234 }, /spans\[0\]\.traceId: expected a string, got number/],
      ['an event that is a string', { events: ['boom'] }, /spans\[0\]\.events\[0\]: expected an object, got string/],
      [
        'boolValue as a string',
        { attributes: [{ key: 'b', value: { boolValue: 'true' } }] },
        /value\.boolValue: expected a boolean, got string/,
      ],
      [
        'a negative start time',
        { startTimeUnixNano: -1 },
        /startTimeUnixNano: expected unsigned 64-bit nanoseconds, got -1/,
      ],
    ] as const
  ).map(([what, patch, message]): Case => ({
    name: `JSON: ${what}`,
    format: 'json',
    status: 400,
    message,
    body: () => jsonRequest('corpus-types', [jsonSpan(patch), jsonSpan()]),
  })),
  {
    name: 'JSON: scopeSpans as a string',
    format: 'json',
    status: 400,
    message: /resourceSpans\[0\]\.scopeSpans: expected an array, got string/,
    body: () => JSON.stringify({ resourceSpans: [{ scopeSpans: 'none' }] }),
  },
  {
    name: 'JSON: AnyValue nested 10,000 levels',
    format: 'json',
    status: 400,
    message: /nested deeper than 64 levels/,
    body: () =>
      jsonRequest('corpus-deep', [jsonSpan({ attributes: [{ key: 'd', value: '@' }] })]).replace(
        '"@"',
        `${'{"arrayValue":{"values":['.repeat(10_000)}{"stringValue":"x"}${']}}'.repeat(10_000)}`,
      ),
  },
  // ── limits ──
  {
    name: '100,000 attributes: stored with the count limit and the dropped count',
    format: 'protobuf',
    status: 200,
    stored: 1,
    body: () =>
      pbOf(
        sdkSpans('corpus-attrs', 1, Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, `v${i}`]))),
      ),
    check: async () =>
      expect(
        await rowsOf(
          'corpus-attrs',
          "length(SpanAttributes) AS n, SpanAttributes['sessiongraph.dropped_attributes_count'] AS dropped, SpanAttributes['k4094'] AS last, mapContains(SpanAttributes, 'k4095') AS cut",
        ),
      ).toEqual([{ n: MAX_ATTRS, dropped: String(100_000 - (MAX_ATTRS - 1)), last: 'v4094', cut: 0 }]),
  },
  {
    name: 'a 10 MB attribute value: cut to the limit with an exact marker',
    format: 'protobuf',
    status: 200,
    stored: 1,
    body: () => pbOf(sdkSpans('corpus-big', 1, { big: '€'.repeat(3_500_000) })),
    check: async () => {
      const [row] = await rowsOf('corpus-big', "SpanAttributes['big'] AS v");
      const kept = '€'.repeat(Math.floor(MAX_VALUE / 3)); // 3-byte characters: the partial one is not kept
      expect(row?.v).toBe(`${kept}…[truncated ${3 * 3_500_000 - Buffer.byteLength(kept)} bytes]`);
    },
  },
  // ── encodings ──
  {
    name: 'protobuf: invalid UTF-8 in strings becomes U+FFFD',
    format: 'protobuf',
    status: 200,
    stored: 1,
    body: () =>
      pbRequest(
        'corpus-utf8-pb',
        pbSpan({
          name: Uint8Array.from([0x61, 0xff, 0xfe, 0x62]),
          extra: ld(9, cat(str(1, 'v'), ld(2, ld(1, [0xc3, 0x28])))),
        }),
      ),
    check: async () =>
      expect(await rowsOf('corpus-utf8-pb', "SpanName, SpanAttributes['v'] AS v")).toEqual([
        { SpanName: 'a\uFFFD\uFFFDb', v: '\uFFFD(' },
      ]),
  },
  {
    name: 'JSON: invalid UTF-8 bytes inside a string become U+FFFD',
    format: 'json',
    status: 200,
    stored: 1,
    body: () =>
      Buffer.concat(
        jsonRequest('corpus-utf8-json', [jsonSpan({ name: 'a@b' })])
          .split('@')
          .flatMap((s, i) => (i ? [Buffer.from([0xff]), Buffer.from(s)] : [Buffer.from(s)])),
      ),
    check: async () => expect(await rowsOf('corpus-utf8-json', 'SpanName')).toEqual([{ SpanName: 'a\uFFFDb' }]),
  },
  // JSON.parse keeps a lone surrogate; the engine refuses "\ud800x" (code 25), which is then taken for an outage (503).
  {
    name: 'JSON: a lone surrogate escape is stored as U+FFFD, not a storage outage',
    format: 'json',
    status: 200,
    stored: 1,
    body: () =>
      jsonRequest('corpus-surrogate', [jsonSpan({ attributes: [{ key: 's', value: { stringValue: '@x' } }] })]).replace(
        '@',
        '\\ud800',
      ),
  },
  {
    name: 'protobuf gzip bomb (40 MiB of zeros) → 413',
    format: 'protobuf',
    status: 413,
    headers: { 'content-encoding': 'gzip' },
    message: /exceeds the 33554432-byte limit after decompression/,
    body: () => zlib.gzipSync(Buffer.alloc(40 * 1024 * 1024)),
  },
  {
    name: 'deflate bomb → 413',
    format: 'json',
    status: 413,
    headers: { 'content-encoding': 'deflate' },
    message: /after decompression/,
    body: () => zlib.deflateSync(Buffer.alloc(40 * 1024 * 1024, 0x20)),
  },
  {
    name: 'deflate (zlib) encoding accepted',
    format: 'protobuf',
    status: 200,
    stored: 2,
    headers: { 'content-encoding': 'deflate' },
    body: () => zlib.deflateSync(pbOf(sdkSpans('corpus-deflate', 2))),
  },
  {
    name: 'raw deflate (no zlib header) → 400',
    format: 'protobuf',
    status: 400,
    headers: { 'content-encoding': 'deflate' },
    message: /not valid deflate data/,
    body: () => zlib.deflateRawSync(pbOf(sdkSpans('corpus-raw', 2))),
  },
  {
    name: 'Content-Type with a charset parameter accepted',
    format: 'json',
    status: 200,
    stored: 2,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: () => jsonOf(sdkSpans('corpus-charset', 2)),
  },
  {
    name: 'text/plain with a valid protobuf body → 415',
    format: 'json',
    status: 415,
    headers: { 'content-type': 'text/plain' },
    message: /unsupported Content-Type "text\/plain"/,
    body: () => BASE_PB(),
  },
  // ── times beyond DateTime64(9) (2262-04-11): that span is refused (partial success), never an outage, never half stored ──
  {
    name: 'an end time past 2262 (DateTime64 range): the span refused, no outage',
    format: 'json',
    status: 200,
    rejected: 1,
    stored: 0,
    message: /end time is after 2262-04-11/,
    body: () => jsonRequest('corpus-end-2263', [jsonSpan({ endTimeUnixNano: '9300000000000000000' })]),
  },
  {
    name: 'an end time of 2^64−1: the span refused, nothing stored',
    format: 'json',
    status: 200,
    rejected: 1,
    stored: 0,
    message: /end time is after 2262-04-11/,
    body: () => jsonRequest('corpus-end-max', [jsonSpan({ endTimeUnixNano: '18446744073709551615' })]),
  },
  // Timestamps go to the engine as decimal strings, which DateTime64(9) reads by digit count (10 = s, 13 = ms, 16 = µs, 19 = ns).
  {
    name: 'a span with no start time and an event with no time: stored at the epoch',
    format: 'json',
    status: 200,
    stored: 1,
    body: () => jsonRequest('corpus-t0', [jsonSpan({ startTimeUnixNano: undefined, events: [{ name: 'e' }] })]),
    check: async () =>
      expect(
        await rowsOf(
          'corpus-t0',
          'toString(toUnixTimestamp64Nano(Timestamp)) AS t, toString(arrayMap(x -> toUnixTimestamp64Nano(x), Events.Timestamp)) AS ev',
        ),
      ).toEqual([{ t: '0', ev: '[0]' }]),
  },
  {
    name: 'a start time of 10^15 ns (1970-01-12) is stored exactly',
    format: 'protobuf',
    status: 200,
    stored: 1,
    body: () =>
      pbRequest('corpus-t15', cat(pbSpan({}).subarray(0, -18), fixed64(7, 10n ** 15n), fixed64(8, 10n ** 15n + 1000n))),
    check: async () =>
      expect(await rowsOf('corpus-t15', 'toString(toUnixTimestamp64Nano(Timestamp)) AS t, Duration')).toEqual([
        { t: '1000000000000000', Duration: 1000 },
      ]),
  },
  // span-facts.ts cuts input_text with .slice(0, 2000), splitting the surrogate pair: the engine refuses "\ud83d".
  {
    name: 'SDK request: an LLM input whose emoji straddles 2000 UTF-16 units',
    format: 'protobuf',
    status: 200,
    stored: 1,
    body: () => pbOf(sdkSpans('corpus-emoji', 1, { 'input.value': `${'a'.repeat(1999)}😀 and more` })),
  },
];

describe('bad-input corpus over the real port', () => {
  CASES.forEach((c, i) => {
    it(`${i}: ${c.name}`, async () => {
      await waitReady();
      const before = await totalRows();
      const res = await post(c.body(), { 'content-type': CT[c.format], ...c.headers });
      expect([c.status].flat(), `status ${res.status}`).toContain(res.status);
      const answer = await readOtlpAnswer(res);
      if (res.status >= 400) {
        expect(res.headers.get('content-type')).toBe(CT[c.format]);
        // INVALID_ARGUMENT; a body too large is RESOURCE_EXHAUSTED, as OTLP/gRPC answers it (final: no retry info).
        expect(answer.code).toBe(res.status === 413 ? 8 : 3);
      }
      if (c.message && (res.status >= 400 || c.rejected !== undefined)) expect(answer.message).toMatch(c.message);
      expect(answer.rejected).toBe(c.rejected);
      expect(await totalRows(), 'rows added').toBe(before + (res.status === 200 ? (c.stored ?? 0) : 0));
      await c.check?.();
      await sendValid(c.format, `${i}`);
    });
  });

  it('a 64 KB request header → 431, and the collector serves the next request', async () => {
    await waitReady();
    const res = await post(jsonOf(sdkSpans('corpus-431', 1)), {
      'content-type': CT.json,
      'x-padding': 'a'.repeat(64 * 1024),
    });
    expect(res.status).toBe(431);
    expect(await rowsOf('corpus-431', 'SpanName')).toEqual([]);
    await sendValid('json', '431');
    expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);
  });
});

// ───────────────────────────── helpers ─────────────────────────────

function post(body: Uint8Array | string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${collector.url}/v1/traces`, {
    method: 'POST',
    body: typeof body === 'string' ? body : new Uint8Array(body),
    headers,
  });
}

async function totalRows(): Promise<number> {
  return Number(
    (await queryRows<{ n: string }>(collector.storage, 'SELECT count() AS n FROM sessiongraph.otel_traces'))[0]?.n,
  );
}

function rowsOf(service: string, columns: string): Promise<Array<Record<string, unknown>>> {
  return queryRows(
    collector.storage,
    `SELECT ${columns} FROM sessiongraph.otel_traces WHERE ServiceName = {s:String} ORDER BY SpanName`,
    { s: service },
  );
}

/** A poison request may leave storage marked unavailable for a while: start each case ready. */
async function waitReady(): Promise<void> {
  for (let i = 0; i < 150 && (await fetch(`${collector.url}/readyz`)).status !== 200; i++)
    await new Promise((r) => setTimeout(r, 100));
}

/** Sends a valid 3-span request under a service of its own and checks it is stored intact. */
async function sendValid(format: Fmt, tag: string): Promise<void> {
  const service = `valid-${tag}`;
  const res = await post((format === 'json' ? jsonOf : pbOf)(sdkSpans(service, 3)), { 'content-type': CT[format] });
  expect(res.status, `valid request after the case (${await res.clone().text()})`).toBe(200);
  expect(await rowsOf(service, "SpanName, ScopeName, SpanAttributes['step'] AS step")).toEqual(
    [0, 1, 2].map((i) => ({ SpanName: `step-${i}`, ScopeName: 'corpus', step: String(i) })),
  );
  validVerified++;
}

/** Finished SDK spans of one service: `step-i` spans with a `step` attribute (or `attributes` on all). */
function sdkSpans(service: string, n: number, attributes?: Record<string, unknown>): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('corpus', '1.0.0');
  for (let i = 0; i < n; i++) tracer.startSpan(`step-${i}`, { attributes: { step: i } }).end();
  // Attributes set after the fact bypass the SDK's own span limits (128 attributes by default).
  return memory
    .getFinishedSpans()
    .map((s) =>
      attributes ? (Object.create(s, { attributes: { value: attributes, enumerable: true } }) as ReadableSpan) : s,
    );
}
const pbOf = (spans: ReadableSpan[]): Uint8Array => ProtobufTraceSerializer.serializeRequest(spans)!;
const jsonOf = (spans: ReadableSpan[]): Uint8Array => JsonTraceSerializer.serializeRequest(spans)!;

let nextId = 1;
const ids = (): { trace: string; span: string } => {
  const n = (nextId++).toString(16).padStart(8, '0');
  return { trace: `${'ab'.repeat(12)}${n}`, span: `${'cd'.repeat(4)}${n}` };
};
const T0 = 1767225600000000000n;

function jsonSpan(patch: Record<string, unknown> = {}): Record<string, unknown> {
  const { trace, span } = ids();
  return {
    traceId: trace,
    spanId: span,
    name: 'bad',
    startTimeUnixNano: String(T0),
    endTimeUnixNano: String(T0 + 1000n),
    ...patch,
  };
}
function jsonRequest(service: string, spans: object[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [{ scope: { name: 'corpus' }, spans }],
      },
    ],
  });
}

// A minimal protobuf writer for hand-made (malformed) requests.
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
function cat(...parts: Array<Uint8Array | number[]>): Uint8Array {
  return Buffer.concat(parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p))));
}
function ld(field: number, ...parts: Array<Uint8Array | number[]>): Uint8Array {
  const body = cat(...parts);
  return cat(varint((field << 3) | 2), varint(body.length), body);
}
function str(field: number, s: string): Uint8Array {
  return ld(field, Buffer.from(s, 'utf8'));
}
function fixed64(field: number, v: bigint): Uint8Array {
  const b = Buffer.alloc(9);
  b[0] = (field << 3) | 1;
  b.writeBigUInt64LE(v, 1);
  return b;
}

function pbSpan(o: { trace?: string; span?: string; name?: Uint8Array; extra?: Uint8Array | number[] }): Uint8Array {
  const id = ids();
  return cat(
    ld(1, Buffer.from(o.trace ?? id.trace, 'hex')),
    ld(2, Buffer.from(o.span ?? id.span, 'hex')),
    ld(5, o.name ?? Buffer.from('bad')),
    fixed64(7, T0),
    fixed64(8, T0 + 1000n),
    o.extra ?? [],
  );
}
function pbRequest(service: string, ...spans: Uint8Array[]): Uint8Array {
  const resource = ld(1, ld(1, str(1, 'service.name'), ld(2, str(1, service))));
  return ld(1, resource, ld(2, ld(1, str(1, 'corpus')), ...spans.map((s) => ld(2, s))));
}

/** AnyValue{array_value{values[AnyValue{…}]}} `levels` deep, built outside-in without copying per level. */
function deepAnyValue(levels: number): Uint8Array {
  const inner = str(1, 'bottom');
  const heads: Uint8Array[] = [];
  let len = inner.length;
  for (let i = 0; i < levels; i++) {
    const values = Uint8Array.from([0x0a, ...varint(len)]); // ArrayValue.values = 1
    len += values.length;
    const array = Uint8Array.from([0x2a, ...varint(len)]); // AnyValue.array_value = 5
    len += array.length;
    heads.push(values, array);
  }
  return Buffer.concat([...heads.reverse(), inner]);
}
