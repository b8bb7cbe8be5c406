/**
 * Claude Code's log events feed the graph (SPEC §6, issue: right numbers for real frameworks):
 * the captured run of test/fixtures/golden/claude-code sent as events only (its default
 * telemetry: no trace ids), and as traces plus events in either order. The figures are the same
 * every way, the tool decisions become Decision nodes once however often the events arrive,
 * and a run told both ways is never counted twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { sessionIdOf } from '../../src/mapping/ids.ts';
import { claudeSessionTraceId } from '../../src/mapping/log-facts.ts';
import { queryRows, startTestCollector, tempDir } from '../helpers/collector.ts';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/golden/claude-code');
const TRACE_ID = 'fd76303bdb1a79e17abbc7aee2d81c7e';
const CLAUDE_SESSION = 'b802abe3-eb5a-4da0-9e96-c7d1d42bd395';
const spansText = fs.readFileSync(path.join(FIXTURE, 'request-1.json'), 'utf8');
const logsText = fs.readFileSync(path.join(FIXTURE, 'logs-request-1.json'), 'utf8');

/** The same run under other ids, so one collector can hold it several times. */
function renamed(text: string, traceId: string, claudeSession: string): string {
  return text.replaceAll(TRACE_ID, traceId).replaceAll(CLAUDE_SESSION, claudeSession);
}

/** The log request as Claude Code sends it without its tracing beta: records carry no trace or span id. */
function withoutTraceIds(text: string): string {
  const request = JSON.parse(text) as {
    resourceLogs: Array<{ scopeLogs: Array<{ logRecords: Array<Record<string, unknown>> }> }>;
  };
  for (const rl of request.resourceLogs)
    for (const sl of rl.scopeLogs)
      for (const r of sl.logRecords) {
        delete r.traceId;
        delete r.spanId;
      }
  return JSON.stringify(request);
}

let collector: RunningCollector;
beforeAll(async () => {
  // The captured run is older than this timeout: an events-only session is over at once.
  collector = await startTestCollector(tempDir(), { SESSIONGRAPH_SESSION_TIMEOUT: '60s' });
});
afterAll(async () => {
  await collector?.close();
});

