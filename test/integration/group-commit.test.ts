/**
 * Group commit: concurrent export requests share inserts, and every request is answered only
 * once its own spans are readable in ClickHouse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { queryRows, startTestCollector, tempDir } from '../helpers/collector.ts';

let collector: RunningCollector;
beforeAll(async () => {
  collector = await startTestCollector(tempDir(), { SESSIONGRAPH_BATCH_LINGER_MS: '20' });
});
afterAll(async () => {
  await collector?.close();
});

function exportRequest(requestNo: number, spans: number): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'group-commit' } }] },
        scopeSpans: [
          {
            spans: Array.from({ length: spans }, (_, i) => ({
              traceId: requestNo.toString(16).padStart(32, '0'),
              spanId: (i + 1).toString(16).padStart(16, '0'),
              name: `r${requestNo}-s${i}`,
              startTimeUnixNano: String(1767225600000000000n + BigInt(requestNo)),
              endTimeUnixNano: String(1767225601000000000n + BigInt(requestNo)),
            })),
          },
        ],
      },
    ],
  });
}

async function storedSpansOf(requestNo: number): Promise<number> {
  const rows = await queryRows<{ n: string }>(
    collector.storage,
    'SELECT count() AS n FROM sessiongraph.otel_traces WHERE TraceId = {t:String}',
    {
      t: requestNo.toString(16).padStart(32, '0'),
    },
  );
  return Number(rows[0]?.n);
}

describe('group commit', () => {
  it('stores 40 concurrent requests in fewer inserts, each answered after its spans are stored', async () => {
    const before = collector.writer.stats.inserts;
    const requests = Array.from({ length: 40 }, (_, i) => i + 1);
    const storedAtAnswer = await Promise.all(
      requests.map(async (n) => {
        const res = await fetch(`${collector.url}/v1/traces`, {
          method: 'POST',
          body: exportRequest(n, 25),
          headers: { 'content-type': 'application/json' },
        });
        expect(res.status).toBe(200);
        return storedSpansOf(n); // read right after the 2xx: must already be there
      }),
    );
    expect(storedAtAnswer).toEqual(requests.map(() => 25));
    const inserts = collector.writer.stats.inserts - before;
    expect(inserts).toBeGreaterThan(0);
    expect(inserts).toBeLessThan(20);
    console.log(`group commit: 40 requests × 25 spans stored in ${inserts} inserts`);
  });
});
