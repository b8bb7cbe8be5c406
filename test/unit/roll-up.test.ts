/**
 * Roll-up rules that do not need ClickHouse: the double-counting trap, classification of each
 * convention family, abandonment, sub-agents and provisional roots.
 */
import { describe, expect, it } from 'vitest';
import { classifySpan } from '../../src/conventions/classify.ts';
import { finalOutput, firstInput, tokenUsage } from '../../src/conventions/fields.ts';
import { rollUpTrace } from '../../src/mapping/roll-up.ts';
import { keepSummaryTexts, toSpanFacts } from '../../src/mapping/span-facts.ts';
import type { SpanRow } from '../../src/otlp/span-row.ts';
import { createPricer } from '../../src/pricing/pricer.ts';
import { TEST_START_NS, testSpan } from '../helpers/span-row.ts';

const START = TEST_START_NS;
const span = (
  spanId: string,
  parent: string,
  attrs: Record<string, string>,
  startMs = 0,
  endMs = 1000,
  status: SpanRow['StatusCode'] = 'Unset',
): SpanRow => testSpan(spanId, parent, attrs, { startMs, endMs, status, name: attrs.name ?? 'span' });
const ctx = { nowNs: START + 10n ** 12n, abandonAfterNs: 3_600_000_000_000n, pricer: createPricer() };
const rollUp = (rows: SpanRow[], c = ctx) => rollUpTrace(rows.map(toSpanFacts), c);

describe('the double-counting trap', () => {
  it('a root carrying the total usage of its LLM children counts once, through the children', () => {
    const rows = [
      span('0000000000000001', '', {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'a',
        'gen_ai.usage.input_tokens': '3000',
        'gen_ai.usage.output_tokens': '300',
      }),
      span('0000000000000002', '0000000000000001', { 'gen_ai.operation.name': 'agent_step' }),
      span('0000000000000003', '0000000000000002', {
        'gen_ai.operation.name': 'chat',
        'gen_ai.usage.input_tokens': '1000',
        'gen_ai.usage.output_tokens': '100',
      }),
      span('0000000000000004', '0000000000000001', {
        'gen_ai.operation.name': 'chat',
        'gen_ai.usage.input_tokens': '2000',
        'gen_ai.usage.output_tokens': '200',
      }),
    ];
    expect(rollUp(rows).session).toMatchObject({ tokens_used: 3300, input_tokens: 3000, output_tokens: 300, turns: 2 });
  });

  it('an aggregate span counts when none of its descendants report usage', () => {
    const rows = [
      span('0000000000000001', '', {
        'ai.operationId': 'ai.generateText',
        'ai.telemetry.functionId': 'writer',
        'ai.usage.promptTokens': '500',
        'ai.usage.completionTokens': '50',
      }),
      span('0000000000000002', '0000000000000001', { 'ai.operationId': 'ai.toolCall', 'ai.toolCall.name': 'search' }),
    ];
    expect(rollUp(rows).session).toMatchObject({
      tokens_used: 550,
      turns: 0,
      agent_name: 'writer',
      tools_invoked: ['search'],
    });
  });
});

