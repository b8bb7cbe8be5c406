/**
 * The agent SDK against a collector on a real port: each helper's spans roll up into the
 * expected session, definition and decision rows; errors are recorded and re-thrown unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { agentSession, decision, llmCall, startTracing, toolCall, tracesUrl, type Tracing } from '../../src/index.ts';
import { startTestCollector, tempDir } from '../helpers/collector.ts';
import { trace } from '@opentelemetry/api';
import { sessionIdOf } from '../../src/mapping/ids.ts';

let collector: RunningCollector;
let tracing: Tracing;
beforeAll(async () => {
  collector = await startTestCollector(tempDir());
  tracing = startTracing({
    endpoint: collector.url,
    serviceName: 'sdk-test',
    resourceAttributes: { 'deployment.environment.name': 'test' },
  });
});
afterAll(async () => {
  await tracing?.shutdown();
  await collector?.close();
});

type Json = Record<string, unknown>;
const get = async (path: string): Promise<Json> => (await (await fetch(`${collector.url}${path}`)).json()) as Json;

class BacklogUnavailable extends Error {
  override name = 'BacklogUnavailable';
}

describe('SDK helpers', () => {
  it('an agent run becomes a session, a definition and a decision with the expected fields', async () => {
    let traceId = '';
    let decisionId = '';
    const output = await agentSession(
      {
        agent: { name: 'roadmap-triage', id: 'agent-42', version: '3.0.0', description: 'Nightly roadmap triage' },
        input: 'Triage tonight',
        conversationId: 'nightly-1',
        tags: ['nightly', 'roadmap'],
      },
      async () => {
        traceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
        const metrics = await toolCall('read_metrics', { window: '30d' }, () => ({
          export: 0.002,
          legacy_sync: 0.003,
        }));
        await toolCall('read_backlog', { team: 'core' }, () => {
          throw new BacklogUnavailable('backlog API returned 503');
        }).catch((err: unknown) => {
          expect(err).toBeInstanceOf(BacklogUnavailable); // re-thrown unchanged
        });
        await llmCall({ model: 'claude-sonnet-4-5', provider: 'anthropic' }, (call) => {
          call.usage({
            inputTokens: 10_000,
            outputTokens: 500,
            cacheReadTokens: 6_000,
            cacheWriteTokens: 2_000,
            reasoningTokens: 100,
          });
          call.output('Two features are under 0.5% usage.');
        });
        await llmCall({ model: 'gpt-4o', provider: 'openai' }, (call) => {
          call.usage({ inputTokens: 1_000, outputTokens: 100, cacheReadTokens: 400 });
          call.responseModel('gpt-4o-2024-08-06');
          call.output('Propose deprecating export.');
        });
        decisionId = decision({
          title: 'Deprecate export',
          rationale: `weekly usage ${metrics.export * 100}%`,
          context: 'metrics 30d',
          consequences: 'notify 12 accounts',
          tags: ['deprecation'],
        });
        return 'Proposed deprecating export.';
      },
    );
    expect(output).toBe('Proposed deprecating export.');
    await tracing.flush();

    const { session, agent_definition, decisions } = (await get(`/api/sessions/${sessionIdOf(traceId)}`)) as {
      session: Json;
      agent_definition: Json;
      decisions: Json[];
    };
    expect(session).toMatchObject({
      agent_name: 'roadmap-triage',
      session_status: 'completed',
      service_name: 'sdk-test',
      environment: 'test',
      conversation_id: 'nightly-1',
      tags: ['nightly', 'roadmap'],
      description: 'Triage tonight',
      output_summary: 'Proposed deprecating export.',
      turns: 2,
      tokens_used: 11_600, // 10,000 + 500 + 1,000 + 100
      cache_read_tokens: 6_400,
      cache_write_tokens: 2_000,
      reasoning_tokens: 100,
      models: ['claude-sonnet-4-5', 'gpt-4o-2024-08-06'],
      tools_invoked: ['read_metrics', 'read_backlog'],
      tool_call_count: 2,
      error_count: 1,
      span_count: 6,
    });
    // sonnet: 2,000 × 3 + 6,000 × 0.3 + 2,000 × 3.75 + 500 × 15 = 22,800 µ$; gpt-4o: 600 × 2.5 + 400 × 1.25 + 100 × 10 = 3,000 µ$
    expect(session.cost as number).toBeCloseTo(0.0258, 9);
    expect(agent_definition).toMatchObject({
      title: 'roadmap-triage',
      agent_id: 'agent-42',
      version: '3.0.0',
      description: 'Nightly roadmap triage',
      agent_key: 'sdk-test/agent-42',
    });
    expect(decisions).toEqual([
      expect.objectContaining({
        id: decisionId,
        title: 'Deprecate export',
        rationale: 'weekly usage 0.2%',
        status: 'proposed',
        tags: ['deprecation'],
      }),
    ]);

    const audit = (await get(`/api/decisions/${decisionId}`)) as { session: Json; evidence: Json[] };
    expect((audit.session as Json).id).toBe(sessionIdOf(traceId));
    expect(audit.evidence.map((e) => e.name)).toEqual([
      'execute_tool read_metrics',
      'execute_tool read_backlog',
      'chat claude-sonnet-4-5',
      'chat gpt-4o',
    ]);
    expect(audit.evidence[0]).toMatchObject({
      input: '{"window":"30d"}',
      output: '{"export":0.002,"legacy_sync":0.003}',
    });
    expect(audit.evidence[1]).toMatchObject({ error: true, status_message: 'backlog API returned 503' });
  });

  it('an error thrown in agentSession fails the session and reaches the caller unchanged', async () => {
    const boom = new TypeError('model refused');
    let traceId = '';
    const caught = await agentSession({ agent: { name: 'fragile' }, input: 'go' }, () => {
      traceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
      throw boom;
    }).catch((err: unknown) => err);
    expect(caught).toBe(boom);
    await tracing.flush();
    const { session, transcript } = (await get(`/api/sessions/${sessionIdOf(traceId)}`)) as {
      session: Json;
      transcript: Json[];
    };
    expect(session).toMatchObject({ session_status: 'failed', error_count: 1 });
    expect(transcript[0]).toMatchObject({ status_code: 'Error', status_message: 'model refused', error: true });
    const raw = await collector.storage.select<{ events: string[]; type: string }>(
      "SELECT Events.Name AS events, SpanAttributes['error.type'] AS type FROM sessiongraph.otel_traces WHERE TraceId = {t:String}",
      { t: traceId },
    );
    expect(raw[0]).toEqual({ events: ['exception'], type: 'TypeError' });
  });

  it('a decision recorded as an event gets the id the collector derives', async () => {
    let id = '';
    let traceId = '';
    await agentSession({ agent: { name: 'eventful' }, input: 'x' }, () => {
      traceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
      id = decision({ title: 'Keep feature', asEvent: true });
      decision({ title: 'Given id', id: '0b7e4c2a-6f1d-4e8b-9a35-c7d2e1f04b68', status: 'accepted' });
    });
    await tracing.flush();
    const { decisions } = (await get(`/api/sessions/${sessionIdOf(traceId)}`)) as { decisions: Json[] };
    expect(decisions.map((d) => [d.id, d.title, d.status])).toEqual([
      [id, 'Keep feature', 'proposed'],
      ['0b7e4c2a-6f1d-4e8b-9a35-c7d2e1f04b68', 'Given id', 'accepted'],
    ]);
  });

  it('honours the standard OTLP endpoint variables', () => {
    expect(tracesUrl({}, {})).toBe('http://localhost:4318/v1/traces');
    expect(tracesUrl({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' })).toBe('http://c:4318/v1/traces');
    expect(
      tracesUrl(
        {},
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:9/x' },
      ),
    ).toBe('http://t:9/x');
    expect(tracesUrl({ endpoint: 'http://e:1' }, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:9/x' })).toBe(
      'http://e:1/v1/traces',
    );
  });
});
