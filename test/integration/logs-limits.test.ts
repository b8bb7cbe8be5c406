/**
 * `POST /v1/logs` under API keys and limits (SPEC §7): the `ingest` scope is needed (401/403 as
 * OTLP Status bodies), a full log queue answers 429 + Retry-After before the body is read, a
 * client leaving mid-body is counted as 499, a stalled body is answered 408 and closed, and a
 * 2xx still means stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { queryRows, startTestCollector, tempDir } from '../helpers/collector.ts';
import { readOtlpAnswer } from '../helpers/otlp-answer.ts';
import { closedWithin, rawConnections, sleep } from '../helpers/raw-connection.ts';

const INGEST = 'sgk-logs-ingest-7c1e9a3f5b2d40869e13c5a7d1b9f2e4';
const READ = 'sgk-logs-read-2a8f6c4e0d9b1735af47c2e9b6d0a183';
const LINGER_MS = 1500;
const QUEUE_MAX_RECORDS = 5;

let collector: RunningCollector;
const raw = rawConnections(() => collector.url);

beforeAll(async () => {
  collector = await startTestCollector(tempDir(), {
    SESSIONGRAPH_API_KEYS: `${INGEST}=ingest,${READ}=read`,
    // A lingering batch keeps records queued long enough to see the queue full.
    SESSIONGRAPH_BATCH_LINGER_MS: String(LINGER_MS),
    SESSIONGRAPH_BATCH_MAX_SPANS: '1000',
    SESSIONGRAPH_QUEUE_MAX_SPANS: String(QUEUE_MAX_RECORDS),
    SESSIONGRAPH_BODY_TIMEOUT: '1s',
  });
});
afterAll(async () => {
  raw.destroyAll();
  await collector?.close();
});

function logsRequest(service: string, records: number): string {
  const logRecords = Array.from({ length: records }, (_, i) => ({
    timeUnixNano: String(1767225600000000000n + BigInt(i)),
    body: { stringValue: `r${i}` },
  }));
  return JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeLogs: [{ logRecords }],
      },
    ],
  });
}

function post(body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${collector.url}/v1/logs`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${collector.url}/metrics`, { headers: { 'x-api-key': READ } })).text();
  return Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

async function until(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(20);
  }
}

describe('API keys', () => {
  it('/v1/logs needs the ingest scope: 401 without a key, 403 with a read key, as google.rpc.Status', async () => {
    const none = await post('{"resourceLogs":[]}', {});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="sessiongraph"');
    expect(await readOtlpAnswer(none)).toMatchObject({ code: 16 });
    const read = await post('{"resourceLogs":[]}', { authorization: `Bearer ${READ}` });
    expect(read.status).toBe(403);
    expect(await readOtlpAnswer(read)).toEqual({
      code: 7,
      message: 'the API key does not have the "ingest" scope this route needs',
    });
    expect((await post('{"resourceLogs":[]}', { authorization: `Bearer ${INGEST}` })).status).toBe(200);
    expect((await post('{"resourceLogs":[]}', { 'x-api-key': INGEST })).status).toBe(200);
  });
});

describe('limits', () => {
  it('a full log queue answers 429 + Retry-After before reading; the queued request is stored and answered 200', async () => {
    const first = post(logsRequest('limits-queue', QUEUE_MAX_RECORDS), { 'x-api-key': INGEST });
    await until(async () => (await metric('sessiongraph_log_queue_records')) >= QUEUE_MAX_RECORDS);
    const refused = await post(logsRequest('limits-queue-2', 1), { 'x-api-key': INGEST });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect((await readOtlpAnswer(refused)).code).toBe(8); // RESOURCE_EXHAUSTED
    const stored = await first;
    expect(stored.status).toBe(200);
    const [row] = await queryRows<{ n: number | string }>(
      collector.storage,
      "SELECT count() AS n FROM sessiongraph.otel_logs WHERE ServiceName = 'limits-queue'",
    );
    expect(Number(row?.n)).toBe(QUEUE_MAX_RECORDS);
  });

  it('a client that leaves mid-body is counted as 499; a body that stalls is answered 408 and closed', async () => {
    const head = (length: number): string =>
      `POST /v1/logs HTTP/1.1\r\nHost: collector\r\nContent-Type: application/json\r\nx-api-key: ${INGEST}\r\nContent-Length: ${length}\r\n\r\n`;
    const leaving = await raw.connect();
    leaving.socket.write(`${head(1000)}{"resourceLogs":`);
    await sleep(100);
    leaving.socket.destroy();
    await until(async () => (await metric('sessiongraph_otlp_log_requests_total{code="499"}')) === 1);

    const stalled = await raw.connect();
    stalled.socket.write(`${head(1000)}{"resourceLogs":`);
    await closedWithin(stalled, 5000);
    expect(stalled.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(await metric('sessiongraph_otlp_log_requests_total{code="408"}')).toBe(1);
  });
});
