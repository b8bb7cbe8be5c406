/**
 * A bounded, reproducible fuzz run of POST /v1/traces: valid SDK requests (protobuf and JSON,
 * several spans, every AnyValue kind) are mutated at the byte, text and object level with a
 * seeded PRNG and sent over the real port. For every request the collector must answer (no
 * connection error, no 5xx but 503/429), agree with the project's own pure decoders, and never
 * store half a request: a refusal adds no row, a 200 adds exactly the spans the decoder accepted.
 * FUZZ_ITERATIONS (default 300) and FUZZ_SEED (default 20260101) tune the run.
 */
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
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
import { BadDataError } from '../../src/errors.ts';
import { decodeTraceRequestJson } from '../../src/otlp/decode-json.ts';
import { decodeTraceRequestProtobuf } from '../../src/otlp/decode-protobuf.ts';
import type { DecodedTraces } from '../../src/otlp/span-row.ts';
import { queryRows, startTestCollector, tempDir } from '../helpers/collector.ts';
import { readOtlpAnswer } from '../helpers/otlp-answer.ts';
import { seededRandom } from '../helpers/agent-run.ts';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 20260101);
type Fmt = 'json' | 'protobuf';
const CT: Record<Fmt, string> = { json: 'application/json', protobuf: 'application/x-protobuf' };

let collector: RunningCollector;
beforeAll(async () => {
  collector = await startTestCollector(tempDir());
});
afterAll(async () => {
  await collector?.close();
});

interface Base {
  name: string;
  format: Fmt;
  body: Uint8Array;
}

describe('fuzzing POST /v1/traces', () => {
  it(
    `${ITERATIONS} mutated requests (seed ${SEED}): always an answer, never half a request stored`,
    { timeout: 120_000 + ITERATIONS * 2_000 },
    async () => {
      const rand = seededRandom(SEED);
      const int = (n: number): number => Math.floor(rand() * n);
      const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
      const bases: Base[] = ['fuzz-a', 'fuzz-b'].flatMap((service, i) => {
        const spans = sdkSpans(service, i + 1);
        return [
          {
            name: `${service}/protobuf`,
            format: 'protobuf' as const,
            body: ProtobufTraceSerializer.serializeRequest(spans)!,
          },
          { name: `${service}/json`, format: 'json' as const, body: JsonTraceSerializer.serializeRequest(spans)! },
        ];
      });
      const tally: Record<string, number> = { 200: 0, 400: 0, 413: 0, 415: 0, other: 0 };
      const violations: string[] = [];
      const reproductions: string[] = [];
      const refusedByStorage: string[] = [];
      let spansStored = 0;

      for (let iter = 0; iter < ITERATIONS; iter++) {
        const base = pick(bases);
        const other = pick(bases.filter((b) => b.format === base.format));
        const { body, steps } = mutate(base, other, { int, pick, rand });
        const what = `#${iter} ${base.name} [${steps.join(', ')}]`;

        let expected: DecodedTraces | BadDataError;
        try {
          expected = base.format === 'protobuf' ? decodeTraceRequestProtobuf(body) : decodeTraceRequestJson(body);
        } catch (err) {
          if (!(err instanceof BadDataError))
            violations.push(`${what}: decoder threw a non-BadDataError ${String(err)} (the server answers 500)`);
          expected = err instanceof BadDataError ? err : new BadDataError(String(err));
        }

        const before = await totalRows();
        let res: Response;
        let text: string;
        try {
          res = await fetch(`${collector.url}/v1/traces`, {
            method: 'POST',
            body: new Uint8Array(body),
            headers: { 'content-type': CT[base.format] },
          });
          text = await readAnswer(res, base.format);
        } catch (err) {
          violations.push(`${what}: no answer: ${String(err)} ${String((err as Error).cause ?? '')}`);
          await newRows(); // resynchronise the row snapshot
          continue;
        }
        const added = (await totalRows()) - before;
        const status = res.status;
        const stored = added === 0 ? new Map<string, number>() : await newRows();
        const key = String(status) in tally ? String(status) : 'other';
        tally[key] = (tally[key] ?? 0) + 1;
        if (status === 200) spansStored += added;
        const fail = (problem: string): void => {
          violations.push(`${what}: ${problem} (status ${status}, ${added} rows added, answer ${text.slice(0, 160)})`);
          reproductions.push(`${what}: ${CT[base.format]} body base64 ${b64(body)}`);
        };

        if (status >= 500 && status !== 503) fail('5xx other than 503');
        else if (status !== 200 && added !== 0) fail('a refused request left rows behind (half-stored)');
        else if (expected instanceof BadDataError) {
          if (status !== 400 && status !== 503 && status !== 429)
            fail(`decoder refused it (${expected.message}) but the server did not answer 400`);
          else if (status === 400 && !text.includes(expected.message))
            fail(`message differs from the decoder's ${JSON.stringify(expected.message)}`);
        } else if (status === 200) {
          const want = rowKeys(expected);
          if (added !== expected.spans.length)
            fail(`expected exactly ${expected.spans.length} rows (${expected.rejectedSpans} rejected)`);
          else if (!text.includes(`rejected=${expected.rejectedSpans}`))
            fail(`expected rejectedSpans ${expected.rejectedSpans}`);
          else if (!sameMultiset(want, stored))
            fail(
              `stored rows differ from the decoded spans: want ${[...want.keys()].join(' ')} got ${[...stored.keys()].join(' ')}`,
            );
        } else if (status === 400 || status === 503 || status === 429) {
          refusedByStorage.push(`${what}: ${status} ${text.slice(0, 160)}`); // decoder accepted, the engine (or the queue) refused
        } else fail('unexpected status');

        if (status === 503) await waitReady(); // a (mistaken) outage: keep fuzzing once storage is back
      }

      expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);
      await waitReady();
      const final = JsonTraceSerializer.serializeRequest(sdkSpans('fuzz-final', 9))!;
      const res = await fetch(`${collector.url}/v1/traces`, {
        method: 'POST',
        body: new Uint8Array(final),
        headers: { 'content-type': CT.json },
      });
      expect(res.status).toBe(200);
      const rows = await queryRows<{ n: number }>(
        collector.storage,
        "SELECT count() AS n FROM sessiongraph.otel_traces WHERE ServiceName = 'fuzz-final'",
      );
      expect(Number(rows[0]?.n)).toBe(3);

      console.log(
        `fuzz: seed ${SEED}, ${ITERATIONS} iterations: ${Object.entries(tally)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}; ${spansStored} spans stored; ` +
          `${refusedByStorage.length} decoder-accepted requests refused at storage; ${violations.length} violations`,
      );
      for (const line of refusedByStorage.slice(0, 10)) console.log(`  refused at storage: ${line}`);
      for (const line of violations.slice(0, 20)) console.log(`  VIOLATION ${line}`);
      for (const line of reproductions.slice(0, 5)) console.log(`  reproduce ${line}`);
      expect(violations).toEqual([]);
    },
  );
});

