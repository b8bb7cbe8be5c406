import { describe, it, expect } from 'vitest';
import { SpanKind, SpanStatusCode, context, createTraceState, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { decodeTraceRequestProtobuf } from '../../src/otlp/decode-protobuf.ts';
import { BadDataError } from '../../src/errors.ts';
import { ProtoReader, ProtobufDecodeError } from '../../src/otlp/protobuf-reader.ts';
import type { SpanRow } from '../../src/otlp/span-row.ts';

// ---- spans from the real SDK, bytes from the real OTLP serializer ----

const REMOTE_TRACE = '0af7651916cd43dd8448eb211c80319c';
const REMOTE_SPAN = 'b7ad6b7169203331';
const LINK_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const LINK_SPAN = '00f067aa0ba902b7';

/** Deterministic ids so expected rows can be written out literally. */
function counterIds(): { generateTraceId(): string; generateSpanId(): string } {
  let t = 0;
  let s = 0;
  return {
    generateTraceId: () => (++t).toString(16).padStart(32, 'a'),
    generateSpanId: () => (++s).toString(16).padStart(16, 'c'),
  };
}

function sdkSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'agent-svc', 'deployment.environment': 'test', 'host.cpus': 8 }),
    idGenerator: counterIds(),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const agent = provider.getTracer('agent', '1.2.3');
  const root = agent.startSpan('agent.run', {
    kind: SpanKind.SERVER,
    startTime: [1700000000, 123456789],
    attributes: {
      str: 'hello',
      int: 42,
      neg: -7,
      dbl: 3.25,
      tiny: 1e-7,
      yes: true,
      no: false,
      strs: ['a', 'b'],
      nums: [1, 2.5],
      bools: [true, false],
    },
  });
  root.addEvent('thinking', { tokens: 12, note: 'x' }, [1700000000, 200000000]);
  root.addEvent('bare', [1700000000, 300000000]);
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  const child = agent.startSpan(
    'llm.call',
    {
      kind: SpanKind.CLIENT,
      startTime: [1700000000, 400000000],
      links: [
        {
          context: { traceId: LINK_TRACE, spanId: LINK_SPAN, traceFlags: 1, traceState: createTraceState('l=1') },
          attributes: { 'link.kind': 'follows' },
        },
      ],
    },
    trace.setSpan(context.active(), root),
  );
  child.setStatus({ code: SpanStatusCode.OK });
  child.end([1700000000, 900000000]);
  root.end([1700000001, 500]);

  const tools = provider.getTracer('tools');
  const remote = trace.setSpanContext(context.active(), {
    traceId: REMOTE_TRACE,
    spanId: REMOTE_SPAN,
    traceFlags: 1,
    isRemote: true,
    traceState: createTraceState('vendor=value'),
  });
  tools.startSpan('tool.exec', { startTime: [1700000002, 0] }, remote).end([1700000002, 5]);
  tools.startSpan('queue.send', { kind: SpanKind.PRODUCER, startTime: [1700000003, 0] }).end([1700000003, 0]);
  tools.startSpan('queue.recv', { kind: SpanKind.CONSUMER, startTime: [1700000004, 10] }).end([1700000004, 0]);
  return exporter.getFinishedSpans();
}

function serialize(spans: ReadableSpan[]): Uint8Array {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('serializer returned nothing');
  return bytes;
}

const RESOURCE = { 'service.name': 'agent-svc', 'deployment.environment': 'test', 'host.cpus': '8' };
const NO_EVENTS = { 'Events.Timestamp': [], 'Events.Name': [], 'Events.Attributes': [] };
const NO_LINKS = { 'Links.TraceId': [], 'Links.SpanId': [], 'Links.TraceState': [], 'Links.Attributes': [] };
const COMMON = {
  ServiceName: 'agent-svc',
  ResourceAttributes: RESOURCE,
  TraceState: '',
  StatusMessage: '',
  SpanAttributes: {},
};
const ROOT_TRACE = '1'.padStart(32, 'a');

