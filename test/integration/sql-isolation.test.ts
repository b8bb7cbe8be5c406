/**
 * One reader never harms another client (SPEC §7): a failing statement cannot change another
 * statement's result, long read queries cannot hold ingest acks back, and `/api/sql` bounds its
 * answers' bytes, its request bodies and the queries running at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { sessionIdOf } from '../../src/mapping/ids.ts';
import { agentRunSpans, exportBody } from '../helpers/agent-run.ts';
import { queryRows, startTestCollector, tempDir } from '../helpers/collector.ts';

const SQL_TIMEOUT_SECONDS = 5;
let collector: RunningCollector;

beforeAll(async () => {
  collector = await startTestCollector(tempDir(), {
    SESSIONGRAPH_SESSION_TIMEOUT: '3650d',
    SESSIONGRAPH_SQL_TIMEOUT: `${SQL_TIMEOUT_SECONDS}s`,
  });
});
afterAll(async () => {
  await collector?.close();
});

async function sql(
  query: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${collector.url}/api/sql`, {
    method: 'POST',
    body: query,
    headers: { 'content-type': 'text/plain' },
    ...init,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

async function ingest(traceId: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${collector.url}/v1/traces`, {
    method: 'POST',
    body: exportBody(agentRunSpans(traceId)),
    headers: { 'content-type': 'application/json' },
  });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - started };
}

const traceId = (prefix: string, n: number): string => `${prefix}${n.toString(16).padStart(32 - prefix.length, '0')}`;
/** Fails after its first block has been written out: the partial output chDB used to leave behind. */
const FAILS_MID_RESULT = 'SELECT throwIf(number = 70000) AS x FROM numbers(100000)';
/** Fails while its answer (the JSON header at least) is being written, within /api/sql's row limit. */
const FAILS_WHILE_ANSWERING = 'SELECT throwIf(number = 5000) AS x FROM numbers(10000)';
/** Runs until the time limit. */
const RUNS_LONG = 'SELECT count() FROM numbers(1000000000000) WHERE NOT ignore(sipHash64(number))';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

describe('failing statements beside ingest and other readers', () => {
  it('40 failing and 40 good queries from 4 readers interleaved with 40 exports: every answer is its own', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => traceId('fa11', i));
    const reader = async (r: number): Promise<Array<{ kind: string; ok: boolean; detail: unknown }>> => {
      const out = [];
      for (let i = r; i < 40; i += 4) {
        const failing = await sql(FAILS_WHILE_ANSWERING);
        out.push({ kind: 'failing', ok: failing.status === 400, detail: JSON.stringify(failing.body).slice(0, 120) });
        const good = await sql(`SELECT ${i} AS i, count() AS n FROM numbers(${1000 + i})`);
        const ok =
          good.status === 200 && JSON.stringify(good.body.rows) === JSON.stringify([{ i, n: String(1000 + i) }]);
        out.push({ kind: 'good', ok, detail: JSON.stringify(good.body).slice(0, 120) });
      }
      return out;
    };
    const results = (
      await Promise.all([
        ...ids.map((id) => ingest(id).then((r) => [{ kind: 'ingest', ok: r.status === 200, detail: r.status }])),
        ...[0, 1, 2, 3].map(reader),
      ])
    ).flat();
    expect(results).toHaveLength(120);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(await collector.graph.settled()).toBe(true);
    const sessions = await queryRows<{ id: string }>(
      collector.storage,
      'SELECT DISTINCT toString(id) AS id FROM sessiongraph.agent_sessions WHERE trace_id IN {ids:Array(String)}',
      { ids },
    );
    expect(sessions.map((s) => s.id).sort()).toEqual(ids.map(sessionIdOf).sort());
    expect(collector.writer.stats.insertFailures).toBe(0);
    expect((await fetch(`${collector.url}/readyz`)).status).toBe(200);
  });

  it('on the ingest connection, a statement failing mid-result cannot leak into the next one queued behind it', async () => {
    // The abandoned-session sweep, a health check and the writer share this connection.
    const client = collector.storage.client;
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => [
        client.query({ query: FAILS_MID_RESULT, format: 'JSON' }).then(
          async (r) => `unexpected success ${(await r.text()).length}`,
          () => 'failed',
        ),
        collector.storage
          .select<{ i: number }>(`SELECT ${i} AS i`)
          .then((rows) => (rows[0]?.i === i ? 'ok' : `wrong ${JSON.stringify(rows)}`)),
        collector.graph.sweepAbandoned().then(() => 'swept'),
      ]).flat(),
    );
    expect(outcomes.filter((o) => !['failed', 'ok', 'swept'].includes(o))).toEqual([]);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(20);
  });

  it('a setting a reader leaves on its session does not reach the next reader', async () => {
    // No SET passes the check; the engine session itself is per read, whatever a query does.
    const a = await collector.storage.withReader('sql', async (reader) => {
      await reader.command({ query: 'SET max_threads = 1' });
      return (
        await (
          await reader.query({ query: "SELECT getSetting('max_threads') AS t", format: 'JSONEachRow' })
        ).json<{ t: number }>()
      )[0]?.t;
    });
    const b = await collector.storage.withReader(
      'sql',
      async (reader) =>
        (
          await (
            await reader.query({ query: "SELECT getSetting('max_threads') AS t", format: 'JSONEachRow' })
          ).json<{ t: number }>()
        )[0]?.t,
    );
    expect(a).toBe(1);
    expect(b).not.toBe(1);
  });
});

