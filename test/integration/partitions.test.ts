/**
 * Backfills (issue: "a valid request with spans on more than 100 days is a poison message"):
 * `otel_traces` is partitioned by day and ClickHouse refuses an insert block touching more than
 * 100 partitions (code 252). A request with spans on 101 or 1,000 days must be stored whole
 * and answered 200, sessions rolled up, without ever making the collector refuse others (503).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { BadDataError, UnavailableError } from '../../src/errors.ts';
import { decodeTraceRequestJson } from '../../src/otlp/decode-json.ts';
import { nsToInsertTime } from '../../src/ingest/insert-rows.ts';
import { SpanWriter } from '../../src/ingest/span-writer.ts';
import { agentRunSpans, exportBody, type OtlpSpan } from '../helpers/agent-run.ts';
import { startTestCollector, tempDir } from '../helpers/collector.ts';

const DAY_NS = 86_400_000_000_000n;
const FIRST_DAY_NS = 1_704_067_200_000_000_000n; // 2024-01-01T00:00:00Z

let collector: RunningCollector;
beforeAll(async () => {
  collector = await startTestCollector(tempDir(), { SESSIONGRAPH_SESSION_TIMEOUT: '3650d' });
});
afterAll(async () => {
  await collector?.close();
});

/** A backfill request: one two-span agent run per day, plus one long run with a tool call every tenth day. */
interface Backfill {
  body: string;
  service: string;
  /** Span count per trace, as its session must show it. */
  spansByTrace: Map<string, number>;
  /** Span count per UTC day (`YYYY-MM-DD`), as otel_traces must hold it. */
  spansByDay: Map<string, number>;
}

