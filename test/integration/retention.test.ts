/**
 * Retention on the real engine. Runs timestamped 40 days, 10 days and a moment ago are stored
 * with spans kept 60 days and the graph 7 years; then the collector restarts with `--retain-spans 30d --retain-content 7d
 * --retain-graph 7y` (the tables are altered in place), the content sweep runs and the TTL merges
 * are forced (OPTIMIZE FINAL), as time would do. The 40-day run's spans are gone but its session,
 * agent definition and decision stay, the decision's evidence keeping its structure (tools and
 * models, order, timing, status, tokens) with the content marked expired; the 10-day run keeps
 * its spans without their text, and so does a 9-day-old backfill sent afterwards; a recent run's
 * text expires when the sweep passes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { sessionIdOf } from '../../src/mapping/ids.ts';
import { sweepExpiredContent } from '../../src/retention/retention.ts';
import { runCli } from '../helpers/cli.ts';
import { startTestCollector, tempDir } from '../helpers/collector.ts';

const DAY = 86_400_000;
const RETAIN = { SESSIONGRAPH_RETAIN_SPANS: '30d', SESSIONGRAPH_RETAIN_CONTENT: '7d', SESSIONGRAPH_RETAIN_GRAPH: '7y' };
const SECRET_TASK = 'Refund order 8812 for the customer who wrote in';
const ANSWER = 'Refund approved for order 8812.';

const ns = (ms: number): string => `${BigInt(ms) * 1_000_000n}`;
const attr = (key: string, value: string | number): object => ({
  key,
  value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value },
});

/** One run starting at `startMs`: agent root, a model call, a tool call, then a decision. */
function run(traceId: string, startMs: number): string {
  const span = (
    id: string,
    parent: string,
    name: string,
    from: number,
    to: number,
    attributes: object[],
    extra: object = {},
  ): object => ({
    traceId,
    spanId: id,
    parentSpanId: parent,
    name,
    startTimeUnixNano: ns(startMs + from),
    endTimeUnixNano: ns(startMs + to),
    attributes,
    ...extra,
  });
  const ROOT = '00000000000000a1';
  const spans = [
    span(ROOT, '', 'invoke_agent refunds', 0, 10_000, [
      attr('gen_ai.operation.name', 'invoke_agent'),
      attr('gen_ai.agent.name', 'refunds'),
      attr('gen_ai.agent.version', '3.2.0'),
      attr(
        'gen_ai.input.messages',
        JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: SECRET_TASK }] }]),
      ),
      attr(
        'gen_ai.output.messages',
        JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: ANSWER }] }]),
      ),
    ]),
    span('00000000000000b1', ROOT, 'chat gpt-4o', 1000, 3000, [
      attr('gen_ai.operation.name', 'chat'),
      attr('gen_ai.request.model', 'gpt-4o'),
      attr('gen_ai.usage.input_tokens', 900),
      attr('gen_ai.usage.output_tokens', 60),
      attr(
        'gen_ai.output.messages',
        JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'Look up order 8812 first.' }] }]),
      ),
    ]),
    span(
      '00000000000000c1',
      ROOT,
      'execute_tool lookup_order',
      3500,
      4500,
      [
        attr('gen_ai.operation.name', 'execute_tool'),
        attr('gen_ai.tool.name', 'lookup_order'),
        attr('gen_ai.tool.call.arguments', '{"order":"8812"}'),
        attr('gen_ai.tool.call.result', '{"paid":true,"amount":120}'),
      ],
      { status: { code: 2, message: 'slow' } },
    ),
    span('00000000000000d1', ROOT, 'decide refund', 5000, 5001, [
      attr('decision.title', 'Approve refund of order 8812'),
      attr('decision.rationale', 'paid, under the limit'),
    ]),
  ];
  return JSON.stringify({
    resourceSpans: [{ resource: { attributes: [attr('service.name', 'shop')] }, scopeSpans: [{ spans }] }],
  });
}

const NOW = Date.now();
const RUNS = {
  old: { trace: 'a'.repeat(31) + '1', start: NOW - 40 * DAY },
  tenDays: { trace: 'a'.repeat(31) + '2', start: NOW - 10 * DAY },
  recent: { trace: 'a'.repeat(31) + '3', start: NOW - 60_000 },
  backfill: { trace: 'a'.repeat(31) + '4', start: NOW - 9 * DAY },
};

let collector: RunningCollector;
let dataDir: string;
const get = async (path: string): Promise<Record<string, any>> =>
  (await fetch(`${collector.url}${path}`)).json() as Promise<Record<string, any>>;

async function send(trace: string, start: number): Promise<void> {
  const res = await fetch(`${collector.url}/v1/traces`, {
    method: 'POST',
    body: run(trace, start),
    headers: { 'content-type': 'application/json' },
  });
  expect(res.status).toBe(200);
  expect(await collector.graph.settled()).toBe(true);
}