// ───────────────────────────── helpers ─────────────────────────────

interface Rng {
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  rand(): number;
}

/** Applies 1–3 random mutations; JSON bodies may also be mutated as text or as a parsed object. */
function mutate(base: Base, other: Base, r: Rng): { body: Uint8Array; steps: string[] } {
  let body = base.body;
  const steps: string[] = [];
  if (base.format === 'json' && r.rand() < 0.6) {
    const [obj, step] = mutateObject(JSON.parse(Buffer.from(body).toString('utf8')) as Json, r);
    steps.push(step);
    body = Buffer.from(serializeWithBigNumbers(obj));
    if (r.rand() < 0.7) return { body, steps };
  }
  if (base.format === 'protobuf' && r.rand() < 0.35) {
    const [next, step] = mutateFixed64(body, r);
    if (r.rand() < 0.7) return { body: next, steps: [step] };
    body = next;
    steps.push(step);
  }
  for (let n = 1 + r.int(2); n > 0; n--) {
    const text = base.format === 'json' && r.rand() < 0.5;
    const [next, step] = text ? mutateText(Buffer.from(body).toString('utf8'), r) : mutateBytes(body, other.body, r);
    body = next;
    steps.push(step);
  }
  return { body, steps };
}

function mutateBytes(b: Uint8Array, other: Uint8Array, { int, pick }: Rng): [Uint8Array, string] {
  const at = int(b.length + 1);
  const len = 1 + int(Math.max(1, Math.min(64, b.length - at)));
  switch (pick(['flip', 'delete', 'duplicate', 'insert', 'truncate', 'splice'] as const)) {
    case 'flip': {
      const c = Uint8Array.from(b);
      const where = Array.from({ length: 1 + int(4) }, () => int(c.length));
      for (const i of where) c[i] = (c[i] ?? 0) ^ (1 + int(255));
      return [c, `flip@${where.join('/')}`];
    }
    case 'delete':
      return [cat(b.subarray(0, at), b.subarray(at + len)), `delete ${len}@${at}`];
    case 'duplicate': {
      const from = int(b.length);
      return [cat(b.subarray(0, at), b.subarray(from, from + len), b.subarray(at)), `duplicate ${from}+${len}@${at}`];
    }
    case 'insert':
      return [
        cat(
          b.subarray(0, at),
          Uint8Array.from({ length: len % 17 }, () => int(256)),
          b.subarray(at),
        ),
        `insert ${len % 17}@${at}`,
      ];
    case 'truncate':
      return [b.subarray(0, at), `truncate@${at}`];
    case 'splice': {
      const from = int(other.length);
      return [cat(b.subarray(0, at), other.subarray(from)), `splice ${at}|${from}`];
    }
  }
}

