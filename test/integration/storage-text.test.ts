/**
 * The graph pays for message text once: `otel_traces` holds every span's text; the graph tables
 * hold no tool arguments or results at all, and of the model's messages only what a session shows
 * (its description and output summary), cut to 500 characters, whatever the split into requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { exportBody, type OtlpSpan } from '../helpers/agent-run.ts';
import { queryRows, startTestCollector, tempDir } from '../helpers/collector.ts';
import { sessionIdOf } from '../../src/mapping/ids.ts';

let collector: RunningCollector;
beforeAll(async () => {
  collector = await startTestCollector(tempDir(), { SESSIONGRAPH_SESSION_TIMEOUT: '3650d' });
});
afterAll(async () => {
  await collector?.close();
});

const TRACE = '5707a9e0000000000000000000000001';
const T0 = 1795000000000000000n;
const at = (ms: number): string => String(T0 + BigInt(ms) * 1_000_000n);
const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
/** A distinctive text of `length` characters: `marker` then filler words. */
const text = (marker: string, length: number): string =>
  `${marker} ${'lorem ipsum dolor sit amet '.repeat(Math.ceil(length / 27))}`.slice(0, length);
const messages = (role: string, content: string): string =>
  JSON.stringify([{ role, parts: [{ type: 'text', content }] }]);

function run(): OtlpSpan[] {
  const span = (
    spanId: string,
    parent: string,
    name: string,
    start: number,
    end: number,
    attributes: unknown[],
  ): OtlpSpan => ({
    traceId: TRACE,
    spanId,
    ...(parent ? { parentSpanId: parent } : {}),
    name,
    kind: 1,
    startTimeUnixNano: at(start),
    endTimeUnixNano: at(end),
    attributes,
  });
  const spans: OtlpSpan[] = [
    // The root has the user's input and no output: the summary is the last model answer.
    span('a000000000000001', '', 'invoke_agent scribe', 0, 100_000, [
      str('gen_ai.operation.name', 'invoke_agent'),
      str('gen_ai.agent.name', 'scribe'),
      str('gen_ai.input.messages', messages('user', text('USERASK', 1200))),
    ]),
  ];
  for (let i = 0; i < 6; i++) {
    const t = 1000 + i * 10_000;
    spans.push(
      span(`b00000000000000${i}`, 'a000000000000001', 'chat gpt-4o', t, t + 4000, [
        str('gen_ai.operation.name', 'chat'),
        str('gen_ai.request.model', 'gpt-4o'),
        str('gen_ai.input.messages', messages('user', text(`MODELIN${i}`, 2500))),
        str('gen_ai.output.messages', messages('assistant', text(`ANSWER${i}`, 2000))),
      ]),
      span(`c00000000000000${i}`, 'a000000000000001', 'execute_tool search', t + 5000, t + 9000, [
        str('gen_ai.operation.name', 'execute_tool'),
        str('gen_ai.tool.name', 'search'),
        str('gen_ai.tool.call.arguments', JSON.stringify({ query: text(`TOOLARG${i}`, 3000) })),
        str('gen_ai.tool.call.result', text(`TOOLRESULT${i}`, 3000)),
      ]),
    );
  }
  return spans;
}

/** Rows of `table` whose text (all columns) contains `marker`; `final`: as kept after merges. */
async function holding(table: string, marker: string, final = false): Promise<number> {
  const from = `sessiongraph.${table}${final ? ' FINAL' : ''}`;
  const [row] = await queryRows<{ n: string }>(
    collector.storage,
    `SELECT toString(count()) AS n FROM ${from} WHERE position(toString(tuple(*)), {m:String}) > 0`,
    { m: marker },
  );
  return Number(row?.n);
}