async function post(kind: 'traces' | 'logs', body: string): Promise<void> {
  const res = await fetch(`${collector.url}/v1/${kind}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  expect(res.status, await res.clone().text()).toBe(200);
  expect(await res.text()).not.toMatch(/rejected/);
}

interface SessionView {
  session: Record<string, unknown>;
  decisions: Array<Record<string, unknown>>;
}

async function sessionOf(traceId: string): Promise<SessionView> {
  const res = await fetch(`${collector.url}/api/sessions/${sessionIdOf(traceId)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as SessionView;
}

/** What must not depend on the route: the run's figures and its decisions' content. */
function figures(view: SessionView): Record<string, unknown> {
  const s = view.session;
  return {
    turns: s.turns,
    llm_call_count: s.llm_call_count,
    tokens_used: s.tokens_used,
    input_tokens: s.input_tokens,
    output_tokens: s.output_tokens,
    cache_read_tokens: s.cache_read_tokens,
    cache_write_tokens: s.cache_write_tokens,
    cost: s.cost,
    unpriced_models: s.unpriced_models,
    models: s.models,
    tools_invoked: s.tools_invoked,
    tool_call_count: s.tool_call_count,
    error_count: s.error_count,
    description: s.description,
    output_summary: s.output_summary,
    conversation_id: s.conversation_id,
    session_status: s.session_status,
    decisions: view.decisions.map((d) => [d.title, d.status, d.rationale, d.context]),
  };
}

// Worked out from the captured events (logs-request-1.json), not from the code:
// three api_request events (the title call 20+2, then 200+800+200 in / 150 out, 300+1200 in /
// 60 out; input = input_tokens + cache_read + cache_creation, Anthropic's meaning), cost = the
// sum of their cost_usd (9e-05 + 0.00384 + 0.00216), tool_result Bash (success) and Read
// (success=false), tool_decision accept/config for both.
const EXPECTED = {
  turns: 3,
  llm_call_count: 3,
  tokens_used: 22 + 1350 + 1560,
  input_tokens: 20 + 1200 + 1500,
  output_tokens: 2 + 150 + 60,
  cache_read_tokens: 800 + 1200,
  cache_write_tokens: 200,
  cost: 0.00009 + 0.00384 + 0.00216,
  unpriced_models: [],
  models: ['claude-sonnet-4-5'],
  // Bash started first (its tool_result ends 83 ms after its start, Read's 49 ms after).
  tools_invoked: ['Bash', 'Read'],
  tool_call_count: 2,
  error_count: 1,
  description: 'What is the weather in Paris, and how many people live in Atlantis?',
  output_summary: 'Paris is 18°C and sunny. I could not find Atlantis, so I cannot tell its population.',
  conversation_id: CLAUDE_SESSION,
  session_status: 'completed',
  decisions: [
    [
      'Allow Bash',
      'accepted',
      'decided by config',
      'tool_use_id=toolu_bash_1; permission_mode=default; tool_source=builtin',
    ],
    [
      'Allow Read',
      'accepted',
      'decided by config',
      'tool_use_id=toolu_read_2; permission_mode=default; tool_source=builtin',
    ],
  ],
};

const sameCost = (view: SessionView): SessionView => ({
  ...view,
  session: { ...view.session, cost: Number(Number(view.session.cost).toFixed(9)) },
});
const expectedFigures = { ...EXPECTED, cost: Number(EXPECTED.cost.toFixed(9)) };

describe("Claude Code's events build the session", () => {
  it('events only (its default telemetry): a session per Claude session.id, with every figure and both decisions', async () => {
    const claudeSession = 'events-only-0000-0000-0000-000000000001';
    await post('logs', withoutTraceIds(renamed(logsText, TRACE_ID, claudeSession)));
    const view = sameCost(await sessionOf(claudeSessionTraceId(claudeSession)));
    expect(figures(view)).toEqual({ ...expectedFigures, conversation_id: claudeSession });
    // No span ever arrives: the agent is the service, and the session ended with its last event.
    expect(view.session).toMatchObject({ agent_name: 'claude-code', span_count: 0, session_end: expect.any(String) });
  });

  it.each([
    ['traces first', ['traces', 'logs']],
    ['events first', ['logs', 'traces']],
  ] as const)('traces and events, %s: the same figures, never counted twice', async (_, order) => {
    const traceId = order[0] === 'traces' ? 'aaaa0000000000000000000000000001' : 'aaaa0000000000000000000000000002';
    const claudeSession = `both-${order[0]}-0000-0000-000000000000`;
    for (const kind of order)
      await post(kind, renamed(kind === 'traces' ? spansText : logsText, traceId, claudeSession));
    const view = sameCost(await sessionOf(traceId));
    expect(figures(view)).toEqual({ ...expectedFigures, conversation_id: claudeSession });
    expect(view.session).toMatchObject({ agent_name: 'claude_code.interaction', span_count: 10 });
  });

  it('decisions are created once, however often the events arrive, each with one creates edge', async () => {
    const traceId = 'aaaa0000000000000000000000000003';
    const claudeSession = 'retried-0000-0000-0000-000000000000';
    await post('traces', renamed(spansText, traceId, claudeSession));
    for (let i = 0; i < 3; i++) await post('logs', renamed(logsText, traceId, claudeSession));
    const view = sameCost(await sessionOf(traceId));
    expect(figures(view)).toEqual({ ...expectedFigures, conversation_id: claudeSession });
    const sessionId = sessionIdOf(traceId);
    const decisions = await queryRows<{ n: string }>(
      collector.storage,
      'SELECT toString(count()) AS n FROM sessiongraph.decisions FINAL WHERE session_id = {s:UUID}',
      { s: sessionId },
    );
    const edges = await queryRows<{ n: string }>(
      collector.storage,
      "SELECT toString(count()) AS n FROM sessiongraph.graph_edges FINAL WHERE edge_type = 'agent_session_creates_decision' AND source_id = {s:UUID}",
      { s: sessionId },
    );
    expect([decisions[0]?.n, edges[0]?.n]).toEqual(['2', '2']);
    // The auditor's way back: from a decision to its run.
    const decisionId = view.decisions[0]?.id;
    const res = await fetch(`${collector.url}/api/decisions/${String(decisionId)}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { session: { id: string } }).session.id).toBe(sessionId);
  });
});