const EXPECTED: SpanRow[] = [
  {
    ...COMMON,
    ...NO_LINKS,
    Timestamp: '1700000000123456789',
    TraceId: ROOT_TRACE,
    SpanId: 'ccccccccccccccc1',
    ParentSpanId: '',
    SpanName: 'agent.run',
    SpanKind: 'Server',
    ScopeName: 'agent',
    ScopeVersion: '1.2.3',
    SpanAttributes: {
      str: 'hello',
      int: '42',
      neg: '-7',
      dbl: '3.25',
      tiny: '0.0000001',
      yes: 'true',
      no: 'false',
      strs: '["a","b"]',
      nums: '[1,2.5]',
      bools: '[true,false]',
    },
    Duration: '876543711',
    StatusCode: 'Error',
    StatusMessage: 'boom',
    'Events.Timestamp': ['1700000000200000000', '1700000000300000000'],
    'Events.Name': ['thinking', 'bare'],
    'Events.Attributes': [{ tokens: '12', note: 'x' }, {}],
  },
  {
    ...COMMON,
    ...NO_EVENTS,
    Timestamp: '1700000000400000000',
    TraceId: ROOT_TRACE,
    SpanId: 'ccccccccccccccc2',
    ParentSpanId: 'ccccccccccccccc1',
    SpanName: 'llm.call',
    SpanKind: 'Client',
    ScopeName: 'agent',
    ScopeVersion: '1.2.3',
    Duration: '500000000',
    StatusCode: 'Ok',
    'Links.TraceId': [LINK_TRACE],
    'Links.SpanId': [LINK_SPAN],
    'Links.TraceState': ['l=1'],
    'Links.Attributes': [{ 'link.kind': 'follows' }],
  },
  {
    ...COMMON,
    ...NO_EVENTS,
    ...NO_LINKS,
    Timestamp: '1700000002000000000',
    TraceId: REMOTE_TRACE,
    SpanId: 'ccccccccccccccc3',
    ParentSpanId: REMOTE_SPAN,
    TraceState: 'vendor=value',
    SpanName: 'tool.exec',
    SpanKind: 'Internal',
    ScopeName: 'tools',
    ScopeVersion: '',
    Duration: '5',
    StatusCode: 'Unset',
  },
  {
    ...COMMON,
    ...NO_EVENTS,
    ...NO_LINKS,
    Timestamp: '1700000003000000000',
    TraceId: '2'.padStart(32, 'a'),
    SpanId: 'ccccccccccccccc4',
    ParentSpanId: '',
    SpanName: 'queue.send',
    SpanKind: 'Producer',
    ScopeName: 'tools',
    ScopeVersion: '',
    Duration: '0',
    StatusCode: 'Unset',
  },
  {
    ...COMMON,
    ...NO_EVENTS,
    ...NO_LINKS,
    Timestamp: '1700000004000000010',
    TraceId: '3'.padStart(32, 'a'),
    SpanId: 'ccccccccccccccc5',
    ParentSpanId: '',
    SpanName: 'queue.recv',
    SpanKind: 'Consumer',
    ScopeName: 'tools',
    ScopeVersion: '',
    Duration: '0',
    StatusCode: 'Unset',
  },
];

describe('decodeTraceRequestProtobuf on the OpenTelemetry SDK serializer output', () => {
  const body = serialize(sdkSpans());

  it('decodes every field of every span', () => {
    const out = decodeTraceRequestProtobuf(body);
    expect(out.rejectedSpans).toBe(0);
    expect(out.rejectReasons).toEqual([]);
    const sortById = (rows: SpanRow[]) => [...rows].sort((a, b) => a.SpanId.localeCompare(b.SpanId));
    expect(sortById(out.spans)).toEqual(EXPECTED);
  });

  it('throws ProtobufDecodeError for every truncation, never another error', () => {
    expect(decodeTraceRequestProtobuf(body.subarray(0, 0)).spans).toEqual([]);
    for (let n = 1; n < body.length; n++) {
      // One top-level resource_spans field: any cut lands inside it, so every prefix is malformed.
      expect(() => decodeTraceRequestProtobuf(body.subarray(0, n)), `prefix ${n}`).toThrow(ProtobufDecodeError);
    }
  });

  it('either decodes or throws ProtobufDecodeError on randomly corrupted bytes', () => {
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    for (let i = 0; i < 5000; i++) {
      const copy = Uint8Array.from(body);
      for (let k = 1 + rand(3); k > 0; k--) copy[rand(copy.length)] = rand(256);
      try {
        decodeTraceRequestProtobuf(copy);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtobufDecodeError);
      }
    }
  });
});

