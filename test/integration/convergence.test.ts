/**
 * Exactness under real delivery (SPEC §3 "Convergence"): the same run delivered in order,
 * shuffled, split, duplicated, one span at a time, root last, and through two collector
 * instances sharing one store, always converges to the same rows; before the root arrives the
 * session is `active`. Each delivery uses its own trace id so all live in one store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../collector/app.ts';
import type { RunningCollector } from '../../collector/server.ts';
import { silentLogger } from '../../src/logger.ts';
import { createPricer } from '../../src/pricing/pricer.ts';
import { createGraphWriter } from '../../src/ingest/graph-writer.ts';
import { SpanWriter } from '../../src/ingest/span-writer.ts';
import { agentRunSpans, exportBody, seededRandom, shuffled, type OtlpSpan } from '../helpers/agent-run.ts';
import { startTestCollector, tempDir, testConfig } from '../helpers/collector.ts';
import { sessionIdOf } from '../../src/mapping/ids.ts';

let collector: RunningCollector;
beforeAll(async () => {
  // The run is dated 2026-11-18: a timeout of ten years keeps its rootless phase `active`
  // (abandonment has its own test).
  collector = await startTestCollector(tempDir(), { SESSIONGRAPH_SESSION_TIMEOUT: '3650d' });
});
afterAll(async () => {
  await collector?.close();
});

let traceNo = 0;
const nextTraceId = (): string => `0c0ffee0${(++traceNo).toString(16).padStart(24, '0')}`;

async function post(spans: readonly OtlpSpan[], via: (body: string) => Promise<Response> = viaHttp): Promise<void> {
  const res = await via(exportBody(spans));
  expect(res.status).toBe(200);
}

function viaHttp(body: string): Promise<Response> {
  return fetch(`${collector.url}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
}

type Json = Record<string, unknown>;
interface Rows {
  session: Json;
  agent_definition: Json;
  decisions: Json[];
}

/** The session's rows with what legitimately differs per delivery (ids, trace, write time) removed. */
async function finalRows(traceId: string): Promise<Rows> {
  const res = await fetch(`${collector.url}/api/sessions/${sessionIdOf(traceId)}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { session: Json; agent_definition: Json; decisions: Json[] };
  const { id: _id, trace_id: _trace, updated_at: _updated, ...session } = body.session;
  return {
    session,
    agent_definition: { ...body.agent_definition, last_seen: 'varies with later deliveries' },
    // neither decision gives a UUID decision.id, so their ids derive from the trace id
    decisions: body.decisions.map(({ id: _id, session_id: _s, trace_id: _t, ...d }) => d),
  };
}

/** Splits into chunks of random size 1..max. */
function randomChunks<T>(items: readonly T[], random: () => number, max: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length;) {
    const size = 1 + Math.floor(random() * max);
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}

describe('convergence', () => {
  let reference: Rows;

  it('one ordered request gives the hand-computed session', async () => {
    const traceId = nextTraceId();
    await post(agentRunSpans(traceId));
    reference = await finalRows(traceId);
    expect(reference.session).toMatchObject({
      session_status: 'completed',
      span_count: 10,
      turns: 3, // three chat spans
      // counted: chat#1 5000+300, gpt-4o 4000+200, chat#2 9000+700; the root (99999 summed) and the
      // feature-usage sub-agent (4000) aggregate their children and are skipped
      tokens_used: 19_200,
      input_tokens: 18_000,
      output_tokens: 1_200,
      cache_read_tokens: 7_000,
      cache_write_tokens: 4_000,
      tools_invoked: ['read_metrics', 'read_backlog', 'query_usage'],
      tool_call_count: 4,
      error_count: 1,
      models: ['claude-sonnet-4-5', 'gpt-4o'],
    });
    // sonnet-4-5 (3 / 0.3 / 3.75 / 15 per Mtok): (1000×3 + 4000×3.75 + 300×15) + (5000×3 + 4000×0.3 + 700×15) = 22500 + 26700
    // gpt-4o (2.5 / 1.25 / 10): 1000×2.5 + 3000×1.25 + 200×10 = 8250 → total 57450 / 1e6
    expect(reference.session.cost as number).toBeCloseTo(0.05745, 9);
    expect(reference.decisions).toHaveLength(2);
  });

  it('before the root arrives the session is active, then completes when it does', async () => {
    const traceId = nextTraceId();
    const [root, ...rest] = agentRunSpans(traceId);
    await post(rest);
    const provisional = (await finalRows(traceId)).session;
    expect(provisional).toMatchObject({
      session_status: 'active',
      status: 'active',
      session_end: null,
      duration_ms: null,
      root_span_id: '',
      output_summary: '',
    });
    expect(provisional.session_start).toBe('2026-11-18T11:06:40.100Z'); // earliest start: the first chat, 100 ms after the root's start
    const definition = await fetch(`${collector.url}/api/agents/${String(provisional.agent_definition_id)}`);
    expect(definition.status).toBe(404); // a provisional agent is not written as a definition
    await post([root as OtlpSpan]);
    expect(await finalRows(traceId)).toEqual(reference);
  });

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`shuffled, split and duplicated delivery converges (seed ${seed})`, async () => {
      const random = seededRandom(seed);
      const traceId = nextTraceId();
      const chunks = randomChunks(shuffled(agentRunSpans(traceId), random), random, 4);
      const deliveries = chunks.flatMap((c) => (random() < 0.5 ? [c, c] : [c])); // exporter retries
      for (const chunk of deliveries) await post(chunk);
      await post(chunks[Math.floor(random() * chunks.length)] ?? []); // a late duplicate after completion
      expect(await finalRows(traceId)).toEqual(reference);
    });
  }

  it('one span per request, reversed (root first), converges', async () => {
    const traceId = nextTraceId();
    for (const span of agentRunSpans(traceId).reverse()) await post([span]);
    expect(await finalRows(traceId)).toEqual(reference);
  });

  it('two collector instances over one store, concurrent and interleaved, converge', async () => {
    const storage = collector.storage;
    const config = { ...testConfig(tempDir(), { SESSIONGRAPH_SESSION_TIMEOUT: '3650d' }), batchLingerMs: 2 };
    const graphs = [0, 1].map(() =>
      createGraphWriter(storage, { pricer: createPricer(), sessionTimeoutMs: config.sessionTimeoutMs }),
    );
    const instances = graphs.map((graph) => {
      const writer = new SpanWriter((batch) => graph.storeBatch(batch), config);
      return createApp({ storage, writer, graph, config, logger: silentLogger });
    });
    const random = seededRandom(42);
    const traceIds = [nextTraceId(), nextTraceId(), nextTraceId()];
    const sends = traceIds.flatMap((traceId) =>
      randomChunks(shuffled(agentRunSpans(traceId), random), random, 3).flatMap((c) => [c, c]),
    );
    await Promise.all(
      shuffled(sends, random).map((chunk, i) =>
        post(chunk, async (body) =>
          (instances[i % 2] as ReturnType<typeof createApp>).request('/v1/traces', {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json' },
          }),
        ),
      ),
    );
    // Each instance rolls up behind its acks; the reader below is a third one and cannot wait for them.
    for (const graph of graphs) expect(await graph.settled()).toBe(true);
    for (const traceId of traceIds) expect(await finalRows(traceId)).toEqual(reference);
  });

  it('stored rows are exact: one row per session after FINAL, edges written once', async () => {
    const rows = await collector.storage.select<{ n: number; ids: number }>(
      'SELECT count() AS n, uniqExact(id) AS ids FROM sessiongraph.agent_sessions FINAL',
    );
    expect(rows[0]?.n).toBe(rows[0]?.ids);
    const edges = await collector.storage.select<{ n: number; distinct_edges: number }>(
      `SELECT count() AS n, uniqExact(edge_type, source_id, target_id) AS distinct_edges FROM sessiongraph.graph_edges FINAL`,
    );
    expect(edges[0]?.n).toBe(edges[0]?.distinct_edges);
    // every completed session: one runs edge and two creates edges
    expect(edges[0]?.n).toBe(traceNo * 3);
  });
});