const FIXED64_TAGS = new Set([0x39, 0x41, 0x09, 0x21]); // span start/end, event time, double value
const TIMES = [
  0n,
  1n,
  5n,
  999_999_999n,
  1_000_000_000n,
  10n ** 15n,
  2n ** 63n - 1n,
  2n ** 64n - 1n,
  9_300_000_000_000_000_000n,
  1_767_225_600_000_000_000n,
];

/** Framing-preserving: overwrites the 8 bytes after a (likely) fixed64 tag with an edge-case time. */
function mutateFixed64(b: Uint8Array, { int, pick }: Rng): [Uint8Array, string] {
  const at = [...b.keys()].filter((i) => FIXED64_TAGS.has(b[i]!) && i + 9 <= b.length);
  if (at.length === 0) return [b, 'fixed64 (none)'];
  const i = pick(at);
  const v = int(4) === 0 ? BigInt(int(2 ** 30)) * BigInt(int(2 ** 30)) * BigInt(1 + int(16)) : pick(TIMES);
  const c = Buffer.from(b);
  c.writeBigUInt64LE(v % 2n ** 64n, i + 1);
  return [c, `fixed64@${i}=${v}`];
}

const TOKENS = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  '\\',
  'null',
  'true',
  '-1',
  '1e999',
  '"\\ud800"',
  '"\\u0000"',
  '18446744073709551616',
  '{"stringValue":"x"}',
  '""',
];

function mutateText(s: string, { int, pick }: Rng): [Uint8Array, string] {
  const at = int(s.length + 1);
  const op = pick(['token', 'delete', 'number'] as const);
  if (op === 'token') {
    const t = pick(TOKENS);
    return [Buffer.from(s.slice(0, at) + t + s.slice(at)), `text+${t}@${at}`];
  }
  if (op === 'delete') {
    const n = 1 + int(8);
    return [Buffer.from(s.slice(0, at) + s.slice(at + n)), `text-${n}@${at}`];
  }
  const digits = [...s.matchAll(/\d+/g)];
  const m = digits.length ? pick(digits) : undefined;
  const big = pick([
    '99999999999999999999',
    '9300000000000000000',
    '18446744073709551615',
    '-9223372036854775809',
    '1e308',
    '0',
  ]);
  return m
    ? [Buffer.from(s.slice(0, m.index) + big + s.slice(m.index + m[0].length)), `number ${m[0].slice(0, 20)}→${big}`]
    : [Buffer.from(s), 'number (none)'];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const WRONG: Json[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  'str',
  '',
  [],
  {},
  [1, 'a'],
  { stringValue: 'x' },
  'deadbeef',
  'NaN',
];
const BIG = [
  '1e400',
  '18446744073709551616',
  '-9223372036854775809',
  '123456789012345678901234567890',
  '9300000000000000000',
  '-0',
  '1e-400',
];

/** One mutation at a random node of the parsed request: wrong type, dropped key, huge number, deep nesting, duplicate. */
function mutateObject(root: Json, { int, pick }: Rng): [Json, string] {
  const slots: Array<[Json[] | { [key: string]: Json }, string | number, string]> = [];
  const walk = (v: Json, path: string): void => {
    if (Array.isArray(v))
      v.forEach((x, i) => {
        slots.push([v, i, `${path}[${i}]`]);
        walk(x, `${path}[${i}]`);
      });
    else if (v && typeof v === 'object')
      for (const k of Object.keys(v)) {
        slots.push([v, k, `${path}.${k}`]);
        walk(v[k]!, `${path}.${k}`);
      }
  };
  walk(root, '');
  const [parent, key, path] = pick(slots);
  const set = (x: Json): void => {
    (parent as Record<string | number, Json>)[key] = x;
  };
  const op = pick(['wrong-type', 'drop', 'huge-number', 'deep', 'duplicate', 'rename'] as const);
  if (op === 'wrong-type') set(pick(WRONG));
  else if (op === 'drop') {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else if (op === 'huge-number') set(`@@BIG:${pick(BIG)}@@`);
  else if (op === 'deep') set(nested(40 + int(60), pick(['arrayValue', 'kvlistValue', 'plain'] as const)));
  else if (op === 'duplicate') {
    if (Array.isArray(parent)) parent.push(structuredClone(parent[Number(key)] ?? null));
    else set(structuredClone(parent[key] ?? null));
  } else if (!Array.isArray(parent)) {
    const v = parent[key]!;
    delete parent[key];
    parent[String(key).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) + (int(2) ? '' : 'X')] = v;
  }
  return [root, `${op} ${path}`];
}

function nested(depth: number, kind: 'arrayValue' | 'kvlistValue' | 'plain'): Json {
  let v: Json = { stringValue: 'bottom' };
  for (let i = 0; i < depth; i++) {
    v =
      kind === 'plain'
        ? [v]
        : kind === 'arrayValue'
          ? { arrayValue: { values: [v] } }
          : { kvlistValue: { values: [{ key: `k${i}`, value: v }] } };
  }
  return v;
}

/** JSON text with `@@BIG:n@@` placeholders replaced by the bare number n (beyond what JSON.stringify can write). */
function serializeWithBigNumbers(v: Json): string {
  return JSON.stringify(v).replace(/"@@BIG:([^@]+)@@"/g, '$1');
}

/** The answer condensed to one string: the Status message, or `rejected=N message`. */
async function readAnswer(res: Response, _format: Fmt): Promise<string> {
  const answer = await readOtlpAnswer(res);
  return res.status === 200 ? `rejected=${answer.rejected ?? 0} ${answer.message ?? ''}` : (answer.message ?? '');
}

/** Rows as `TraceId/SpanId/start ns/duration` → count; `newRows` returns what was added since the last call. */
const KEY_SQL =
  "concat(TraceId, '/', SpanId, '/', toString(toUnixTimestamp64Nano(Timestamp)), '/', toString(Duration))";
let seen = new Map<string, number>();
async function newRows(): Promise<Map<string, number>> {
  const rows = await queryRows<{ k: string; n: string }>(
    collector.storage,
    `SELECT ${KEY_SQL} AS k, count() AS n FROM sessiongraph.otel_traces GROUP BY k`,
  );
  const now = new Map(rows.map((r) => [r.k, Number(r.n)]));
  const added = new Map<string, number>();
  for (const [k, n] of now) if (n !== (seen.get(k) ?? 0)) added.set(k, n - (seen.get(k) ?? 0));
  seen = now;
  return added;
}
function rowKeys(d: DecodedTraces): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of d.spans) {
    const k = `${r.TraceId}/${r.SpanId}/${r.Timestamp}/${r.Duration}`;
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}
function sameMultiset(a: Map<string, number>, b: Map<string, number>): boolean {
  return a.size === b.size && [...a].every(([k, n]) => b.get(k) === n);
}