function backfill(days: number): Backfill {
  const service = `backfill-${days}`;
  const traceId = (n: number): string => `bf${days.toString(16).padStart(6, '0')}${n.toString(16).padStart(24, '0')}`;
  const noonOf = (day: number): bigint => FIRST_DAY_NS + BigInt(day) * DAY_NS + DAY_NS / 2n;
  const span = (
    trace: string,
    spanId: string,
    parent: string,
    name: string,
    start: bigint,
    end: bigint,
    attributes: OtlpSpan['attributes'],
  ): OtlpSpan => ({
    traceId: trace,
    spanId,
    ...(parent ? { parentSpanId: parent } : {}),
    name,
    kind: 1,
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(end),
    attributes,
  });
  const agent = [
    { key: 'gen_ai.operation.name', value: { stringValue: 'invoke_agent' } },
    { key: 'gen_ai.agent.name', value: { stringValue: 'nightly-backfill' } },
  ];
  const chat = [
    { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
    { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
    { key: 'gen_ai.usage.input_tokens', value: { intValue: '100' } },
  ];
  const tool = [
    { key: 'gen_ai.operation.name', value: { stringValue: 'execute_tool' } },
    { key: 'gen_ai.tool.name', value: { stringValue: 'replay' } },
  ];
  const spans: OtlpSpan[] = [];
  for (let day = 0; day < days; day++) {
    const t = traceId(day + 1);
    spans.push(
      span(
        t,
        'a000000000000001',
        '',
        'invoke_agent nightly-backfill',
        noonOf(day),
        noonOf(day) + 10_000_000_000n,
        agent,
      ),
    );
    spans.push(
      span(
        t,
        'b000000000000001',
        'a000000000000001',
        'chat gpt-4o',
        noonOf(day) + 1_000_000_000n,
        noonOf(day) + 2_000_000_000n,
        chat,
      ),
    );
  }
  const long = traceId(0);
  spans.push(
    span(long, 'c000000000000000', '', 'invoke_agent nightly-backfill', noonOf(0), noonOf(days - 1) + 1n, agent),
  );
  for (let day = 0; day < days; day += 10) {
    spans.push(
      span(
        long,
        `d${day.toString(16).padStart(15, '0')}`,
        'c000000000000000',
        'execute_tool replay',
        noonOf(day) + 3n,
        noonOf(day) + 4n,
        tool,
      ),
    );
  }
  const spansByTrace = new Map<string, number>();
  const spansByDay = new Map<string, number>();
  for (const s of spans) {
    spansByTrace.set(s.traceId as string, (spansByTrace.get(s.traceId as string) ?? 0) + 1);
    const day = nsToInsertTime(String(s.startTimeUnixNano)).slice(0, 10);
    spansByDay.set(day, (spansByDay.get(day) ?? 0) + 1);
  }
  return { body: exportBody(spans, service), service, spansByTrace, spansByDay };
}

const post = (body: string): Promise<Response> =>
  fetch(`${collector.url}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
const normalTraceId = (n: number): string => `0a0a${n.toString(16).padStart(28, '0')}`;

async function storedSpansByDay(service: string): Promise<Map<string, number>> {
  const rows = await collector.storage.select<{ day: string; n: number }>(
    `SELECT toString(toDate(Timestamp, 'UTC')) AS day, count() AS n FROM sessiongraph.otel_traces WHERE ServiceName = {s:String} GROUP BY day ORDER BY day`,
    { s: service },
  );
  return new Map(rows.map((r) => [r.day, Number(r.n)]));
}

async function sessionsOf(
  traceIds: readonly string[],
): Promise<Map<string, { span_count: number; session_status: string }>> {
  // Sessions are rolled up behind the ack.
  expect(await collector.graph.settled()).toBe(true);
  const rows = await collector.storage.select<{ trace_id: string; span_count: number; session_status: string }>(
    'SELECT trace_id, span_count, session_status FROM sessiongraph.agent_sessions FINAL WHERE trace_id IN {ids:Array(String)}',
    { ids: [...traceIds] },
  );
  return new Map(rows.map((r) => [r.trace_id, { span_count: Number(r.span_count), session_status: r.session_status }]));
}

/** Sends the backfill with a normal request alongside and another right after; checks everything is stored and the collector stays ready. */
async function sendBackfill(days: number, normalNo: number): Promise<number> {
  const request = backfill(days);
  const started = performance.now();
  const [big, alongside] = await Promise.all([
    post(request.body).then(async (res) => ({
      status: res.status,
      text: await res.text(),
      ms: performance.now() - started,
    })),
    post(exportBody(agentRunSpans(normalTraceId(normalNo)))).then(async (res) => ({
      status: res.status,
      text: await res.text(),
    })),
  ]);
  expect(big.status, big.text).toBe(200);
  expect(alongside.status, alongside.text).toBe(200);
  const after = await post(exportBody(agentRunSpans(normalTraceId(normalNo + 1))));
  expect(after.status, await after.text()).toBe(200);
  expect(collector.writer.unavailableReason).toBeUndefined();
  expect((await fetch(`${collector.url}/readyz`)).status).toBe(200);

  expect(request.spansByDay.size).toBe(days);
  expect(await storedSpansByDay(request.service)).toEqual(request.spansByDay);
  const sessions = await sessionsOf([...request.spansByTrace.keys()]);
  for (const [trace, spans] of request.spansByTrace)
    expect(sessions.get(trace), trace).toEqual({ span_count: spans, session_status: 'completed' });
  const normal = await sessionsOf([normalTraceId(normalNo), normalTraceId(normalNo + 1)]);
  expect([...normal.values()].map((s) => s.span_count)).toEqual([10, 10]);
  return big.ms;
}

describe('backfill across many days', () => {
  it('stores a request with spans on 101 days (200), a normal request alongside and after it too', async () => {
    const ms = await sendBackfill(101, 1);
    console.log(`partitions: 101-day request (${2 * 101 + 12} spans) acknowledged in ${Math.round(ms)} ms`);
  });

  it('stores a request with spans on 1,000 days (200), a normal request alongside and after it too', async () => {
    const ms = await sendBackfill(1000, 3);
    console.log(`partitions: 1,000-day request (${2 * 1000 + 101} spans) acknowledged in ${Math.round(ms)} ms`);
  });

  it('still stores a normal one-day batch with one insert into otel_traces', async () => {
    const storage = collector.storage;
    const insert = storage.insertJsonLines.bind(storage);
    let spanInserts = 0;
    const batchesBefore = collector.writer.stats.inserts;
    storage.insertJsonLines = (table, lines) => {
      if (table === 'otel_traces') spanInserts++;
      return insert(table, lines);
    };
    try {
      const statuses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          post(exportBody(agentRunSpans(normalTraceId(100 + i)))).then((r) => r.status),
        ),
      );
      expect(statuses.every((s) => s === 200)).toBe(true);
    } finally {
      storage.insertJsonLines = insert;
    }
    const batches = collector.writer.stats.inserts - batchesBefore;
    expect(batches).toBeGreaterThan(0);
    expect(spanInserts).toBe(batches); // one statement per group-committed batch, as before the split
    console.log(
      `partitions: 20 concurrent one-day requests stored in ${batches} batch(es), ${spanInserts} otel_traces insert(s)`,
    );
  });

  it("classifies the engine's 'too many partitions' as the request's 400 (storage stays available), 'too many parts' as unavailable", async () => {
    const storage = collector.storage;
    const limits = { batchMaxSpans: 5000, batchLingerMs: 0, queueMaxSpans: 100_000, queueMaxBytes: 2 ** 28 };
    const rows = decodeTraceRequestJson(Buffer.from(exportBody(agentRunSpans(normalTraceId(999))))).spans;

    // An insert function that ignores the split and sends 101 days in one statement: what the
    // engine answers to it must be the request's fault, not an outage.
    const poison = Array.from({ length: 101 }, (_, i) =>
      JSON.stringify({ Timestamp: nsToInsertTime(String(FIRST_DAY_NS + BigInt(i) * DAY_NS)) }),
    ).join('\n');
    const partitions = new SpanWriter(
      () => storage.insertJsonLines('otel_traces', poison),
      limits,
      () => storage.ping(),
    );
    const refused = await partitions.write(rows).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(BadDataError);
    expect((refused as Error).message).toMatch(/Too many partitions/);
    expect(partitions.unavailableReason).toBeUndefined();
    partitions.stop();

    // The same code 252 from a table with too many parts is the server's trouble: retried (503).
    await storage.client.command({
      query:
        'CREATE TABLE IF NOT EXISTS sessiongraph.parts_trap (x UInt8) ENGINE = MergeTree ORDER BY x SETTINGS parts_to_throw_insert = 1',
    });
    await storage.insertJsonLines('parts_trap', '{"x":1}');
    const parts = new SpanWriter(() => storage.insertJsonLines('parts_trap', '{"x":1}'), limits);
    const unavailable = await parts.write(rows).catch((err: unknown) => err);
    expect(unavailable).toBeInstanceOf(UnavailableError);
    expect((unavailable as Error).message).toMatch(/Too many parts/);
    expect(parts.unavailableReason).toMatch(/Too many parts/);
    parts.stop();
  });
});