describe('message text in the graph tables', () => {
  it('only the capped texts a session shows; no tool arguments or results; otel_traces keeps everything', async () => {
    const spans = run();
    // Three requests, the answers spread over them: each keeps its own candidates.
    for (const part of [spans.slice(0, 5), spans.slice(5, 9), spans.slice(9)]) {
      const res = await fetch(`${collector.url}/v1/traces`, {
        method: 'POST',
        body: exportBody(part),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(200);
    }
    expect(await collector.graph.settled()).toBe(true);
    const graphTables = ['session_spans', 'agent_sessions', 'agent_definitions', 'decisions', 'graph_edges'];

    for (const table of graphTables) {
      for (let i = 0; i < 6; i++) {
        expect(await holding(table, `TOOLARG${i}`), `${table} TOOLARG${i}`).toBe(0);
        expect(await holding(table, `TOOLRESULT${i}`), `${table} TOOLRESULT${i}`).toBe(0);
      }
    }
    // Model inputs: each request keeps its earliest (the description when the root has none), cut.
    const inputsKept = await queryRows<{ span_id: string; n: number }>(
      collector.storage,
      "SELECT span_id, length(input_text) AS n FROM sessiongraph.session_spans FINAL WHERE trace_id = {t:String} AND input_text != '' ORDER BY span_id",
      { t: TRACE },
    );
    expect(inputsKept.map((r) => r.span_id)).toEqual([
      'a000000000000001',
      'b000000000000000',
      'b000000000000002',
      'b000000000000004',
    ]);
    expect(inputsKept.every((r) => Number(r.n) === 500)).toBe(true);
    for (let i = 0; i < 6; i++) expect(await holding('agent_sessions', `MODELIN${i}`)).toBe(0);
    // Answers: each request keeps its latest; the session shows the last one.
    // (Each request rewrote the session; after merges only its last version is kept.)
    expect(await holding('agent_sessions', 'ANSWER5', true)).toBe(1);
    for (let i = 0; i < 5; i++) expect(await holding('agent_sessions', `ANSWER${i}`, true)).toBe(0);
    const answersKept = await queryRows<{ span_id: string; n: number }>(
      collector.storage,
      "SELECT span_id, length(output_text) AS n FROM sessiongraph.session_spans FINAL WHERE trace_id = {t:String} AND output_text != '' ORDER BY span_id",
      { t: TRACE },
    );
    // One latest answer per request (requests 1–3 end with answers 1, 3 and 5).
    expect(answersKept.map((r) => r.span_id)).toEqual(['b000000000000001', 'b000000000000003', 'b000000000000005']);
    expect(answersKept.every((r) => Number(r.n) === 500)).toBe(true);

    const [session] = await queryRows<{ description: string; output_summary: string }>(
      collector.storage,
      'SELECT description, output_summary FROM sessiongraph.agent_sessions FINAL WHERE trace_id = {t:String}',
      { t: TRACE },
    );
    expect(session?.description).toMatch(/USERASK/);
    expect(session?.output_summary).toMatch(/^ANSWER5 /);
    expect(session?.output_summary).toHaveLength(500);

    // otel_traces keeps every text whole.
    for (let i = 0; i < 6; i++) {
      expect(await holding('otel_traces', `TOOLRESULT${i}`)).toBe(1);
      expect(await holding('otel_traces', `ANSWER${i}`)).toBe(1);
    }
  });
});

describe('transcripts come from otel_traces', () => {
  it('every span of a trace whose spans start within one second, late in it (found through otel_traces_trace_id_ts)', async () => {
    const traceId = '5707a9e0000000000000000000000002';
    const base = 1795000000_900_000_000n; // …:…:40.9 s: compared as whole seconds, these would round up to the next one
    const span = (spanId: string, parent: string, offsetNs: bigint): OtlpSpan => ({
      traceId,
      spanId,
      ...(parent ? { parentSpanId: parent } : {}),
      name: parent ? 'execute_tool t' : 'invoke_agent quick',
      kind: 1,
      startTimeUnixNano: String(base + offsetNs),
      endTimeUnixNano: String(base + offsetNs + 1_000_000n),
      attributes: parent
        ? [str('gen_ai.operation.name', 'execute_tool'), str('gen_ai.tool.name', 't')]
        : [str('gen_ai.operation.name', 'invoke_agent')],
    });
    const spans = [
      span('d000000000000001', '', 0n),
      span('d000000000000002', 'd000000000000001', 10_000_000n),
      span('d000000000000003', 'd000000000000001', 90_000_000n),
    ];
    const res = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      body: exportBody(spans),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    const body = (await (await fetch(`${collector.url}/api/sessions/${sessionIdOf(traceId)}`)).json()) as {
      transcript: Array<{ span_id: string }>;
    };
    expect(body.transcript.map((e) => e.span_id)).toEqual(['d000000000000001', 'd000000000000002', 'd000000000000003']);
  });
});
