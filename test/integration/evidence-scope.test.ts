/**
 * A session is the agent root's subtree (SPEC §3), so its transcript and a decision's evidence
 * (SPEC §5) leave out spans of the same trace that sit outside it, such as an LLM call made by
 * the HTTP handler before the agent started.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { startTestCollector, tempDir } from '../helpers/collector.ts';
import { sessionIdOf } from '../../src/mapping/ids.ts';

let collector: RunningCollector;
beforeAll(async () => {
  collector = await startTestCollector(tempDir());
});
afterAll(async () => {
  await collector?.close();
});

const T = '5c0be5c0be5c0be5c0be5c0be5c0be00';
const at = (ms: number): string => String(1795000000000000000n + BigInt(ms) * 1_000_000n);
const op = (name: string) => ({ key: 'gen_ai.operation.name', value: { stringValue: name } });
const span = (
  spanId: string,
  parentSpanId: string,
  name: string,
  start: number,
  end: number,
  attributes: object[],
) => ({
  traceId: T,
  spanId,
  ...(parentSpanId ? { parentSpanId } : {}),
  name,
  startTimeUnixNano: at(start),
  endTimeUnixNano: at(end),
  attributes,
});

it('transcript and evidence hold only the session spans', async () => {
  const spans = [
    span('00000000000000f1', '', 'POST /triage', 0, 30_000, []),
    span('00000000000000f2', '00000000000000f1', 'chat gpt-4o', 500, 900, [op('chat')]),
    span('00000000000000a1', '00000000000000f1', 'invoke_agent x', 1_000, 20_000, [
      op('invoke_agent'),
      { key: 'gen_ai.agent.name', value: { stringValue: 'x' } },
    ]),
    span('00000000000000a2', '00000000000000a1', 'execute_tool t', 2_000, 3_000, [
      op('execute_tool'),
      { key: 'gen_ai.tool.name', value: { stringValue: 't' } },
    ]),
    span('00000000000000a3', '00000000000000a1', 'decide', 4_000, 5_000, [
      { key: 'decision.title', value: { stringValue: 'Do it' } },
    ]),
  ];
  const body = JSON.stringify({
    resourceSpans: [
      { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'web' } }] }, scopeSpans: [{ spans }] },
    ],
  });
  expect(
    (
      await fetch(`${collector.url}/v1/traces`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      })
    ).status,
  ).toBe(200);

  const sessionId = sessionIdOf(T);
  const detail = (await (await fetch(`${collector.url}/api/sessions/${sessionId}`)).json()) as {
    session: { span_count: number; llm_call_count: number };
    transcript: Array<{ span_id: string }>;
    decisions: Array<{ id: string }>;
  };
  expect(detail.session).toMatchObject({ span_count: 3, llm_call_count: 0 });
  expect(detail.transcript.map((e) => e.span_id)).toEqual(['00000000000000a1', '00000000000000a2', '00000000000000a3']);

  const audit = (await (await fetch(`${collector.url}/api/decisions/${detail.decisions[0]?.id}`)).json()) as {
    evidence: Array<{ name: string }>;
  };
  expect(audit.evidence.map((e) => e.name)).toEqual(['execute_tool t']);
});