beforeAll(async () => {
  dataDir = tempDir();
  // Spans kept 60 days at first (the 40-day run is stored), the graph 7 years: sessions keep their calls.
  collector = await startTestCollector(dataDir, { SESSIONGRAPH_RETAIN_SPANS: '60d', SESSIONGRAPH_RETAIN_GRAPH: '7y' });
  for (const { trace, start } of [RUNS.old, RUNS.tenDays, RUNS.recent]) await send(trace, start);
  await collector.close();
  collector = await startTestCollector(dataDir, RETAIN);
  // What the collector does every hour (and time does to the TTLs), done now.
  await sweepExpiredContent(collector.storage, 7 * 86_400);
  for (const table of [
    'otel_traces',
    'session_spans',
    'agent_sessions',
    'decisions',
    'graph_edges',
    'agent_definitions',
  ]) {
    await collector.storage.client.command({ query: `OPTIMIZE TABLE sessiongraph.${table} FINAL` });
  }
  // A backfill older than --retain-content: its text expires on the way in.
  await send(RUNS.backfill.trace, RUNS.backfill.start);
}, 60_000);
afterAll(async () => {
  await collector?.close();
});

const count = async (query: string): Promise<number> =>
  Number((await collector.storage.select<{ n: string }>(query))[0]?.n);
const decisionOf = async (trace: string): Promise<string> =>
  (await get(`/api/sessions/${sessionIdOf(trace)}`)).decisions[0].id as string;