describe("each model's share of a session (model_usage, for trends by model)", () => {
  it('splits calls, errors, tokens and cost by model; the shares add up to the session; an unpriced model is flagged, not $0', () => {
    const chat = (
      model: string,
      input: string,
      output: string,
      extra: Record<string, string> = {},
    ): Record<string, string> => ({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': model,
      'gen_ai.usage.input_tokens': input,
      'gen_ai.usage.output_tokens': output,
      ...extra,
    });
    const rows = [
      span('0000000000000001', '', {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'a',
        'gen_ai.usage.input_tokens': '9999',
      }),
      span('0000000000000002', '0000000000000001', chat('gpt-4o', '1000', '100')),
      span(
        '0000000000000003',
        '0000000000000001',
        chat('gpt-4o', '2000', '200', { 'gen_ai.usage.cost': '0.5' }),
        0,
        1000,
        'Error',
      ),
      span('0000000000000004', '0000000000000001', chat('acme-llm-7b', '300', '30')),
      span('0000000000000005', '0000000000000001', {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o',
      }), // no usage: a call, no tokens
    ];
    const { session } = rollUp(rows);
    const gpt4o =
      createPricer()(
        { input: 1000, output: 100, cacheRead: 0, cacheWrite: 0 },
        'gpt-4o',
        '',
        new Date(Number(START / 1_000_000n)),
      ) ?? NaN;
    expect(session.model_usage).toEqual([
      { model: 'acme-llm-7b', calls: 1, errors: 0, tokens: 330, cost: '0.000000000', priced: 0 },
      { model: 'gpt-4o', calls: 3, errors: 1, tokens: 3300, cost: (gpt4o + 0.5).toFixed(9), priced: 1 },
    ]);
    // The root's total is the children's, counted once: the shares add up to the session.
    expect(session.tokens_used).toBe(3630);
    expect(session.model_usage.reduce((n, m) => n + Number(m.cost), 0)).toBeCloseTo(Number(session.cost), 9);
    expect(session.unpriced_models).toEqual(['acme-llm-7b']);
    expect(session.llm_call_count).toBe(session.model_usage.reduce((n, m) => n + m.calls, 0));
  });
});

