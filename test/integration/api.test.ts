/**
 * The auditor's path end to end (SPEC §3–§6): an agent run recorded by the real OpenTelemetry
 * SDK and exported over OTLP/protobuf → GET /api/sessions → the session → its decision → the
 * evidence → the agent definition; then the same reads through the `sessiongraph` CLI.
 * Every expected value is written out by hand from the run below, not copied from the code.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { RunningCollector } from '../../collector/server.ts';
import { runCli } from '../helpers/cli.ts';
import { startTestCollector, tempDir } from '../helpers/collector.ts';

type Json = Record<string, any>; // API bodies under test

const T0 = Date.parse('2026-11-20T10:00:00.000Z');
const at = (ms: number): Date => new Date(T0 + ms);
const iso = (ms: number): string => at(ms).toISOString();

const messages = (role: string, text: string): string =>
  JSON.stringify([{ role, parts: [{ type: 'text', content: text }] }]);
const TASK = 'Triage the Q1 roadmap and flag features to deprecate';
const ANSWER = 'Recommend deprecating CSV export.';
const METRICS_ARGS = '{"metric":"export_usage","window":"90d"}';
const METRICS_RESULT = '{"weekly_active_accounts":37,"share":0.002}';
const BACKLOG_ARGS = '{"project":"export"}';
const NOTIFY_ARGS = '{"channel":"#product"}';

let collector: RunningCollector;
let traceId = '';
let decisionSpanId = '';
let sessionId = '';

/** RFC 4122 v5 UUID, written here independently of src/mapping/ids.ts (namespace from types.ts). */
function uuidV5(name: string): string {
  const ns = Buffer.from('5b1f9f8e-3c0a-4f5e-9a51-8d2c7e6b4a10'.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name).digest().subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
const DEFINITION_ID = uuidV5('agent:product-ops/roadmap-triage');

async function getJson(path: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${collector.url}${path}`);
  return { status: res.status, body: (await res.json()) as Json };
}

/**
 * The run, times in ms after T0 (children end before the root, so SimpleSpanProcessor sends
 * the root last, in its own request — the session is provisional until then):
 *   root invoke_agent          0 – 20000
 *   chat gpt-4o             1000 –  3000   in 1200 (400 cache read), out 300
 *   execute_tool read_metrics 3500 – 5800   } parallel: start order metrics, backlog;
 *   execute_tool read_backlog 4000 – 5500   } end order backlog, metrics. Fails (status + exception).
 *   chat gpt-4o             6000 –  8000   in 2000 (1000 cache read), out 500
 *   decide deprecate-export 9000 – 10000   → decided_at = 10000
 *   execute_tool notify_team 11000 – 12000  after the decision: not evidence
 */
async function recordRun(): Promise<void> {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'product-ops' }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${collector.url}/v1/traces` }))],
  });
  const tracer = provider.getTracer('roadmap-agent', '1.0.0');
  const root = tracer.startSpan(
    'invoke_agent roadmap-triage',
    {
      startTime: at(0),
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'roadmap-triage',
        'gen_ai.agent.version': '2.1.0',
        'gen_ai.input.messages': messages('user', TASK),
        'gen_ai.output.messages': messages('assistant', ANSWER),
        // The run's total usage repeated on the aggregate root: must not be counted again.
        'gen_ai.usage.input_tokens': 3200,
        'gen_ai.usage.output_tokens': 800,
      },
    },
    ROOT_CONTEXT,
  );
  const ctx = trace.setSpan(ROOT_CONTEXT, root);
  const child = (
    name: string,
    start: number,
    end: number,
    attributes: Attributes,
    before?: (s: Span) => void,
  ): Span => {
    const span = tracer.startSpan(name, { startTime: at(start), attributes }, ctx);
    before?.(span);
    span.end(at(end));
    return span;
  };
  const chat = (input: number, output: number, cacheRead: number, prompt: string, reply: string): Attributes => ({
    'gen_ai.operation.name': 'chat',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.provider.name': 'openai',
    'gen_ai.usage.input_tokens': input,
    'gen_ai.usage.output_tokens': output,
    'gen_ai.usage.cache_read.input_tokens': cacheRead,
    'gen_ai.input.messages': messages('user', prompt),
    'gen_ai.output.messages': messages('assistant', reply),
  });
  const tool = (name: string, args: string, result?: string): Attributes => ({
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': name,
    'gen_ai.tool.call.arguments': args,
    ...(result === undefined ? {} : { 'gen_ai.tool.call.result': result }),
  });

  child('chat gpt-4o', 1000, 3000, chat(1200, 300, 400, TASK, 'I will read usage metrics and the backlog.'));
  child('execute_tool read_metrics', 3500, 5800, tool('read_metrics', METRICS_ARGS, METRICS_RESULT));
  child('execute_tool read_backlog', 4000, 5500, tool('read_backlog', BACKLOG_ARGS), (s) => {
    s.recordException(new Error('backlog service returned 503'), at(5400));
    s.setStatus({ code: SpanStatusCode.ERROR, message: 'backlog service returned 503' });
  });
  child(
    'chat gpt-4o',
    6000,
    8000,
    chat(2000, 500, 1000, 'Metrics: 0.2% share. Backlog unavailable.', 'Export is barely used; deprecate it.'),
  );
  decisionSpanId = child('decide deprecate-export', 9000, 10000, {
    'decision.title': 'Deprecate CSV export',
    'decision.rationale': 'Used by 0.2% of accounts in the last 90 days',
    'decision.context': 'Q1 roadmap triage',
    'decision.consequences': 'Remove the export button in 2027.1; notify 37 accounts',
    'decision.tags': ['deprecation', 'export'],
  }).spanContext().spanId;
  child('execute_tool notify_team', 11000, 12000, tool('notify_team', NOTIFY_ARGS, 'sent'));
  root.end(at(20000));

  traceId = root.spanContext().traceId;
  await provider.forceFlush();
  await provider.shutdown();
}