async function totalRows(): Promise<number> {
  return Number(
    (await queryRows<{ n: string }>(collector.storage, 'SELECT count() AS n FROM sessiongraph.otel_traces'))[0]?.n,
  );
}

async function waitReady(): Promise<void> {
  for (let i = 0; i < 150 && (await fetch(`${collector.url}/readyz`)).status !== 200; i++)
    await new Promise((r) => setTimeout(r, 100));
}

/** Deterministic SDK spans (ids, times): 3 spans, 2 scopes, an event, a link, a status, every AnyValue kind. */
function sdkSpans(service: string, seed: number): ReadableSpan[] {
  let t = 0;
  let s = 0;
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'host.cpus': 8 }),
    idGenerator: {
      generateTraceId: () => (seed * 1000 + ++t).toString(16).padStart(32, 'a'),
      generateSpanId: () => (seed * 1000 + ++s).toString(16).padStart(16, 'c'),
    },
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const T = 1767225600;
  const agent = provider.getTracer('agent', '1.2.3');
  const root = agent.startSpan('agent.run', { kind: SpanKind.SERVER, startTime: [T, 0] });
  root.addEvent('thinking', { tokens: 12, note: 'x' }, [T, 5_000]);
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  const ctx = trace.setSpan(context.active(), root);
  const link = {
    context: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 },
    attributes: { 'link.kind': 'follows' },
  };
  agent.startSpan('llm.call', { kind: SpanKind.CLIENT, startTime: [T, 1_000], links: [link] }, ctx).end([T, 900_000]);
  provider
    .getTracer('tools')
    .startSpan('tool.exec', { startTime: [T, 2_000] }, ctx)
    .end([T, 3_000]);
  root.end([T + 1, 0]);
  const every = {
    s: 'text ✓',
    i: 42,
    neg: -7,
    d: 3.25,
    b: true,
    arr: ['a', 1, false],
    kv: { inner: { deeper: [1, 'x'] } },
    bytes: Uint8Array.from([0, 1, 255]),
  };
  return memory.getFinishedSpans().map(
    (span) =>
      Object.create(span, {
        attributes: { value: { ...span.attributes, ...every }, enumerable: true },
      }) as ReadableSpan,
  );
}

function cat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

function b64(body: Uint8Array): string {
  return body.length <= 1500 ? Buffer.from(body).toString('base64') : `(${body.length} bytes)`;
}