describe("the calls kept with the graph (session_calls), for decisions' evidence", () => {
  it('are the structure of every tool and model call in order of their end, once the session is over', () => {
    const ROOT = '0000000000000001';
    const calls = Array.from({ length: 300 }, (_, i) =>
      span(
        (i + 16).toString(16).padStart(16, '0'),
        ROOT,
        { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': `tool-${i}` },
        3000 - i * 10, // started in reverse order: kept in order of their end
        3000 - i * 10 + 5,
      ),
    );
    const decisionSpan = span('00000000000fff01', ROOT, { 'decision.title': 'late' }, 2500, 2501);
    const root = span(ROOT, '', { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'a' }, 0, 10_000);
    const keep = { ...ctx, keepCalls: true };
    const over = rollUp([root, ...calls, decisionSpan], keep);
    expect(over.calls).toHaveLength(300);
    expect(over.calls?.map((c) => c.tool)).toEqual(Array.from({ length: 300 }, (_, i) => `tool-${299 - i}`));
    expect(over.calls?.[0]).toMatchObject({
      kind: 'tool',
      error: 0,
      start_ns: String(START + 10_000_000n),
      end_ns: String(START + 15_000_000n),
    });
    // While the session is active (no root yet), nothing is written: its roll-ups run every second.
    expect(rollUp([...calls, decisionSpan], keep).calls).toBeUndefined();
    // Without decisions there is no evidence to keep; while spans outlive the graph, none is needed.
    expect(rollUp([root, ...calls], keep).calls).toBeUndefined();
    expect(rollUp([root, ...calls, decisionSpan]).calls).toBeUndefined();
  });
});

describe('classification across conventions', () => {
  it.each([
    [{ 'gen_ai.operation.name': 'chat' }, 'llm'],
    [{ 'openinference.span.kind': 'LLM' }, 'llm'],
    [{ 'langfuse.observation.type': 'generation' }, 'llm'],
    [{ 'ai.operationId': 'ai.streamText.doStream' }, 'llm'],
    [{ 'llm.request.type': 'completion' }, 'llm'],
    [{ 'gen_ai.operation.name': 'execute_tool' }, 'tool'],
    [{ 'openinference.span.kind': 'TOOL' }, 'tool'],
    [{ 'traceloop.span.kind': 'tool' }, 'tool'],
    [{ 'ai.operationId': 'ai.toolCall' }, 'tool'],
    [{ 'gen_ai.tool.call.id': 'c1' }, 'tool'],
    [{ 'gen_ai.operation.name': 'invoke_workflow' }, 'agent'],
    [{ 'openinference.span.kind': 'AGENT' }, 'agent'],
    [{ 'traceloop.span.kind': 'workflow' }, 'agent'],
    [{ 'langfuse.observation.type': 'agent' }, 'agent'],
    [{ 'ai.operationId': 'ai.generateObject' }, 'agent'],
  ])('%j is a %s span', (attrs, cls) => {
    const c = classifySpan(attrs);
    expect({ llm: c.llm, tool: c.tool, agent: c.agent }).toEqual({
      llm: cls === 'llm',
      tool: cls === 'tool',
      agent: cls === 'agent',
    });
  });

  it('reads usage with exclusive cache counts corrected, and a total key winning', () => {
    expect(
      tokenUsage({
        'gen_ai.usage.input_tokens': '100',
        'gen_ai.usage.cache_read_input_tokens': '900',
        'gen_ai.usage.output_tokens': '10',
      }),
    ).toEqual({
      input: 1000,
      output: 10,
      cacheRead: 900,
      cacheWrite: 0,
      reasoning: 0,
      total: 1010,
    });
    expect(
      tokenUsage({ 'llm.token_count.prompt': '10', 'llm.token_count.completion': '5', 'llm.token_count.total': '20' })
        ?.total,
    ).toBe(20);
    expect(tokenUsage({ 'gen_ai.request.model': 'x' })).toBeUndefined();
  });

  it('reads final outputs and first inputs of each family', () => {
    const parts = (role: string, text: string) =>
      JSON.stringify([
        { role: 'system', parts: [{ type: 'text', content: 'sys' }] },
        { role, parts: [{ type: 'text', content: text }] },
      ]);
    expect(finalOutput({ 'gen_ai.output.messages': parts('assistant', 'done') }, [])).toBe('done');
    expect(finalOutput({ 'traceloop.entity.output': '"quoted"' }, [])).toBe('quoted');
    expect(finalOutput({ 'gen_ai.completion.0.content': 'a', 'gen_ai.completion.1.content': 'b' }, [])).toBe('b');
    expect(
      finalOutput({}, [
        {
          name: 'gen_ai.client.inference.operation.details',
          attributes: { 'gen_ai.output.messages': parts('assistant', 'from event') },
        },
      ]),
    ).toBe('from event');
    expect(firstInput({ 'gen_ai.input.messages': parts('user', 'hi') })).toBe('hi');
    expect(firstInput({ 'ai.prompt': JSON.stringify({ prompt: 'write' }) })).toBe('write');
    expect(firstInput({ 'llm.input_messages.0.message.content': 'q' })).toBe('q');
  });
});

describe('roots, sub-agents and abandonment', () => {
  const root = span(
    '0000000000000001',
    '',
    { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'outer' },
    0,
    5000,
  );
  const sub = span(
    '0000000000000002',
    '0000000000000001',
    { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'inner' },
    100,
    4000,
  );
  const chat = span(
    '0000000000000003',
    '0000000000000002',
    { 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': '10' },
    200,
    300,
  );

  it('a sub-agent that arrives before the outer root does not complete the session', () => {
    const r = rollUp([sub, chat]);
    expect(r.session).toMatchObject({ session_status: 'active', agent_name: 'inner', session_end: null });
    expect(r.definition).toBeUndefined(); // the provisional agent may be a sub-agent: no definition yet
    expect(rollUp([root, sub, chat]).session).toMatchObject({
      session_status: 'completed',
      agent_name: 'outer',
      span_count: 3,
    });
  });

  it('an abandoned run with no agent span has an unknown agent and writes no definition', () => {
    const r = rollUp([chat], { ...ctx, nowNs: START + ctx.abandonAfterNs * 2n });
    expect(r.session).toMatchObject({
      session_status: 'abandoned',
      agent_name: '',
      agent_definition_id: '00000000-0000-0000-0000-000000000000',
    });
    expect(r.session.title).toMatch(/^unknown agent · /);
    expect(r.definition).toBeUndefined();
    expect(r.edges).toEqual([]);
  });

  it('a failed root makes the session failed', () => {
    const failed = { ...root, StatusCode: 'Error' as const };
    expect(rollUp([failed, sub, chat]).session.session_status).toBe('failed');
  });

  it('a rootless session is abandoned once its newest span is older than the timeout, and the version grows', () => {
    const lastEnd = START + 4000n * 1_000_000n;
    const before = rollUp([sub, chat], { ...ctx, nowNs: lastEnd + ctx.abandonAfterNs }).session;
    const after = rollUp([sub, chat], { ...ctx, nowNs: lastEnd + ctx.abandonAfterNs + 1n }).session;
    expect(before.session_status).toBe('active');
    expect(after.session_status).toBe('abandoned');
    expect(after.version).toBeGreaterThan(before.version);
    const completed = rollUp([root, sub, chat], { ...ctx, nowNs: lastEnd + ctx.abandonAfterNs + 1n }).session;
    expect(completed.session_status).toBe('completed');
    expect(completed.version).toBeGreaterThan(after.version);
  });

  it('spans outside the agent root subtree (an enclosing HTTP span) are not part of the session', () => {
    const http = span('00000000000000aa', '', { name: 'POST /triage' }, 0, 6000);
    const agent = { ...root, ParentSpanId: '00000000000000aa' };
    const s = rollUp([http, agent, sub, chat]).session;
    expect(s).toMatchObject({ root_span_id: '0000000000000001', span_count: 3, session_status: 'completed' });
  });
});

describe('texts kept for the summary (keepSummaryTexts)', () => {
  // A rootless wrapper (no input), a root agent without output, and model calls and tools with texts.
  const rows = [
    span('0000000000000001', '', { name: 'http' }, 0, 9000),
    span(
      '0000000000000002',
      '0000000000000001',
      { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'a' },
      100,
      8000,
    ),
    span(
      '0000000000000003',
      '0000000000000002',
      {
        'gen_ai.operation.name': 'chat',
        'gen_ai.input.messages': '[{"role":"user","content":"first question"}]',
        'gen_ai.output.messages': '[{"role":"assistant","content":"early answer"}]',
      },
      200,
      1000,
    ),
    span(
      '0000000000000004',
      '0000000000000002',
      {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 't',
        'gen_ai.tool.call.arguments': '{"q":1}',
        'gen_ai.tool.call.result': 'tool output',
      },
      1100,
      2000,
    ),
    span(
      '0000000000000005',
      '0000000000000002',
      {
        'gen_ai.operation.name': 'chat',
        'gen_ai.input.messages': '[{"role":"user","content":"second question"}]',
        'gen_ai.output.messages': '[{"role":"assistant","content":"  final answer  "}]',
      },
      2100,
      7000,
    ),
    span(
      '0000000000000006',
      '0000000000000002',
      { 'gen_ai.operation.name': 'chat', 'gen_ai.output.messages': '[{"role":"assistant","content":"middle answer"}]' },
      3000,
      4000,
    ),
  ];

  it('the session from the kept texts equals the session from every text, whatever the split into requests', () => {
    const full = rollUp(rows).session;
    for (const cut of [1, 2, 3, 4, 5, 6]) {
      const kept = [
        ...keepSummaryTexts(rows.slice(0, cut).map(toSpanFacts)),
        ...keepSummaryTexts(rows.slice(cut).map(toSpanFacts)),
      ];
      expect(rollUpTrace(kept, ctx).session).toEqual(full);
    }
    expect(full).toMatchObject({
      description: expect.stringContaining('first question'),
      output_summary: 'final answer',
    });
  });

  it('keeps no tool text and at most one input and one model answer per trace beyond the root candidates', () => {
    const kept = keepSummaryTexts(rows.map(toSpanFacts));
    const texts = kept.filter((f) => f.input_text !== '' || f.output_text !== '').map((f) => f.span_id);
    expect(texts).toEqual(['0000000000000003', '0000000000000005']);
    expect(kept.find((f) => f.span_id === '0000000000000003')).toMatchObject({ output_text: '' });
    expect(kept.find((f) => f.span_id === '0000000000000005')).toMatchObject({
      input_text: '',
      output_text: 'final answer',
    });
  });
});