// ---- hand-built wire bytes for the edge cases ----

type Bytes = number[];
function varint(v: bigint | number): Bytes {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: Bytes = [];
  for (; x >= 0x80n; x >>= 7n) out.push(Number(x & 0x7fn) | 0x80);
  out.push(Number(x));
  return out;
}
const tag = (field: number, wire: number): Bytes => varint(field * 8 + wire);
const len = (field: number, ...parts: Bytes[]): Bytes => {
  const body = parts.flat();
  return [...tag(field, 2), ...varint(body.length), ...body];
};
const str = (field: number, s: string): Bytes => len(field, [...Buffer.from(s, 'utf8')]);
const hex = (field: number, h: string): Bytes => len(field, [...Buffer.from(h, 'hex')]);
const uint = (field: number, v: bigint | number): Bytes => [...tag(field, 0), ...varint(v)];
const fixed64 = (field: number, v: bigint): Bytes => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return [...tag(field, 1), ...b];
};
const double = (field: number, v: number): Bytes => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return [...tag(field, 1), ...b];
};
// AnyValue bodies
const aStr = (s: string) => str(1, s);
const aBool = (b: boolean) => uint(2, b ? 1 : 0);
const aInt = (v: bigint | number) => uint(3, v);
const aDouble = (v: number) => double(4, v);
const aArray = (...items: Bytes[]) => len(5, ...items.map((i) => len(1, i)));
const aKvlist = (...kvs: Bytes[]) => len(6, ...kvs.map((k) => len(1, k)));
const aBytes = (b: number[]) => len(7, b);
const kv = (key: string, value: Bytes): Bytes => [...str(1, key), ...len(2, value)];

const TRACE = '0102030405060708090a0b0c0d0e0f10';
const SPAN = '1112131415161718';
/** A valid span body; `extra` fields follow (and so override) the defaults. */
const span = (...extra: Bytes[]): Bytes => [
  ...hex(1, TRACE),
  ...hex(2, SPAN),
  ...str(5, 'op'),
  ...fixed64(7, 100n),
  ...fixed64(8, 250n),
  ...extra.flat(),
];
const scopeSpans = (...spans: Bytes[]): Bytes => [
  ...len(1, str(1, 'scope'), str(2, 'v1')),
  ...spans.flatMap((s) => len(2, s)),
];
const resourceSpans = (...scopes: Bytes[]): Bytes => [
  ...len(1, len(1, kv('service.name', aStr('svc')))),
  ...scopes.flatMap((s) => len(2, s)),
];
const request = (...resources: Bytes[]): Uint8Array => Uint8Array.from(resources.flatMap((r) => len(1, r)));
const oneSpan = (...extra: Bytes[]) => request(resourceSpans(scopeSpans(span(...extra))));
const decodeOne = (...extra: Bytes[]): SpanRow => {
  const out = decodeTraceRequestProtobuf(oneSpan(...extra));
  expect(out.rejectReasons).toEqual([]);
  expect(out.spans).toHaveLength(1);
  return out.spans[0]!;
};
const attrs = (...kvs: Bytes[]) => decodeOne(...kvs.map((k) => len(9, k))).SpanAttributes;

