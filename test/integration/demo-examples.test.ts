/**
 * `sessiongraph demo` at small scale and every example in examples/, each run as a user runs
 * it (a child process) against a collector on a real port.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { runCli } from '../helpers/cli.ts';
import { startTestCollector, tempDir } from '../helpers/collector.ts';

let collector: RunningCollector;
beforeAll(async () => {
  collector = await startTestCollector(tempDir());
});
afterAll(async () => {
  await collector?.close();
});

type Json = Record<string, unknown>;
const get = async (p: string): Promise<{ status: number; body: Json }> => {
  const res = await fetch(`${collector.url}${p}`);
  return { status: res.status, body: (await res.json()) as Json };
};
const allSessions = async (): Promise<Json[]> => (await get('/api/sessions?limit=500')).body.sessions as Json[];

describe('sessiongraph demo', () => {
  let firstRun: Json[] = [];

  it('sends the number of sessions asked for, with decisions the auditor endpoint resolves', async () => {
    const { code, output } = await runCli(['demo', '--sessions', '16', '--seed', '3', '--url', collector.url]);
    expect(code, output).toBe(0);
    expect(output).toMatch(/16 agent sessions over the last 30 days/);
    expect(output).toMatch(/16\/16 sessions/);
    firstRun = await allSessions();
    expect(firstRun).toHaveLength(16);
    expect(new Set(firstRun.map((s) => s.agent_name))).toEqual(
      new Set(['roadmap-triage', 'support-triage', 'release-notes', 'billing-assistant', '']),
    );

    const printedDecision = /sessiongraph decision (\S+)/.exec(output)?.[1];
    const printedSession = /sessiongraph session (\S+)/.exec(output)?.[1];
    expect(printedDecision && printedSession).toBeTruthy();
    const audit = await get(`/api/decisions/${printedDecision}`);
    expect(audit.status).toBe(200);
    expect((audit.body.session as Json).id).toBe(printedSession);
    expect((audit.body.agent_definition as Json).title).toBe('roadmap-triage');
    expect((audit.body.evidence as Json[]).map((e) => e.name)).toEqual(
      expect.arrayContaining(['execute_tool read_metrics', 'chat claude-sonnet-4-5']),
    );

    let decisions = 0;
    for (const s of firstRun) {
      for (const d of (await get(`/api/sessions/${String(s.id)}`)).body.decisions as Json[]) {
        decisions++;
        const resolved = await get(`/api/decisions/${String(d.id)}`);
        expect(resolved.status).toBe(200);
        expect((resolved.body.session as Json).id).toBe(s.id);
      }
    }
    expect(output).toContain(`${decisions} decisions`);
    const dates = firstRun.map((s) => Date.parse(String(s.session_start)));
    expect(Math.min(...dates)).toBeGreaterThan(Date.now() - 31 * 86_400_000);
  });

  it('is reproducible: the same seed again adds nothing, another seed adds more', async () => {
    expect((await runCli(['demo', '--sessions', '16', '--seed', '3', '--url', collector.url])).code).toBe(0);
    const again = await allSessions();
    expect(again.map((s) => s.id)).toEqual(firstRun.map((s) => s.id));
    expect(again.map((s) => [s.tokens_used, s.cost, s.session_status])).toEqual(
      firstRun.map((s) => [s.tokens_used, s.cost, s.session_status]),
    );
    expect((await runCli(['demo', '--sessions', '4', '--seed', '4', '--url', collector.url])).code).toBe(0);
    expect(await allSessions()).toHaveLength(20);
  });

  it('explains a missing collector and bad options', async () => {
    const down = await runCli(['demo', '--url', 'http://127.0.0.1:9']);
    expect(down.code).toBe(1);
    expect(down.output).toContain('no collector answers at http://127.0.0.1:9');
    const bad = await runCli(['demo', '--sessions', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('--sessions must be an integer');
  });
});

function runExample(file: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.resolve(import.meta.dirname, '../../examples', file)],
    {
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describe('examples/', () => {
  it('sdk-agent.ts: helpers → a session with its tool error, cost and decision', async () => {
    const { code, output } = await runExample('sdk-agent.ts');
    expect(code, output).toBe(0);
    const id = /session (\S+)/.exec(output)?.[1];
    const { session, decisions } = (await get(`/api/sessions/${id}`)).body as { session: Json; decisions: Json[] };
    expect(session).toMatchObject({
      agent_name: 'sdk-example-planner',
      session_status: 'completed',
      tokens_used: 1920,
      error_count: 1,
      tools_invoked: ['read_usage', 'read_roadmap'],
    });
    expect(session.cost as number).toBeCloseTo(0.00442, 9); // gpt-4o: 776 × 2.5 + 1,024 × 1.25 + 120 × 10 = 4,420 µ$
    expect(decisions.map((d) => d.title)).toEqual(['Sunset csv-export']);
  });

  it('otel-api-agent.ts: plain OpenTelemetry with GenAI attributes → a session and its decision', async () => {
    const { code, output } = await runExample('otel-api-agent.ts');
    expect(code, output).toBe(0);
    const id = /session (\S+)/.exec(output)?.[1];
    const { session, decisions, agent_definition } = (await get(`/api/sessions/${id}`)).body as {
      session: Json;
      decisions: Json[];
      agent_definition: Json;
    };
    // claude-haiku-4-5: 400 × $1 + 2,000 × $0.10 + 90 × $5 per million = 1,050 µ$
    expect(session).toMatchObject({
      agent_name: 'otel-example-triage',
      conversation_id: 'ticket-7731',
      tokens_used: 2490,
      tools_invoked: ['export_queue_depth'],
      output_summary: 'Paged on-call: the EU export queue is backed up.',
    });
    expect(session.cost as number).toBeCloseTo(0.00105, 9);
    expect(agent_definition).toMatchObject({
      agent_id: 'otel-example-triage-v1',
      agent_key: 'example-agents/otel-example-triage-v1',
    });
    expect(decisions).toEqual([
      expect.objectContaining({
        title: 'Page the on-call for the export queue',
        status: 'accepted',
        tags: ['incident'],
      }),
    ]);
  });

  it('vercel-ai-agent.ts: the Vercel AI SDK with experimental_telemetry → a session', async () => {
    const { code, output } = await runExample('vercel-ai-agent.ts');
    expect(code, output).toBe(0);
    const [session] = (await get('/api/sessions?agent=vercel-example-packing')).body.sessions as Json[];
    // two doGenerate calls: (900 + 40) + (1100 + 30); the ai.generateText root's summed usage is not added again
    expect(session).toMatchObject({
      turns: 2,
      tokens_used: 2070,
      cache_read_tokens: 896,
      tools_invoked: ['weather'],
      conversation_id: 'trip-42',
      user_id: 'traveller-7',
      models: ['gpt-4o'],
      output_summary: 'Pack light: 24 °C and sunny in Lisbon.',
    });
    // gpt-4o: 900 × 2.5 + 40 × 10 + 204 × 2.5 + 896 × 1.25 + 30 × 10 = 4,580 µ$
    expect(session?.cost as number).toBeCloseTo(0.00458, 9);
  });
});
