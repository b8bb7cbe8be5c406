/**
 * Every bad-input case of the OTLP/HTTP receiver gets its status code and a clear message,
 * and none of them disturbs data stored before (issue: receiver requirements).
 */
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../collector/app.ts';
import type { RunningCollector } from '../../collector/server.ts';
import { silentLogger } from '../../src/logger.ts';
import { openClickHouse } from '../../src/storage/client.ts';
import { createPricer } from '../../src/pricing/pricer.ts';
import { createGraphWriter } from '../../src/ingest/graph-writer.ts';
import { SpanWriter } from '../../src/ingest/span-writer.ts';
import { createStorage } from '../../src/storage/storage.ts';
import { queryRows, startTestCollector, tempDir, testConfig } from '../helpers/collector.ts';

const MAX_BODY = 256 * 1024;
let collector: RunningCollector;

beforeAll(async () => {
  collector = await startTestCollector(tempDir(), { SESSIONGRAPH_MAX_BODY_SIZE: String(MAX_BODY) });
});
afterAll(async () => {
  await collector?.close();
});

function request(service: string, spans: object[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [{ scope: { name: 'test' }, spans }],
      },
    ],
  });
}

let nextId = 1;
function span(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const n = nextId++;
  return {
    traceId: `${'ab'.repeat(12)}${n.toString(16).padStart(8, '0')}`,
    spanId: n.toString(16).padStart(16, '0'),
    name,
    startTimeUnixNano: '1767225600000000000',
    endTimeUnixNano: '1767225601000000000',
    ...overrides,
  };
}

async function post(body: BodyInit, headers: Record<string, string>): Promise<Response> {
  return fetch(`${collector.url}/v1/traces`, { method: 'POST', body, headers });
}

async function countService(service: string): Promise<number> {
  const rows = await queryRows<{ n: string }>(
    collector.storage,
    'SELECT count() AS n FROM sessiongraph.otel_traces WHERE ServiceName = {s:String}',
    { s: service },
  );
  return Number(rows[0]?.n);
}