beforeAll(async () => {
  collector = await startTestCollector(tempDir());
  await recordRun();
});
afterAll(async () => {
  await collector?.close();
});

// Tokens: chat 1 = 1200 + 300 = 1500, chat 2 = 2000 + 500 = 2500 → 4000 (the root's 3200 + 800 is not added).
// Cost, gpt-4o on openai (genai-prices: $2.50 / M input, $1.25 / M cached input, $10 / M output):
//   chat 1: (1200 − 400) × 2.5 + 400 × 1.25 + 300 × 10 = 2000 + 500 + 3000 = 5500 / 1e6 = 0.0055
//   chat 2: (2000 − 1000) × 2.5 + 1000 × 1.25 + 500 × 10 = 2500 + 1250 + 5000 = 8750 / 1e6 = 0.00875
//   total 0.01425
const COST = 0.01425;

describe('the auditor path over the API', () => {
  let session: Json;
  let decisionId = '';

  it('GET /api/sessions?agent=roadmap-triage finds the run', async () => {
    const { status, body } = await getJson('/api/sessions?agent=roadmap-triage');
    expect(status).toBe(200);
    expect(body.sessions).toHaveLength(1);
    expect(body.next_cursor).toBeNull();
    sessionId = `${traceId.slice(0, 8)}-${traceId.slice(8, 12)}-${traceId.slice(12, 16)}-${traceId.slice(16, 20)}-${traceId.slice(20)}`;
    expect(body.sessions[0].id).toBe(sessionId);
  });

  it('GET /api/sessions/:id derives every session field', async () => {
    const { status, body } = await getJson(`/api/sessions/${sessionId}`);
    expect(status).toBe(200);
    session = body.session;
    expect(session).toMatchObject({
      id: sessionId,
      type: 'agent_session',
      title: 'roadmap-triage · 2026-11-20T10:00:00Z',
      description: TASK,
      output_summary: ANSWER,
      status: 'completed',
      session_status: 'completed',
      session_start: iso(0),
      session_end: iso(20000),
      duration_ms: 20000,
      turns: 2,
      llm_call_count: 2,
      tools_invoked: ['read_metrics', 'read_backlog', 'notify_team'],
      tool_call_count: 3,
      error_count: 1, // read_backlog: status ERROR and an exception event, counted once
      span_count: 7,
      tokens_used: 4000,
      input_tokens: 3200, // 1200 + 2000
      output_tokens: 800, // 300 + 500
      cache_read_tokens: 1400, // 400 + 1000
      cache_write_tokens: 0,
      models: ['gpt-4o'],
      unpriced_models: [],
      trace_id: traceId,
      agent_name: 'roadmap-triage',
      agent_definition_id: DEFINITION_ID,
      service_name: 'product-ops',
    });
    expect(session.cost).toBeCloseTo(COST, 9);
    expect(session.cost).toBeGreaterThan(0);
    expect(body.agent_definition).toMatchObject({ id: DEFINITION_ID, title: 'roadmap-triage', version: '2.1.0' });
    expect(body.decisions).toHaveLength(1);
    decisionId = body.decisions[0].id;
    // Decision span without decision.id: v5 UUID of "decision:<trace id>:<span id>" (types.ts).
    expect(decisionId).toBe(uuidV5(`decision:${traceId}:${decisionSpanId}`));

    // The transcript: every span once, in start order, with kind, inputs and outputs.
    expect(body.transcript.map((e: Json) => [e.name, e.kind, e.start, e.end, e.error])).toEqual([
      ['invoke_agent roadmap-triage', 'agent', iso(0), iso(20000), false],
      ['chat gpt-4o', 'llm', iso(1000), iso(3000), false],
      ['execute_tool read_metrics', 'tool', iso(3500), iso(5800), false],
      ['execute_tool read_backlog', 'tool', iso(4000), iso(5500), true],
      ['chat gpt-4o', 'llm', iso(6000), iso(8000), false],
      ['decide deprecate-export', 'span', iso(9000), iso(10000), false],
      ['execute_tool notify_team', 'tool', iso(11000), iso(12000), false],
    ]);
    const [, , metrics, backlog, , , notify] = body.transcript as Json[];
    expect(metrics).toMatchObject({
      tool_name: 'read_metrics',
      input: METRICS_ARGS,
      output: METRICS_RESULT,
      duration_ms: 2300,
    });
    expect(backlog).toMatchObject({
      tool_name: 'read_backlog',
      input: BACKLOG_ARGS,
      status_code: 'Error',
      status_message: 'backlog service returned 503',
    });
    expect(notify).toMatchObject({ tool_name: 'notify_team', input: NOTIFY_ARGS, output: 'sent' });
  });

  it('GET /api/spans/:trace_id/:span_id returns one span as stored: attributes, resource, scope, events', async () => {
    const transcript = (await getJson(`/api/sessions/${sessionId}`)).body.transcript as Json[];
    const backlog = transcript.find((e) => e.tool_name === 'read_backlog');
    const { status, body } = await getJson(`/api/spans/${traceId.toUpperCase()}/${String(backlog?.span_id)}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      trace_id: traceId,
      span_id: backlog?.span_id,
      name: 'execute_tool read_backlog',
      service_name: 'product-ops',
      start: iso(4000),
      end: iso(5500),
      status_code: 'Error',
      status_message: 'backlog service returned 503',
    });
    expect((body.attributes as Record<string, string>)['gen_ai.tool.name']).toBe('read_backlog');
    expect((body.resource as Record<string, string>)['service.name']).toBe('product-ops');
    expect((body.events as Json[]).map((e) => e.name)).toContain('exception');
    expect((await getJson(`/api/spans/${traceId}/ffffffffffffffff`)).status).toBe(404);
    expect((await getJson(`/api/spans/not-a-trace/${String(backlog?.span_id)}`)).status).toBe(404);
  });

  it('the session id is case-insensitive', async () => {
    expect((await getJson(`/api/sessions/${sessionId.toUpperCase()}`)).body.session?.id).toBe(sessionId);
  });

  it('GET /api/decisions/:id leads back to the session, the definition and the evidence', async () => {
    const { status, body } = await getJson(`/api/decisions/${decisionId}`);
    expect(status).toBe(200);
    expect(body.decision).toEqual({
      id: decisionId,
      type: 'decision',
      title: 'Deprecate CSV export',
      description: '',
      status: 'proposed',
      tags: ['deprecation', 'export'],
      context: 'Q1 roadmap triage',
      rationale: 'Used by 0.2% of accounts in the last 90 days',
      consequences: 'Remove the export button in 2027.1; notify 37 accounts',
      decided_at: iso(10000),
      session_id: sessionId,
      trace_id: traceId,
      span_id: decisionSpanId,
    });
    expect(body.session).toMatchObject({ id: sessionId, session_status: 'completed' });
    expect(body.agent_definition).toMatchObject({
      id: DEFINITION_ID,
      type: 'agent_definition',
      title: 'roadmap-triage',
      version: '2.1.0',
      agent_key: 'product-ops/roadmap-triage',
      service_name: 'product-ops',
      first_seen: iso(0),
      last_seen: iso(20000),
    });
    // Evidence: tool and LLM calls that ended before 10000, by end time (3000, 5500, 5800, 8000);
    // not the root (agent), not the decision span, not notify_team (ends 12000).
    expect(body.evidence.map((e: Json) => [e.name, e.end])).toEqual([
      ['chat gpt-4o', iso(3000)],
      ['execute_tool read_backlog', iso(5500)],
      ['execute_tool read_metrics', iso(5800)],
      ['chat gpt-4o', iso(8000)],
    ]);
    const [chat1, backlog, metrics, chat2] = body.evidence as Json[];
    expect(chat1).toMatchObject({
      kind: 'llm',
      model: 'gpt-4o',
      input_tokens: 1200,
      output_tokens: 300,
      input: messages('user', TASK),
      output: 'I will read usage metrics and the backlog.',
    });
    expect(backlog).toMatchObject({
      kind: 'tool',
      tool_name: 'read_backlog',
      input: BACKLOG_ARGS,
      output: '',
      error: true,
    });
    expect(metrics).toMatchObject({
      kind: 'tool',
      tool_name: 'read_metrics',
      input: METRICS_ARGS,
      output: METRICS_RESULT,
      error: false,
    });
    expect(chat2).toMatchObject({
      kind: 'llm',
      model: 'gpt-4o',
      input_tokens: 2000,
      output_tokens: 500,
      output: 'Export is barely used; deprecate it.',
    });
  });

  it('GET /api/agents lists the definition with its figures', async () => {
    const { status, body } = await getJson('/api/agents');
    expect(status).toBe(200);
    const found = (body.agents as Json[]).filter((a) => a.title === 'roadmap-triage');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      id: DEFINITION_ID,
      version: '2.1.0',
      session_count: 1,
      failed_sessions: 0,
      total_tokens: 4000,
      error_count: 1,
    });
    expect(found[0]!.total_cost).toBeCloseTo(COST, 9);
  });

  it('GET /api/agents/:id returns the definition and its recent sessions', async () => {
    const { status, body } = await getJson(`/api/agents/${DEFINITION_ID}`);
    expect(status).toBe(200);
    expect(body.agent_definition).toMatchObject({
      id: DEFINITION_ID,
      title: 'roadmap-triage',
      version: '2.1.0',
      session_count: 1,
    });
    expect(body.recent_sessions.map((s: Json) => s.id)).toEqual([sessionId]);
  });

  describe('the sessiongraph CLI against the same collector', () => {
    const cli = (...args: string[]) => runCli([...args, '--url', collector.url]);

    it('sessions prints a table with the agent', async () => {
      const { code, output } = await cli('sessions');
      expect(code).toBe(0);
      expect(output).toContain('roadmap-triage');
      expect(output).toContain(sessionId);
    });

    it('sessions --agent … --json prints the API JSON', async () => {
      const { code, output } = await cli('sessions', '--agent', 'roadmap-triage', '--json');
      expect(code).toBe(0);
      const parsed = JSON.parse(output) as Json;
      expect(parsed.sessions.map((s: Json) => s.id)).toEqual([sessionId]);
      expect(parsed.sessions[0].tokens_used).toBe(4000);
    });

    it('session <id> prints the fields and the transcript', async () => {
      const { code, output } = await cli('session', sessionId);
      expect(code).toBe(0);
      expect(output).toContain('roadmap-triage · 2026-11-20T10:00:00Z');
      expect(output).toContain('Transcript');
      for (const name of ['read_metrics', 'read_backlog', 'notify_team']) expect(output).toContain(name);
      expect(output).toContain('$0.0143'); // 0.01425 to 4 places
    });

    it('decision <id> prints the decision, rationale and evidence count', async () => {
      const { code, output } = await cli('decision', decisionId);
      expect(code).toBe(0);
      expect(output).toContain('Deprecate CSV export');
      expect(output).toContain('Used by 0.2% of accounts in the last 90 days');
      expect(output).toContain('Evidence: 4 tool and LLM calls');
    });

    it('agents lists roadmap-triage', async () => {
      const { code, output } = await cli('agents');
      expect(code).toBe(0);
      expect(output).toContain('roadmap-triage');
      expect(output).toContain(DEFINITION_ID);
    });

    it('an unknown id exits 3; a missing id exits 2 with usage', async () => {
      const unknown = await cli('session', '00000000-0000-4000-8000-000000000000');
      expect(unknown.code).toBe(3);
      expect(unknown.output).toContain('no session with id 00000000-0000-4000-8000-000000000000');
      const missing = await cli('decision');
      expect(missing.code).toBe(2);
      expect(missing.output).toContain('usage: sessiongraph decision <id>');
    });
  });
});
