/**
 * Durability (SPEC §7): under steady load from several exporters, the collector is killed with
 * SIGKILL at random moments and restarted; exporters retry until they get a 2xx. Afterwards
 * every span of every acknowledged request is in otel_traces, and every session row equals the
 * roll-up of the spans stored for its trace. DURABILITY_KILLS raises the number of kill points.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { rollUpTrace } from '../../src/mapping/roll-up.ts';
import { toSpanFacts } from '../../src/mapping/span-facts.ts';
import type { SpanRow } from '../../src/otlp/span-row.ts';
import { createPricer } from '../../src/pricing/pricer.ts';
import { RAW_SPAN_COLUMNS } from '../../src/storage/raw-span-columns.ts';
import { agentRunSpans, exportBody, seededRandom } from '../helpers/agent-run.ts';
import { spawnCollector, type CollectorProcess } from '../helpers/cli.ts';
import { openStoppedDataDir, tempDir } from '../helpers/collector.ts';

const KILLS = Number(process.env.DURABILITY_KILLS ?? 3);
const SENDERS = 4;
const dataDir = tempDir('sessiongraph-durability-');
let current: CollectorProcess | undefined;

afterAll(async () => {
  current?.child.kill('SIGKILL');
});

async function start(): Promise<CollectorProcess> {
  return spawnCollector([
    'serve',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--batch-linger-ms',
    '2',
    '--session-timeout',
    '3650d',
  ]);
}

interface Sent {
  traceId: string;
  spanIds: string[];
  acknowledged: boolean;
}

describe('kill -9 under load', () => {
  it(`loses nothing acknowledged over ${KILLS} kill points, and sessions equal the roll-up of what is stored`, async () => {
    const random = seededRandom(2026);
    current = await start();
    const sent: Sent[] = [];
    let stopping = false;
    let requests = 0;
    let retries = 0;

    // Each sender sends whole agent runs split in two requests (root last), retrying every
    // failure (connection refused while down, 5xx, 429) until it is acknowledged.
    const sender = async (id: number): Promise<void> => {
      for (let n = 0; !stopping; n++) {
        const traceId = `d0${id.toString(16)}${n.toString(16).padStart(29, '0')}`;
        const spans = agentRunSpans(traceId);
        for (const part of [spans.slice(1), spans.slice(0, 1)]) {
          const record: Sent = { traceId, spanIds: part.map((s) => s.spanId), acknowledged: false };
          sent.push(record);
          for (let attempt = 0; !record.acknowledged; attempt++) {
            requests++;
            try {
              const res = await fetch(`${current?.url}/v1/traces`, {
                method: 'POST',
                body: exportBody(part),
                headers: { 'content-type': 'application/json' },
                signal: AbortSignal.timeout(10_000),
              });
              await res.arrayBuffer();
              record.acknowledged = res.status === 200;
              if (!record.acknowledged && res.status < 429) throw new Error(`unexpected status ${res.status}`);
            } catch (err) {
              if ((err as Error).message.startsWith('unexpected status')) throw err;
            }
            if (!record.acknowledged) {
              retries++;
              await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
            }
          }
        }
      }
    };
    const senders = Array.from({ length: SENDERS }, (_, i) => sender(i));

    for (let k = 0; k < KILLS; k++) {
      await new Promise((r) => setTimeout(r, 400 + random() * 1200));
      current.child.kill('SIGKILL');
      await current.exited;
      current = await start();
    }
    await new Promise((r) => setTimeout(r, 500));
    stopping = true;
    await Promise.all(senders);
    current.child.kill('SIGTERM');
    expect(await current.exited).toBe(0);
    current = undefined;

    // The collector is stopped: this process may open its data directory.
    const storage = openStoppedDataDir(dataDir);
    try {
      const stored = await storage.select<SpanRow>(
        `SELECT ${RAW_SPAN_COLUMNS} FROM sessiongraph.otel_traces ORDER BY TraceId, SpanId LIMIT 1 BY TraceId, SpanId`,
      );
      const storedIds = new Set(stored.map((r) => `${r.TraceId}/${r.SpanId}`));
      const acknowledged = sent.filter((s) => s.acknowledged);
      const missing = acknowledged
        .flatMap((s) => s.spanIds.map((id) => `${s.traceId}/${id}`))
        .filter((key) => !storedIds.has(key));
      expect(missing).toEqual([]);

      const byTrace = new Map<string, SpanRow[]>();
      for (const row of stored) byTrace.set(row.TraceId, [...(byTrace.get(row.TraceId) ?? []), row]);
      const sessions = await storage.select<Record<string, unknown>>(
        `SELECT trace_id, span_count, tokens_used, toString(cost) AS cost, session_status, tools_invoked, error_count, turns FROM sessiongraph.agent_sessions FINAL`,
      );
      expect(sessions).toHaveLength(byTrace.size);
      const ctx = {
        nowNs: BigInt(Date.now()) * 1_000_000n,
        abandonAfterNs: 3650n * 86_400_000_000_000n,
        pricer: createPricer(),
      };
      for (const session of sessions) {
        const expected = rollUpTrace((byTrace.get(String(session.trace_id)) ?? []).map(toSpanFacts), ctx).session;
        expect(session).toEqual({
          trace_id: expected.trace_id,
          span_count: expected.span_count,
          tokens_used: expected.tokens_used,
          cost: expected.cost.replace(/0+$/, '').replace(/\.$/, ''),
          session_status: expected.session_status,
          tools_invoked: expected.tools_invoked,
          error_count: expected.error_count,
          turns: expected.turns,
        });
      }
      console.log(
        `durability: ${KILLS} kills, ${requests} requests (${retries} retries), ${acknowledged.length} acknowledged, ` +
          `${stored.length} spans checked, ${sessions.length} sessions equal to their roll-up`,
      );
    } finally {
      await storage.close();
    }
  }, 180_000);
});
