/**
 * Storage outage (SPEC §7, issue: "Storage outage"): while storage fails, requests get 503 +
 * Retry-After at once, memory stays bounded, /healthz stays alive and /readyz says not ready;
 * when storage returns the collector recovers by itself and what exporters re-send is stored.
 * Also: a batch cut short by a crash (spans and facts written and acknowledged, roll-up not yet)
 * is rolled up by the next start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../collector/app.ts';
import { silentLogger } from '../../src/logger.ts';
import { decodeTraceRequestJson } from '../../src/otlp/decode-json.ts';
import { createPricer } from '../../src/pricing/pricer.ts';
import { spanInsertLine } from '../../src/ingest/insert-rows.ts';
import { factLinesOf } from '../../src/ingest/span-writer.ts';
import { createGraphWriter } from '../../src/ingest/graph-writer.ts';
import { migrateStorage, createStorage, type Storage } from '../../src/storage/storage.ts';
import { SpanWriter } from '../../src/ingest/span-writer.ts';
import { agentRunSpans, exportBody } from '../helpers/agent-run.ts';
import { tempDir, testConfig } from '../helpers/collector.ts';
import { createFlakyClient, type Outage } from '../helpers/flaky-connection.ts';
import { sessionIdOf } from '../../src/mapping/ids.ts';

const outage: Outage = { down: false };
const dir = tempDir();
const config = testConfig(dir, { SESSIONGRAPH_SESSION_TIMEOUT: '3650d' });
let storage: Storage;
let writer: SpanWriter;
let app: ReturnType<typeof createApp>;
let graph: ReturnType<typeof createGraphWriter>;

beforeAll(async () => {
  const client = createFlakyClient(dir, outage);
  // Reads and roll-ups share the flaky client: an outage takes them down as well.
  storage = createStorage(
    {
      client,
      engine: 'embedded',
      location: dir,
      openReader: async () => ({ client, release: async () => {} }),
      openBackground: () => client,
    },
    'sessiongraph',
  );
  await migrateStorage(storage);
  graph = createGraphWriter(storage, { pricer: createPricer(), sessionTimeoutMs: config.sessionTimeoutMs });
  writer = new SpanWriter(
    (batch) => graph.storeBatch(batch),
    config,
    () => storage.ping(),
  );
  app = createApp({ storage, writer, graph, config, logger: silentLogger });
});
afterAll(async () => {
  writer?.stop();
  await storage?.close();
});

const traceId = (n: number): string => `0a7a9e00${n.toString(16).padStart(24, '0')}`;
const post = async (body: string) =>
  app.request('/v1/traces', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
async function storedSpans(): Promise<number> {
  outage.down = false;
  return Number(
    (
      await storage.select<{ n: number }>(
        'SELECT count() AS n FROM (SELECT DISTINCT TraceId, SpanId FROM sessiongraph.otel_traces)',
      )
    )[0]?.n,
  );
}

describe('storage outage', () => {
  it('answers 503 + Retry-After during the outage, stays alive, recovers alone, loses nothing re-sent', async () => {
    expect((await post(exportBody(agentRunSpans(traceId(1))))).status).toBe(200);

    outage.down = true;
    const failed: string[] = [];
    const first = await post(exportBody(agentRunSpans(traceId(2))));
    expect(first.status).toBe(503);
    failed.push(exportBody(agentRunSpans(traceId(2))));
    expect(Number(first.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await first.json()) as { message: string }).message).toMatch(/storage is unavailable.*ECONNREFUSED/);

    // A burst during the outage: refused at once, nothing queued, memory flat.
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();
    const burst = await Promise.all(
      Array.from({ length: 300 }, (_, i) => post(exportBody(agentRunSpans(traceId(100 + i))))),
    );
    const burstMs = Date.now() - started;
    expect(new Set(burst.map((r) => r.status))).toEqual(new Set([503]));
    expect(writer.backlogSpans).toBe(0);
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    expect(rssGrowth).toBeLessThan(64 * 1024 * 1024);
    burst.forEach((_, i) => failed.push(exportBody(agentRunSpans(traceId(100 + i)))));

    expect((await app.request('/healthz')).status).toBe(200);
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toMatch(/ECONNREFUSED/);

    outage.down = false;
    await expect.poll(async () => (await app.request('/readyz')).status, { timeout: 5000, interval: 100 }).toBe(200);
    // The exporters' retries, 25 at a time (group commit stores them together).
    for (let i = 0; i < failed.length; i += 25) {
      const statuses = await Promise.all(failed.slice(i, i + 25).map(async (body) => (await post(body)).status));
      expect(statuses.every((s) => s === 200)).toBe(true);
    }
    expect(await storedSpans()).toBe(10 * (2 + 300));
    console.log(
      `outage: 301 requests refused with 503 (300 concurrent in ${burstMs} ms, RSS +${Math.round(rssGrowth / 2 ** 20)} MiB), all stored after recovery`,
    );
  });

  it('a batch cut short by a crash is completed by the next start', async () => {
    const id = traceId(9999);
    const rows = decodeTraceRequestJson(Buffer.from(exportBody(agentRunSpans(id)))).spans;
    // What storeBatch had done when the process died: the raw spans and their facts (the batch
    // was acknowledged), but not the roll-up behind the ack.
    await storage.insertJsonLines('otel_traces', rows.map(spanInsertLine).join('\n'));
    await storage.insertJsonLines('session_spans', factLinesOf(rows));
    const uuid = sessionIdOf(id);
    expect((await app.request(`/api/sessions/${uuid}`)).status).toBe(404);

    expect(await graph.recoverInFlight()).toBeGreaterThanOrEqual(1);
    const { session } = (await (await app.request(`/api/sessions/${uuid}`)).json()) as {
      session: Record<string, unknown>;
    };
    expect(session).toMatchObject({ session_status: 'completed', span_count: 10, tokens_used: 19_200 });
  });
});