describe('bad input to POST /v1/traces', () => {
  const JSON_HEADERS = { 'content-type': 'application/json' };

  beforeAll(async () => {
    const res = await post(request('earlier', [span('a'), span('b')]), JSON_HEADERS);
    expect(res.status).toBe(200);
  });

  it.each([
    ['malformed JSON', 400, '{"resourceSpans": [', JSON_HEADERS, /not valid JSON/],
    [
      'JSON of the wrong shape',
      400,
      '{"resourceSpans": 5}',
      JSON_HEADERS,
      /resourceSpans: expected an array, got number/,
    ],
    [
      'a span name that is not a string',
      400,
      request('bad', [span('x', { name: 7 })]),
      JSON_HEADERS,
      /spans\[0\]\.name: expected a string/,
    ],
    [
      'a time that is not an integer',
      400,
      request('bad', [span('x', { startTimeUnixNano: 'soon' })]),
      JSON_HEADERS,
      /startTimeUnixNano: expected unsigned 64-bit/,
    ],
    [
      'AnyValue nested 100 levels deep',
      400,
      request('bad', [span('x', { attributes: [{ key: 'deep', value: nested(100) }] })]),
      JSON_HEADERS,
      /nested deeper than 64/,
    ],
    [
      'an unsupported content type',
      415,
      'hello',
      { 'content-type': 'text/plain' },
      /unsupported Content-Type "text\/plain"/,
    ],
    ['no content type', 415, 'hello', {}, /unsupported Content-Type/],
    [
      'an unsupported content encoding',
      415,
      request('bad', [span('x')]),
      { ...JSON_HEADERS, 'content-encoding': 'br' },
      /unsupported Content-Encoding "br"/,
    ],
    [
      'gzip that is not gzip',
      400,
      'not gzip at all',
      { ...JSON_HEADERS, 'content-encoding': 'gzip' },
      /not valid gzip/,
    ],
  ])('%s → %i', async (_name, status, body, headers, message) => {
    const res = await post(body, headers);
    expect(res.status).toBe(status);
    const payload = (await res.json()) as { code: number; message: string };
    expect(payload.message).toMatch(message);
  });

  it('malformed protobuf → 400 with a google.rpc.Status in protobuf', async () => {
    const res = await post(Uint8Array.from([0x0a, 0xff, 0xff, 0x03, 0x01]), {
      'content-type': 'application/x-protobuf',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    const body = Buffer.from(await res.arrayBuffer());
    expect(body[0]).toBe(0x08); // field 1 (code), varint
    expect(body[1]).toBe(3); // INVALID_ARGUMENT
    expect(body.toString('utf8')).toMatch(/truncat|length|invalid/i);
  });

  it('a body over the limit → 413', async () => {
    const res = await post(
      request('big', [span('x', { attributes: [{ key: 'blob', value: { stringValue: 'x'.repeat(MAX_BODY) } }] })]),
      JSON_HEADERS,
    );
    expect(res.status).toBe(413);
    expect(((await res.json()) as { message: string }).message).toMatch(/exceeds the 262144-byte limit/);
  });

  it('a gzip bomb (small compressed, huge inflated) → 413 without inflating it all', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(MAX_BODY);
    const rssBefore = process.memoryUsage().rss;
    const res = await post(bomb, { ...JSON_HEADERS, 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { message: string }).message).toMatch(/after decompression/);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(48 * 1024 * 1024);
  });

  it('ids of the wrong length → 200 with partialSuccess, the valid spans stored', async () => {
    const res = await post(
      request('partial', [
        span('good'),
        span('short-trace', { traceId: 'ab'.repeat(15) }),
        span('zero-span', { spanId: '0'.repeat(16) }),
      ]),
      JSON_HEADERS,
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
    expect(body.partialSuccess.rejectedSpans).toBe('2');
    expect(body.partialSuccess.errorMessage).toMatch(/spans\[1\]: trace id must be 16 bytes, got 15/);
    expect(body.partialSuccess.errorMessage).toMatch(/spans\[2\]: span id must not be all zeros/);
    expect(await countService('partial')).toBe(1);
  });

  it('an unknown path → 404 JSON error', async () => {
    const res = await fetch(`${collector.url}/v1/metricz`, { method: 'POST', body: '{}', headers: JSON_HEADERS });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no route for POST /v1/metricz' } });
  });

  it('none of the refused requests stored anything, and earlier data is intact', async () => {
    expect(await countService('earlier')).toBe(2);
    expect(await countService('bad')).toBe(0);
    expect(await countService('big')).toBe(0);
  });
});

describe('GET /metrics', () => {
  it('counts the requests above by status, and the spans accepted and rejected, in Prometheus text', async () => {
    expect(await collector.graph.settled()).toBe(true);
    const res = await fetch(`${collector.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const value = (series: string): number =>
      Number(new RegExp(`^${series.replace(/[{}"+.]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1]);
    expect(text).toContain('# TYPE sessiongraph_otlp_requests_total counter');
    expect(value('sessiongraph_otlp_requests_total{code="200"}')).toBe(2); // 'earlier' and 'partial'
    expect(value('sessiongraph_otlp_requests_total{code="400"}')).toBe(7);
    expect(value('sessiongraph_otlp_requests_total{code="413"}')).toBe(2);
    expect(value('sessiongraph_otlp_requests_total{code="415"}')).toBe(3);
    expect(value('sessiongraph_spans_accepted_total')).toBe(3);
    expect(value('sessiongraph_spans_rejected_total')).toBe(2);
    expect(value('sessiongraph_storage_available')).toBe(1);
    expect(value('sessiongraph_queue_spans')).toBe(0);
    // Where ingest time went: every stage that stored the accepted spans took some.
    const seconds = (stage: string): number =>
      Number(
        new RegExp(`^sessiongraph_ingest_stage_seconds_total\\{stage="${stage}"\\} ([\\d.e+-]+)$`, 'm').exec(text)?.[1],
      );
    for (const stage of ['decode', 'prepare', 'raw', 'facts', 'rollup'])
      expect(seconds(stage), stage).toBeGreaterThan(0);
    // Sessions are rolled up behind the ack: the lag of each trace of each pass is observed.
    expect(value('sessiongraph_rollup_lag_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(value('sessiongraph_rollup_lag_seconds_bucket{le="+Inf"}')).toBe(
      value('sessiongraph_rollup_lag_seconds_count'),
    );
    expect(value('sessiongraph_rollup_backlog_traces')).toBe(0);
    expect(value('sessiongraph_rollup_passes_total')).toBeGreaterThanOrEqual(1);
  });
});

describe('storage unavailable', () => {
  it('answers 503 with Retry-After and a retryable Status, and /readyz says not ready', async () => {
    const config = testConfig(tempDir(), { CLICKHOUSE_URL: 'http://127.0.0.1:9' });
    const storage = createStorage(openClickHouse(config), config.clickhouse.database);
    const graph = createGraphWriter(storage, { pricer: createPricer(), sessionTimeoutMs: config.sessionTimeoutMs });
    const writer = new SpanWriter((batch) => graph.storeBatch(batch), config);
    const app = createApp({ storage, writer, graph, config, logger: silentLogger });
    const res = await app.request('/v1/traces', {
      method: 'POST',
      body: request('lost', [span('x')]),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await res.json()) as { code: number; message: string }).message).toMatch(
      /storage is unavailable: .*ECONNREFUSED/,
    );
    expect((await app.request('/readyz')).status).toBe(503);
    expect((await app.request('/healthz')).status).toBe(200);
    await storage.close();
  });
});

function nested(depth: number): object {
  let value: object = { stringValue: 'bottom' };
  for (let i = 0; i < depth; i++) value = { arrayValue: { values: [value] } };
  return value;
}