describe('ingest has priority over readers', () => {
  it('three queries running to the time limit hold no ingest ack back', async () => {
    const long = Array.from({ length: 3 }, () => sql(RUNS_LONG));
    await new Promise((r) => setTimeout(r, 300)); // the three are running
    const acks: number[] = [];
    const until = Date.now() + (SQL_TIMEOUT_SECONDS - 1.5) * 1000;
    for (let i = 0; Date.now() < until; i++) {
      const { status, ms } = await ingest(traceId('10e9', i));
      expect(status).toBe(200);
      acks.push(ms);
    }
    const answers = await Promise.all(long);
    for (const a of answers) {
      expect(a.status, JSON.stringify(a.body)).toBe(400);
      expect(String((a.body.error as { message: string }).message)).toMatch(/timeout exceeded/i);
    }
    const p50 = percentile(acks, 50);
    const p99 = percentile(acks, 99);
    console.log(
      `ingest beside 3 long queries: ${acks.length} acks, p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, max ${Math.max(...acks).toFixed(0)} ms`,
    );
    expect(acks.length).toBeGreaterThan(5);
    // Before readers had their own engine session, one ack waited for all three (≈ 3 × 10 s).
    expect(p99).toBeLessThan(1500);
  }, 60_000);
});

describe('/api/sql bounds', () => {
  it('refuses an answer larger than the limit before parsing it, and the event loop stays free meanwhile', async () => {
    let healthiest = Infinity;
    let slowest = 0;
    const probe = (async () => {
      for (let i = 0; i < 10; i++) {
        const t = performance.now();
        await (await fetch(`${collector.url}/healthz`)).text();
        const ms = performance.now() - t;
        slowest = Math.max(slowest, ms);
        healthiest = Math.min(healthiest, ms);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    for (const query of [
      "SELECT repeat('x', 10000) AS s FROM numbers(2000)",
      'SELECT repeat(toString(number), 400) AS s FROM numbers(10000)',
      "SELECT 'x' AS a, repeat('y', 1000000) AS s FROM numbers(20)",
    ]) {
      const { status, body } = await sql(query);
      expect(status, query).toBe(400);
      expect(String((body.error as { message: string }).message)).toMatch(/larger than 8388608 bytes/);
    }
    await probe;
    console.log(
      `/healthz beside 20 MB answers being refused: fastest ${healthiest.toFixed(0)} ms, slowest ${slowest.toFixed(0)} ms`,
    );
    expect(slowest).toBeLessThan(1000);
    const small = await sql("SELECT repeat('x', 1000) AS s FROM numbers(100)");
    expect(small.status).toBe(200);
  });

  it('refuses a query text over the body limit with 413', async () => {
    const { status, body } = await sql(`SELECT '${'x'.repeat(1024 * 1024)}'`);
    expect(status).toBe(413);
    expect(String((body.error as { message: string }).message)).toMatch(/--sql-max-body-size/);
  });

  it('answers 429 with Retry-After beyond the queries allowed at once, and serves again after', async () => {
    const running = Array.from({ length: 4 }, () => sql(RUNS_LONG));
    await new Promise((r) => setTimeout(r, 300));
    const extra = await sql('SELECT 1 AS one');
    expect(extra.status).toBe(429);
    expect(extra.headers.get('retry-after')).toBeTruthy();
    await Promise.all(running);
    const after = await sql('SELECT 1 AS one');
    expect(after.status).toBe(200);
    expect(after.body.rows).toEqual([{ one: 1 }]);
  }, 60_000);
});
