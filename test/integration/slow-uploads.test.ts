/**
 * Slow, stalled and vanishing uploads to POST /v1/traces (SPEC §7: one client never harms
 * another). Request bodies count against the in-flight byte budget as their bytes arrive, not
 * as their Content-Length declares; a body that stops arriving is answered 408 after
 * --body-timeout and its bytes released; a client that leaves mid-body is counted as 499.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCollector, type RunningCollector } from '../../collector/server.ts';
import type { Logger } from '../../src/logger.ts';
import { tempDir, testConfig } from '../helpers/collector.ts';
import { closedWithin, rawConnections, sleep, uploadHead } from '../helpers/raw-connection.ts';

const MiB = 1024 * 1024;
const BODY_TIMEOUT_MS = 5000;
/** In-flight bodies may hold 8 MiB: small enough to cross in a test, far below four declared 64 MiB bodies. */
const BUDGET = 8 * MiB;

let collector: RunningCollector;
const logged: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
const logger: Logger = {
  info: (message, fields) => logged.push({ level: 'info', message, fields }),
  warn: (message, fields) => logged.push({ level: 'warn', message, fields }),
  error: (message, fields) => logged.push({ level: 'error', message, fields }),
};
const raw = rawConnections(() => collector.url);
const connect = raw.connect;

beforeAll(async () => {
  const config = testConfig(tempDir(), {
    SESSIONGRAPH_BODY_TIMEOUT: `${BODY_TIMEOUT_MS}ms`,
    SESSIONGRAPH_QUEUE_MAX_BYTES: String(BUDGET),
  });
  collector = await startCollector(config, logger);
});
afterAll(async () => {
  raw.destroyAll();
  await collector?.close();
});

let nextSpan = 1;
function exportRequest(service: string): string {
  const n = nextSpan++;
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: `${'cd'.repeat(12)}${n.toString(16).padStart(8, '0')}`,
                spanId: n.toString(16).padStart(16, '0'),
                name: 'step',
                startTimeUnixNano: '1767225600000000000',
                endTimeUnixNano: '1767225601000000000',
              },
            ],
          },
        ],
      },
    ],
  });
}

function exportNormally(service: string): Promise<Response> {
  return fetch(`${collector.url}/v1/traces`, {
    method: 'POST',
    body: exportRequest(service),
    headers: { 'content-type': 'application/json' },
  });
}

async function requestsByCode(): Promise<Record<string, number>> {
  const text = await (await fetch(`${collector.url}/metrics`)).text();
  return Object.fromEntries(
    [...text.matchAll(/^sessiongraph_otlp_requests_total\{code="(\d+)"\} (\d+)$/gm)].map((m) => [
      m[1] ?? '',
      Number(m[2]),
    ]),
  );
}

describe('slow uploads', () => {
  it('four uploads declaring 64 MiB and sending 10 bytes do not lock a normal exporter out', async () => {
    const slow = await Promise.all([1, 2, 3, 4].map(() => connect()));
    for (const conn of slow) conn.socket.write(`${uploadHead(64 * MiB)}{"resourc`);
    await sleep(1000); // the collector has taken their headers in and is waiting for the rest

    const started = Date.now();
    const res = await exportNormally('beside-slow-uploads');
    const took = Date.now() - started;
    console.log(`a normal export beside 4 stalled 64 MiB uploads: ${res.status} in ${took} ms`);
    expect(res.status).toBe(200);
    // The 200 came while they were still uploading, not because they had been cut off.
    expect(slow.filter((c) => c.isClosed())).toEqual([]);
    expect(took).toBeLessThan(BODY_TIMEOUT_MS);
    for (const conn of slow) conn.socket.destroy();
  });

  it('a stalled upload is answered 408 and closed after --body-timeout, and its bytes are released', async () => {
    const before = (await requestsByCode())['408'] ?? 0;
    const conn = await connect();
    conn.socket.write(`${uploadHead(6 * MiB)}${'x'.repeat(5 * MiB)}`);
    const lived = await closedWithin(conn, BODY_TIMEOUT_MS + 20_000);
    console.log(
      `a stalled upload (5 of 6 MiB sent): ${conn.received().split('\r\n')[0]} after ${lived} ms (body timeout ${BODY_TIMEOUT_MS} ms)`,
    );
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(conn.received()).toMatch(/\r\nconnection: close\r\n/i);
    expect(conn.received()).toMatch(/"code":4,.*--body-timeout/);
    expect(lived).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 500);
    expect((await requestsByCode())['408']).toBe(before + 1);
    // Its 5 MiB no longer count: another 5 MiB upload fits in the 8 MiB budget.
    const next = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      body: padded(exportRequest('after-stall'), 5 * MiB),
      headers: { 'content-type': 'application/json' },
    });
    expect(next.status).toBe(200);
  }, 60_000);

  it('an upload that takes the bytes in flight over the budget mid-read gets 429 + Retry-After and is closed', async () => {
    const holder = await connect();
    holder.socket.write(`${uploadHead(6 * MiB)}${'x'.repeat(5 * MiB)}`);
    await sleep(1000); // its 5 MiB are read and held
    const late = await connect();
    late.socket.write(`${uploadHead(5 * MiB)}${'x'.repeat(4 * MiB)}`);
    await closedWithin(late, BODY_TIMEOUT_MS - 500);
    expect(late.received()).toMatch(/^HTTP\/1\.1 429 /);
    expect(late.received()).toMatch(/\r\nretry-after: \d+\r\n/i);
    expect(late.received()).toMatch(/\r\nconnection: close\r\n/i);
    holder.socket.destroy();
  });
});

describe('a client that goes away mid-request', () => {
  it('is counted as 499, not 500, and nothing is logged at error level', async () => {
    const consoleError = vi.spyOn(console, 'error');
    const before = await requestsByCode();
    const conn = await connect();
    conn.socket.write(`${uploadHead(100_000)}${'{"resourceSpans":['.padEnd(50_000, ' ')}`);
    await sleep(500);
    conn.socket.destroy();
    await expect
      .poll(async () => (await requestsByCode())['499'] ?? 0, { timeout: 10_000 })
      .toBe((before['499'] ?? 0) + 1);
    expect((await requestsByCode())['500'] ?? 0).toBe(before['500'] ?? 0);
    expect(logged.filter((l) => l.level === 'error')).toEqual([]);
    expect(consoleError).not.toHaveBeenCalled();
    consoleError.mockRestore();
  });
});

/** An OTLP/JSON request grown to about `size` bytes with trailing whitespace (valid JSON). */
function padded(json: string, size: number): string {
  return json.padEnd(size, ' ');
}