describe('decodeTraceRequestProtobuf on hand-built bytes', () => {
  it('maps a minimal span', () => {
    expect(decodeOne()).toEqual({
      ...NO_EVENTS,
      ...NO_LINKS,
      Timestamp: '100',
      TraceId: TRACE,
      SpanId: SPAN,
      ParentSpanId: '',
      TraceState: '',
      SpanName: 'op',
      SpanKind: 'Unspecified',
      ServiceName: 'svc',
      ResourceAttributes: { 'service.name': 'svc' },
      ScopeName: 'scope',
      ScopeVersion: 'v1',
      SpanAttributes: {},
      Duration: '150',
      StatusCode: 'Unset',
      StatusMessage: '',
    });
  });

  it('renders int64 values exactly', () => {
    expect(
      attrs(
        kv('big', aInt(9007199254740993n)),
        kv('neg', aInt(-5)),
        kv('min', aInt(-(2n ** 63n))),
        kv('max', aInt(2n ** 63n - 1n)),
      ),
    ).toEqual({
      big: '9007199254740993',
      neg: '-5',
      min: '-9223372036854775808',
      max: '9223372036854775807',
    });
  });

  it('renders kvlist and arrays as JSON with sorted keys and exact ints', () => {
    const list = aKvlist(kv('b', aArray(aStr('x'), aBool(true))), kv('a', aInt(1)));
    expect(
      attrs(
        kv('map', list),
        kv('nested', aArray(aArray(aInt(9007199254740993n), aDouble(0.5)), aArray(), aKvlist(), [])),
      ),
    ).toEqual({
      map: '{"a":1,"b":["x",true]}',
      nested: '[[9007199254740993,0.5],[],{},null]',
    });
  });

  it('renders bytes as base64, doubles in plain decimal, empty values as empty strings', () => {
    expect(
      attrs(
        kv('bytes', aBytes([0, 1, 2, 250, 255])),
        kv('d', aDouble(1e21)),
        kv('small', aDouble(1.5e-7)),
        kv('empty', []),
        str(1, 'novalue'),
      ),
    ).toEqual({
      bytes: 'AAEC+v8=',
      d: '1000000000000000000000',
      small: '0.00000015',
      empty: '',
      novalue: '',
    });
  });

  it('keeps the last of duplicate keys and of repeated oneof fields, and a __proto__ key', () => {
    expect(
      attrs(
        kv('k', aStr('first')),
        kv('k', aStr('second')),
        kv('o', [...aStr('s'), ...aInt(3)]),
        kv('__proto__', aStr('p')),
      ),
    ).toEqual(Object.defineProperty({ k: 'second', o: '3' }, '__proto__', { value: 'p', enumerable: true }));
  });

  it('replaces invalid UTF-8 with U+FFFD and keeps a byte-order mark', () => {
    const row = decodeOne(len(5, [0x61, 0xff, 0x62]), len(9, kv('bom', len(1, [0xef, 0xbb, 0xbf, 0x41]))));
    expect(row.SpanName).toBe('a\uFFFDb');
    expect(row.SpanAttributes).toEqual({ bom: '\uFEFFA' });
  });

  it('rejects a span with a 15-byte trace id and keeps its sibling', () => {
    const bad = [...hex(1, TRACE.slice(0, 30)), ...hex(2, SPAN)];
    const out = decodeTraceRequestProtobuf(
      request(resourceSpans(scopeSpans(span()), scopeSpans(span(str(5, 'keep')), bad))),
    );
    expect(out.spans.map((s) => s.SpanName)).toEqual(['op', 'keep']);
    expect(out.rejectedSpans).toBe(1);
    expect(out.rejectReasons).toEqual(['resource 0 scope 1 span 1: trace id must be 16 bytes, got 15']);
  });

  it('rejects bad span ids, bad parent ids and bad link ids, with at most 10 reasons', () => {
    const bad = [
      span(hex(1, '00'.repeat(16))),
      span(hex(2, '0102')),
      span(hex(4, '01020304')),
      span(len(13, hex(1, TRACE), hex(2, '0102'))),
      ...Array.from({ length: 10 }, () => span(hex(2, ''))),
    ];
    const out = decodeTraceRequestProtobuf(request(resourceSpans(scopeSpans(...bad, span()))));
    expect(out.spans).toHaveLength(1);
    expect(out.rejectedSpans).toBe(14);
    expect(out.rejectReasons).toHaveLength(10);
    expect(out.rejectReasons.slice(0, 5)).toEqual([
      'resource 0 scope 0 span 0: trace id must not be all zeros',
      'resource 0 scope 0 span 1: span id must be 8 bytes, got 2',
      'resource 0 scope 0 span 2: parent span id must be empty or 8 bytes, got 4',
      'resource 0 scope 0 span 3: link 0 must have a 16-byte trace id and an 8-byte span id, got 16 and 2',
      'resource 0 scope 0 span 4: span id must be 8 bytes, got 0',
    ]);
  });

  it('treats an all-zero parent span id as no parent', () => {
    expect(decodeOne(hex(4, '0000000000000000')).ParentSpanId).toBe('');
    expect(decodeOne(hex(4, 'ABCDEF0123456789'.toLowerCase())).ParentSpanId).toBe('abcdef0123456789');
  });

  it('maps unknown enum numbers to the defaults and truncates enums to int32', () => {
    expect(decodeOne(uint(6, 9), len(15, uint(3, 7))).SpanKind).toBe('Unspecified');
    const negative = decodeOne(uint(6, -1), len(15, uint(3, -1)));
    expect([negative.SpanKind, negative.StatusCode]).toEqual(['Unspecified', 'Unset']);
    const row = decodeOne(uint(6, 2n ** 32n + 3n), len(15, uint(3, 2), str(2, 'bad')), len(15, str(2, 'worse')));
    expect([row.SpanKind, row.StatusCode, row.StatusMessage]).toEqual(['Client', 'Error', 'worse']);
  });

  it('keeps 64-bit timestamps exact and clamps a negative duration at 0', () => {
    const row = decodeOne(
      fixed64(7, 2n ** 63n - 1n),
      fixed64(8, 5n),
      len(11, fixed64(1, 1700000000123456789n), str(2, 'e')),
    );
    expect([row.Timestamp, row.Duration, row['Events.Timestamp']]).toEqual([
      '9223372036854775807',
      '0',
      ['1700000000123456789'],
    ]);
  });

  it('refuses a span whose times are beyond what DateTime64(9) holds (after 2262-04-11)', () => {
    const out = decodeTraceRequestProtobuf(oneSpan(fixed64(7, 2n ** 64n - 1n)));
    expect(out.spans).toHaveLength(0);
    expect(out.rejectedSpans).toBe(1);
    expect(out.rejectReasons[0]).toMatch(/start time is after 2262-04-11/);
  });

  it('accepts fields in any order and repeated fields', () => {
    const spanBody = [
      ...fixed64(8, 20n),
      ...len(9, kv('a', aStr('1'))),
      ...str(5, 'first'),
      ...hex(2, SPAN),
      ...str(5, 'last'),
      ...len(9, kv('b', aStr('2'))),
      ...fixed64(7, 10n),
      ...hex(1, TRACE),
    ];
    const scope = [...len(2, spanBody), ...len(1, str(2, 'v9'), str(1, 'late-scope'))];
    const resource = [
      ...len(2, scope),
      ...len(1, len(1, kv('service.name', aStr('late-svc')))),
      ...len(1, len(1, kv('extra', aBool(false)))),
    ];
    const out = decodeTraceRequestProtobuf(request(resource, resourceSpans(scopeSpans(span()))));
    expect(out.spans.map((s) => [s.SpanName, s.ServiceName, s.ScopeName, s.ScopeVersion, s.Duration])).toEqual([
      ['last', 'late-svc', 'late-scope', 'v9', '10'],
      ['op', 'svc', 'scope', 'v1', '150'],
    ]);
    expect(out.spans[0]!.SpanAttributes).toEqual({ a: '1', b: '2' });
    expect(out.spans[0]!.ResourceAttributes).toEqual({ 'service.name': 'late-svc', extra: 'false' });
  });

  it('skips unknown fields of every wire type at every level, and known fields with the wrong wire type', () => {
    const junk = [...uint(99, 300), ...double(98, 1), ...str(97, 'x'), ...tag(96, 5), 1, 2, 3, 4];
    const value = [...junk, ...aStr('v')];
    const row = decodeTraceRequestProtobuf(
      request(
        [
          ...junk,
          ...len(1, junk, len(1, junk, [...junk, ...kv('k', value)])),
          ...len(
            2,
            junk,
            len(1, junk, str(1, 's')),
            len(
              2,
              span(
                junk,
                uint(5, 1),
                len(11, junk, str(2, 'e')),
                len(13, junk, hex(1, TRACE), hex(2, SPAN)),
                len(15, junk, uint(3, 2)),
              ),
            ),
          ),
          ...uint(1000, 1),
        ].concat(junk),
      ),
    );
    expect(row.spans).toHaveLength(1);
    const s = row.spans[0]!;
    expect([s.SpanName, s.ScopeName, s.StatusCode, s['Events.Name'], s['Links.SpanId'], s.ResourceAttributes]).toEqual([
      'op',
      's',
      'Error',
      ['e'],
      [SPAN],
      { k: 'v' },
    ]);
  });

  it('accepts 64 levels of AnyValue nesting and refuses 65 or 10,000 without overflowing the stack, as bad data', () => {
    const nested = (depth: number): Uint8Array => {
      // Built back to front (reversed) so 10,000 levels stay linear: each level wraps the inner AnyValue.
      const rev: number[] = [];
      for (let i = 1; i < depth; i++) {
        const inner = rev.length;
        rev.push(...varint(inner).reverse(), ...tag(1, 2).reverse()); // ArrayValue.values
        rev.push(...varint(rev.length).reverse(), ...tag(5, 2).reverse()); // AnyValue.array_value
      }
      const value = rev.reverse();
      return oneSpan(len(9, kv('deep', value)));
    };
    expect(decodeTraceRequestProtobuf(nested(64)).spans).toHaveLength(1);
    // Well-formed protobuf, refused as too deep: the JSON decoder's BadDataError and message, not "malformed protobuf".
    expect(() => decodeTraceRequestProtobuf(nested(65))).toThrow(/^AnyValue nested deeper than 64 levels/);
    expect(() => decodeTraceRequestProtobuf(nested(10_000))).toThrow(BadDataError);
    expect(() => decodeTraceRequestProtobuf(nested(10_000))).not.toThrow(ProtobufDecodeError);
  });

  it('counts an array element or kvlist entry at level 65 even when it carries no value', () => {
    /** `inner` as the AnyValue body at level 64, under 63 arrays. */
    const at64 = (inner: Bytes): Bytes => {
      let v = inner;
      for (let i = 1; i < 64; i++) v = aArray(v);
      return v;
    };
    expect(attrs(kv('deep', at64(aArray())))).toEqual({ deep: `${'['.repeat(64)}${']'.repeat(64)}` });
    expect(attrs(kv('deep', at64(aKvlist())))).toEqual({ deep: `${'['.repeat(63)}{}${']'.repeat(63)}` });
    expect(() => attrs(kv('deep', at64(aArray([]))))).toThrow(/^AnyValue nested deeper than 64 levels/); // one empty element
    expect(() => attrs(kv('deep', at64(aKvlist(str(1, 'k')))))).toThrow(/^AnyValue nested deeper than 64 levels/); // an entry without value
    expect(() => attrs(kv('deep', at64(len(5, uint(2, 1)))))).not.toThrow(); // an ArrayValue with only an unknown field: no element
  });

  it('throws ProtobufDecodeError for malformed wire data', () => {
    const cases: Array<[string, Bytes]> = [
      ['group', [...tag(5, 3), ...tag(5, 4)]],
      ['end group', tag(5, 4)],
      ['wire type 6', tag(5, 6)],
      ['wire type 7', tag(5, 7)],
      ['field number 0', [0x02, 0x00]],
      ['varint of 11 bytes', [...tag(99, 0), ...Array<number>(10).fill(0x80), 0x01]],
      ['varint overflowing 64 bits', [...tag(99, 0), ...Array<number>(9).fill(0xff), 0x02]],
      ['truncated fixed32', [...tag(99, 5), 1, 2]],
      ['truncated fixed64', [...tag(99, 1), 1, 2, 3, 4, 5, 6, 7]],
      ['length past the end', [...tag(99, 2), 5, 1]],
    ];
    for (const [name, bytes] of cases) {
      // Each both at top level and inside a span, where the limit is the span, not the buffer.
      expect(() => decodeTraceRequestProtobuf(Uint8Array.from(bytes)), name).toThrow(ProtobufDecodeError);
      expect(() => decodeTraceRequestProtobuf(oneSpan(bytes)), name).toThrow(ProtobufDecodeError);
    }
    // A string that fits in the buffer but not in its enclosing KeyValue.
    const kvBody = [...tag(1, 2), 10, 0x61];
    const overrun = request(resourceSpans(scopeSpans(span(len(9, kvBody), Array<number>(20).fill(0)))));
    expect(() => decodeTraceRequestProtobuf(overrun)).toThrow(/runs past the enclosing message/);
    expect(new ProtobufDecodeError('x')).toBeInstanceOf(Error);
  });

  it('gives each resource its own attributes and service name', () => {
    const noService = [...len(1, len(1, kv('service.name', aInt(5)))), ...len(2, scopeSpans(span()))];
    const out = decodeTraceRequestProtobuf(
      request(resourceSpans(scopeSpans(span())), noService, [...len(2, scopeSpans(span()))]),
    );
    expect(out.spans.map((s) => [s.ServiceName, s.ResourceAttributes])).toEqual([
      ['svc', { 'service.name': 'svc' }],
      ['5', { 'service.name': '5' }],
      ['', {}],
    ]);
  });

  it('decodes repeated short strings correctly through the string cache', () => {
    // Same length and same hashed bytes, different middle byte; then invalid and valid UTF-8 of equal length.
    const keys = ['abcXe', 'abcYe', 'abcXe', 'abcYe'];
    for (let round = 0; round < 3; round++) {
      expect(attrs(...keys.map((k, i) => kv(k, aStr(`${k}-${i % 2}`))))).toEqual({
        abcXe: 'abcXe-0',
        abcYe: 'abcYe-1',
      });
      expect(decodeOne(len(5, [0x61, 0xc3, 0xa9])).SpanName).toBe('a\u00e9');
      expect(decodeOne(len(5, [0x61, 0xe9, 0x41])).SpanName).toBe('a\uFFFDA');
    }
  });

  it('reports the length of an over-long id', () => {
    const out = decodeTraceRequestProtobuf(oneSpan(hex(1, 'ab'.repeat(40))));
    expect(out.rejectReasons).toEqual(['resource 0 scope 0 span 0: trace id must be 16 bytes, got 40']);
  });
});