describe('retention', () => {
  it('spans older than --retain-spans are dropped, the graph is kept', async () => {
    expect(await count(`SELECT count() AS n FROM sessiongraph.otel_traces WHERE TraceId = '${RUNS.old.trace}'`)).toBe(
      0,
    );
    expect(
      await count(`SELECT count() AS n FROM sessiongraph.session_spans WHERE trace_id = '${RUNS.old.trace}'`),
    ).toBe(0);
    expect(
      await count(`SELECT count() AS n FROM sessiongraph.otel_traces WHERE TraceId = '${RUNS.tenDays.trace}'`),
    ).toBe(4);
    const { session, agent_definition, decisions } = await get(`/api/sessions/${sessionIdOf(RUNS.old.trace)}`);
    expect(session).toMatchObject({
      agent_name: 'refunds',
      tokens_used: 960,
      tool_call_count: 1,
      error_count: 1,
      session_status: 'completed',
    });
    expect(agent_definition).toMatchObject({ title: 'refunds', version: '3.2.0' });
    expect(decisions).toHaveLength(1);
  });

  it('a decision whose spans expired still resolves to its session, definition and the structure of its evidence, content marked expired', async () => {
    const body = await get(`/api/decisions/${await decisionOf(RUNS.old.trace)}`);
    expect(body.decision).toMatchObject({ title: 'Approve refund of order 8812', rationale: 'paid, under the limit' });
    expect(body.session.id).toBe(sessionIdOf(RUNS.old.trace));
    expect(body.agent_definition.agent_key).toBe('shop/refunds');
    expect(body.content_expired).toBe(true);
    expect(
      body.evidence.map((e: Record<string, unknown>) => [
        e.kind,
        e.name,
        e.model ?? e.tool_name,
        e.error,
        e.input_tokens ?? null,
        e.input,
        e.output,
      ]),
    ).toEqual([
      ['llm', 'chat gpt-4o', 'gpt-4o', false, 900, '[expired]', '[expired]'],
      ['tool', 'execute_tool lookup_order', 'lookup_order', true, null, '[expired]', '[expired]'],
    ]);
    expect(body.evidence[0]).toMatchObject({
      start: new Date(RUNS.old.start + 1000).toISOString(),
      end: new Date(RUNS.old.start + 3000).toISOString(),
      output_tokens: 60,
    });
  });

  it('spans older than --retain-content keep names, timing and tokens but no text, in raw rows, facts and the session', async () => {
    for (const { trace } of [RUNS.tenDays, RUNS.backfill]) {
      const [root] = await collector.storage.select<{ a: Record<string, string> }>(
        `SELECT SpanAttributes AS a FROM sessiongraph.otel_traces WHERE TraceId = '${trace}' AND ParentSpanId = ''`,
      );
      expect(root?.a, trace).toMatchObject({
        'gen_ai.input.messages': '[expired]',
        'gen_ai.output.messages': '[expired]',
        'gen_ai.agent.name': 'refunds',
      });
      expect(
        await count(
          `SELECT count() AS n FROM sessiongraph.session_spans WHERE trace_id = '${trace}' AND (position(input_text, '8812') > 0 OR position(output_text, '8812') > 0)`,
        ),
      ).toBe(0);
    }
    const [root] = await collector.storage.select<{ a: Record<string, string> }>(
      `SELECT SpanAttributes AS a FROM sessiongraph.otel_traces WHERE TraceId = '${RUNS.tenDays.trace}' AND ParentSpanId = ''`,
    );
    expect(root?.a).toMatchObject({
      'gen_ai.input.messages': '[expired]',
      'gen_ai.output.messages': '[expired]',
      'gen_ai.agent.name': 'refunds',
    });
    expect(
      await count(
        `SELECT count() AS n FROM sessiongraph.session_spans WHERE trace_id = '${RUNS.tenDays.trace}' AND (position(input_text, '8812') > 0 OR position(output_text, '8812') > 0)`,
      ),
    ).toBe(0);
    const { session } = await get(`/api/sessions/${sessionIdOf(RUNS.tenDays.trace)}`);
    expect(session).toMatchObject({ tokens_used: 960, models: ['gpt-4o'], tools_invoked: ['lookup_order'] });
    expect(session.description).not.toContain('8812');
    expect(session.output_summary).not.toContain('8812');
    const decision = await get(`/api/decisions/${await decisionOf(RUNS.tenDays.trace)}`);
    expect(decision.content_expired).toBe(true);
    expect(decision.evidence.map((e: Record<string, unknown>) => [e.name, e.input, e.output])).toEqual([
      ['chat gpt-4o', '[expired]', '[expired]'],
      ['execute_tool lookup_order', '[expired]', '[expired]'],
    ]);
    // The recent run is whole.
    const recent = await get(`/api/decisions/${await decisionOf(RUNS.recent.trace)}`);
    expect(recent.content_expired).toBeUndefined();
    expect(recent.evidence[1].input).toBe('{"order":"8812"}');
  });

  it('the sweep expires the content of spans that crossed the limit since the last one', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    await sweepExpiredContent(collector.storage, 1); // as a 1-second --retain-content would, an hour on
    const rows = await collector.storage.select<{ a: Record<string, string>; ev: Array<Record<string, string>> }>(
      `SELECT SpanAttributes AS a, Events.Attributes AS ev FROM sessiongraph.otel_traces WHERE TraceId = '${RUNS.recent.trace}' ORDER BY SpanId`,
    );
    expect(
      rows.map(
        (r) =>
          r.a['gen_ai.input.messages'] ?? r.a['gen_ai.tool.call.arguments'] ?? r.a['gen_ai.output.messages'] ?? null,
      ),
    ).toEqual(['[expired]', '[expired]', '[expired]', null]);
    expect(
      rows.map(
        (r) =>
          r.a['gen_ai.usage.input_tokens'] ??
          r.a['gen_ai.tool.name'] ??
          r.a['gen_ai.agent.name'] ??
          r.a['decision.title'],
      ),
    ).toEqual(['refunds', '900', 'lookup_order', 'Approve refund of order 8812']);
  });

  it('sessiongraph retention shows the settings and the TTL in force on each table', async () => {
    const res = await runCli(['retention', '--url', collector.url]);
    expect(res.code).toBe(0);
    expect(res.output).toMatch(/spans .*30d/);
    expect(res.output).toMatch(/content .*7d/);
    expect(res.output).toMatch(/graph .*7y/);
    const report = await get('/api/retention');
    const ttl = (table: string): string | null =>
      report.tables.find((t: { table: string }) => t.table === table)?.ttl ?? null;
    expect(ttl('otel_traces')).toBe('toDateTime(Timestamp) + toIntervalSecond(2592000)');
    expect(ttl('agent_sessions')).toBe('toDateTime(session_start) + toIntervalSecond(220752000)');
    expect(report.tables.find((t: { table: string }) => t.table === 'session_spans').column_ttls).toEqual({
      input_text: 'toDateTime(start_time) + toIntervalSecond(604800)',
      output_text: 'toDateTime(start_time) + toIntervalSecond(604800)',
    });
  });

  it('a changed setting alters the tables in place at the next start; off removes the TTL', async () => {
    await collector.close();
    collector = await startTestCollector(dataDir, {
      SESSIONGRAPH_RETAIN_SPANS: '60d',
      SESSIONGRAPH_RETAIN_GRAPH: 'off',
    });
    const report = await get('/api/retention');
    const table = (name: string) => report.tables.find((t: { table: string }) => t.table === name);
    expect(table('otel_traces').ttl).toBe('toDateTime(Timestamp) + toIntervalSecond(5184000)');
    expect(table('agent_sessions').ttl).toBeNull();
    expect(table('session_spans').column_ttls).toEqual({});
    expect(report).toMatchObject({ spans: '60d', content: 'forever', graph: 'forever' });
    // Nothing that was kept is lost by the change.
    expect(
      await count(`SELECT count() AS n FROM sessiongraph.otel_traces WHERE TraceId = '${RUNS.tenDays.trace}'`),
    ).toBe(4);
  });
});
