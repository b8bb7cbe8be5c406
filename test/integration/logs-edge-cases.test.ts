/**
 * `POST /v1/logs` with hand-made requests a real SDK does not send (observed-only times, empty
 * and kvlist bodies, invalid trace ids, malformed bodies, compression, wrong types, bodies over
 * the limit, storage outages, a backfill over many days): each answered as the OTLP spec says,
 * and what is stored is what the Collector's ClickHouse exporter would store.
 */
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import type { RunningCollector } from '../../collector/server.ts';
import { queryRows, startTestCollector, tempDir } from '../helpers/collector.ts';
import { readOtlpAnswer } from '../helpers/otlp-answer.ts';

const MAX_BODY = 256 * 1024;
let collector: RunningCollector;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDir();
  collector = await startTestCollector(dataDir, { SESSIONGRAPH_MAX_BODY_SIZE: String(MAX_BODY) });
});
afterAll(async () => {
  await collector?.close();
});

const T0 = 1767225600000000000n; // 2026-01-01T00:00:00Z in ns

function logsRequest(service: string, records: object[]): string {
  return JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeLogs: [{ scope: { name: 'edge' }, logRecords: records }],
      },
    ],
  });
}

function post(
  body: string | Uint8Array<ArrayBuffer>,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<Response> {
  return fetch(`${collector.url}/v1/logs`, { method: 'POST', body, headers });
}

async function rowsOf(service: string): Promise<Array<Record<string, unknown>>> {
  return queryRows(
    collector.storage,
    `SELECT toString(Timestamp, 'UTC') AS ts, TraceId, SpanId, Body, LogAttributes FROM sessiongraph.otel_logs WHERE ServiceName = {s:String} ORDER BY Timestamp, Body`,
    { s: service },
  );
}

describe('hand-made records', () => {
  it('observed-only time, empty body and kvlist body are stored as the exporter stores them', async () => {
    const res = await post(
      logsRequest('edge-values', [
        { observedTimeUnixNano: String(T0 + 7n), body: { stringValue: 'observed only' } },
        { timeUnixNano: String(T0 + 8n), attributes: [{ key: 'k', value: { stringValue: 'v' } }] },
        {
          timeUnixNano: String(T0 + 9n),
          body: {
            kvlistValue: {
              values: [
                { key: 'b', value: { intValue: '2' } },
                { key: 'a', value: { arrayValue: { values: [{ boolValue: true }] } } },
              ],
            },
          },
        },
      ]),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect(await rowsOf('edge-values')).toEqual([
      { ts: '2026-01-01 00:00:00.000000007', TraceId: '', SpanId: '', Body: 'observed only', LogAttributes: {} },
      { ts: '2026-01-01 00:00:00.000000008', TraceId: '', SpanId: '', Body: '', LogAttributes: { k: 'v' } },
      { ts: '2026-01-01 00:00:00.000000009', TraceId: '', SpanId: '', Body: '{"a":[true],"b":2}', LogAttributes: {} },
    ]);
  });

  it('an invalid trace id is a partial success (JSON): the other records are stored', async () => {
    const res = await post(
      logsRequest('edge-partial-json', [
        { timeUnixNano: String(T0), traceId: 'ABCD', body: { stringValue: 'refused' } },
        {
          timeUnixNano: String(T0 + 1n),
          traceId: 'AB'.repeat(16),
          spanId: 'cd'.repeat(8),
          body: { stringValue: 'kept' },
        },
      ]),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      partialSuccess: {
        rejectedLogRecords: '1',
        errorMessage: 'resourceLogs[0].scopeLogs[0].logRecords[0]: trace id must be empty or 16 bytes, got 2',
      },
    });
    expect(await rowsOf('edge-partial-json')).toEqual([
      {
        ts: '2026-01-01 00:00:00.000000001',
        TraceId: 'ab'.repeat(16),
        SpanId: 'cd'.repeat(8),
        Body: 'kept',
        LogAttributes: {},
      },
    ]);
  });

  it('an invalid trace id is a partial success (protobuf), answered in protobuf', async () => {
    // A protobuf request built by hand: ResourceLogs { ScopeLogs { LogRecord × 2 } }, the second with a 3-byte trace id.
    const record = (body: string, traceId?: Buffer): Buffer =>
      Buffer.concat([
        Buffer.from([0x09]),
        u64(T0), // 1 time_unix_nano, fixed64
        field(5, field(1, Buffer.from(body))), // 5 body { 1 string_value }
        ...(traceId ? [field(9, traceId)] : []),
      ]);
    const resource = field(
      1,
      field(
        1,
        Buffer.concat([field(1, Buffer.from('service.name')), field(2, field(1, Buffer.from('edge-partial-pb')))]),
      ),
    );
    const scopeLogs = field(
      2,
      Buffer.concat([field(2, record('kept')), field(2, record('refused', Buffer.from([1, 2, 3])))]),
    );
    const body = field(1, Buffer.concat([resource, scopeLogs]));
    const res = await post(new Uint8Array(body), { 'content-type': 'application/x-protobuf' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    const answer = ProtobufLogsSerializer.deserializeResponse(new Uint8Array(await res.arrayBuffer()));
    expect(Number(answer.partialSuccess?.rejectedLogRecords)).toBe(1);
    expect(answer.partialSuccess?.errorMessage).toBe(
      'resource 0 scope 0 log record 1: trace id must be empty or 16 bytes, got 3',
    );
    expect((await rowsOf('edge-partial-pb')).map((r) => r.Body)).toEqual(['kept']);
  });

  it('a backfill over 120 days is stored (inserts cut below the 100-partition limit)', async () => {
    const day = 86_400_000_000_000n;
    const res = await post(
      logsRequest(
        'edge-backfill',
        Array.from({ length: 120 }, (_, i) => ({
          timeUnixNano: String(T0 - BigInt(i) * day),
          body: { stringValue: `day ${i}` },
        })),
      ),
    );
    expect(res.status).toBe(200);
    const [count] = await queryRows<{ n: string | number; days: string | number }>(
      collector.storage,
      `SELECT count() AS n, uniqExact(toDate(Timestamp, 'UTC')) AS days FROM sessiongraph.otel_logs WHERE ServiceName = 'edge-backfill'`,
    );
    expect([Number(count?.n), Number(count?.days)]).toEqual([120, 120]);
  });
});

describe('refused requests keep the promises of /v1/traces', () => {
  it('malformed bodies are 400 with a google.rpc.Status in the request encoding; nothing is stored', async () => {
    const json = await post('{"resourceLogs":[{"scopeLogs":{}}]}');
    expect(json.status).toBe(400);
    expect(await readOtlpAnswer(json)).toEqual({
      code: 3,
      message: 'resourceLogs[0].scopeLogs: expected an array, got object',
    });
    const pb = await post(Buffer.from([0x0a, 0x05, 0x12, 0x09]), { 'content-type': 'application/x-protobuf' });
    expect(pb.status).toBe(400);
    expect((await readOtlpAnswer(pb)).message).toMatch(/^malformed protobuf: /);
  });

  it('gzip and deflate bodies are accepted; a body that is not gzip is 400', async () => {
    const gz = await post(
      gzipSync(logsRequest('edge-gzip', [{ timeUnixNano: String(T0), body: { stringValue: 'gzipped' } }])),
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    );
    expect(gz.status).toBe(200);
    const df = await post(
      deflateSync(logsRequest('edge-gzip', [{ timeUnixNano: String(T0 + 1n), body: { stringValue: 'deflated' } }])),
      { 'content-type': 'application/json', 'content-encoding': 'deflate' },
    );
    expect(df.status).toBe(200);
    expect((await rowsOf('edge-gzip')).map((r) => r.Body)).toEqual(['gzipped', 'deflated']);
    const bad = await post('not gzip at all', { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(bad.status).toBe(400);
  });

  it('a wrong Content-Type or Content-Encoding is 415', async () => {
    expect((await post('{}', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post('{}', { 'content-type': 'application/json', 'content-encoding': 'br' })).status).toBe(415);
  });

  it('a body over the limit is 413, declared or after decompression (a gzip bomb), and the connection is closed', async () => {
    const declared = await post('x'.repeat(MAX_BODY + 1));
    expect(declared.status).toBe(413);
    expect(declared.headers.get('connection')).toBe('close');
    const bomb = gzipSync(Buffer.from(logsRequest('edge-bomb', [{ body: { stringValue: 'y'.repeat(4 * MAX_BODY) } }])));
    expect(bomb.length).toBeLessThan(MAX_BODY);
    const inflated = await post(bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(inflated.status).toBe(413);
    expect((await readOtlpAnswer(inflated)).message).toMatch(/after decompression/);
  });

  it('storage unavailable (at start, or after a failed log insert) is 503 + Retry-After, then accepted again', async () => {
    const request = logsRequest('edge-outage', [
      { timeUnixNano: String(T0), body: { stringValue: 'after the outage' } },
    ]);
    collector.writer.markUnavailable('test outage', false);
    const down = await post(request);
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(await readOtlpAnswer(down)).toEqual({
      code: 14,
      message: 'storage is unavailable (test outage); retry later',
    });
    collector.writer.markAvailable();

    const logs = collector.receivers.logs;
    logs.writer.markUnavailable('log insert failed');
    expect((await post(request)).status).toBe(503);
    logs.writer.markAvailable();
    expect((await post(request)).status).toBe(200);
    expect((await rowsOf('edge-outage')).map((r) => r.Body)).toEqual(['after the outage']);
  });

  it('/metrics counts log requests by status and records accepted and rejected', async () => {
    const text = await (await fetch(`${collector.url}/metrics`)).text();
    const value = (name: string): number =>
      Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1]);
    expect(value('sessiongraph_otlp_log_requests_total{code="200"}')).toBe(7);
    expect(value('sessiongraph_otlp_log_requests_total{code="400"}')).toBe(3);
    expect(value('sessiongraph_otlp_log_requests_total{code="415"}')).toBe(2);
    expect(value('sessiongraph_otlp_log_requests_total{code="503"}')).toBe(2);
    expect(value('sessiongraph_otlp_log_requests_total{code="413"}')).toBe(2);
    expect(value('sessiongraph_log_records_rejected_total')).toBe(2);
    expect(value('sessiongraph_log_records_accepted_total')).toBe(128);
    expect(value('sessiongraph_otlp_requests_total{code="200"}')).toBeNaN(); // span requests are counted apart
  });
});

// ───────────────────────────── helpers ─────────────────────────────

function field(n: number, bytes: Buffer): Buffer {
  return Buffer.concat([varint((n << 3) | 2), varint(bytes.length), bytes]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}