describe('ProtoReader', () => {
  const reader = (...bytes: Bytes[]) => new ProtoReader(Uint8Array.from(bytes.flat()));

  it('reads varints, fixed-width numbers and bytes exactly', () => {
    const r = reader(
      varint(2n ** 64n - 1n),
      varint(-(2n ** 63n)),
      varint(2 ** 53),
      varint(300),
      [0xff, 0xff, 0xff, 0xfe],
      [1, 0, 0, 0, 0, 0, 0, 0x80],
      len(1, [7, 8]).slice(1),
    );
    expect(r.readVarint64()).toBe(2n ** 64n - 1n);
    expect(r.readInt64()).toBe(-(2n ** 63n));
    expect(r.readVarint()).toBe(2 ** 53);
    expect(r.readInt32()).toBe(300);
    expect(r.readFixed32()).toBe(0xfeffffff);
    expect(r.readFixed64()).toBe(2n ** 63n + 1n);
    expect([...r.readBytes()]).toEqual([7, 8]);
    expect(r.pos).toBe(r.end);
  });

  it('refuses to read past the end of the current message', () => {
    // The varint's byte follows the one-byte sub-message, so it is out of reach.
    const r = reader(len(1, [0x08]), [0x01]);
    r.readTag();
    r.enter();
    r.readTag();
    expect(() => r.readVarint()).toThrow(/truncated varint at offset 3/);
    // Leaving a sub-message before its end is a decoder bug, caught rather than silently misparsed.
    const half = reader(len(1, [0x08, 0x01]));
    half.readTag();
    const outer = half.enter();
    half.readTag();
    expect(() => half.leave(outer)).toThrow(/sub-message not consumed/);
  });
});
