/**
 * A collector as configured by a user: a 2 s session timeout (abandonment by the background
 * sweep, then a late root still completing the session), a --prices file winning over the
 * bundled table, and the README's SRE query returning the right figures.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { exportBody, type OtlpSpan } from '../helpers/agent-run.ts';
import { startTestCollector, tempDir } from '../helpers/collector.ts';
import { sessionIdOf } from '../../src/mapping/ids.ts';

let collector: RunningCollector;
const DAY_MS = 86_400_000;
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;

beforeAll(async () => {
  const prices = path.join(tempDir(), 'prices.yaml');
  fs.writeFileSync(prices, 'models:\n  house-model: { input: 2, output: 8 }\n  gpt-4o: { input: 1, output: 1 }\n');
  collector = await startTestCollector(tempDir(), { SESSIONGRAPH_SESSION_TIMEOUT: '2s', SESSIONGRAPH_PRICES: prices });
});
afterAll(async () => {
  await collector?.close();
});

const ns = (ms: number): string => String(BigInt(Math.round(ms)) * 1_000_000n);
let traceNo = 0;

/** A run of `agent` at `startMs`: a root and one chat of `model` with the given usage. */
function run(
  agent: string,
  startMs: number,
  model: string,
  input: number,
  output: number,
  opts: { failed?: boolean; toolError?: boolean } = {},
): { traceId: string; root: OtlpSpan; children: OtlpSpan[] } {
  const traceId = `1ea5e000${(++traceNo).toString(16).padStart(24, '0')}`;
  const root: OtlpSpan = {
    traceId,
    spanId: '1000000000000001',
    name: `invoke_agent ${agent}`,
    startTimeUnixNano: ns(startMs),
    endTimeUnixNano: ns(startMs + 1000),
    attributes: [
      { key: 'gen_ai.operation.name', value: { stringValue: 'invoke_agent' } },
      { key: 'gen_ai.agent.name', value: { stringValue: agent } },
    ],
    ...(opts.failed ? { status: { code: 2, message: 'gave up' } } : {}),
  };
  const children: OtlpSpan[] = [
    {
      traceId,
      spanId: '1000000000000002',
      parentSpanId: '1000000000000001',
      name: `chat ${model}`,
      startTimeUnixNano: ns(startMs + 100),
      endTimeUnixNano: ns(startMs + 500),
      attributes: [
        { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
        { key: 'gen_ai.request.model', value: { stringValue: model } },
        { key: 'gen_ai.usage.input_tokens', value: { intValue: String(input) } },
        { key: 'gen_ai.usage.output_tokens', value: { intValue: String(output) } },
      ],
    },
  ];
  if (opts.toolError) {
    children.push({
      traceId,
      spanId: '1000000000000003',
      parentSpanId: '1000000000000001',
      name: 'execute_tool read_backlog',
      startTimeUnixNano: ns(startMs + 600),
      endTimeUnixNano: ns(startMs + 700),
      attributes: [
        { key: 'gen_ai.operation.name', value: { stringValue: 'execute_tool' } },
        { key: 'error.type', value: { stringValue: 'timeout' } },
      ],
    });
  }
  return { traceId, root, children };
}

async function send(spans: OtlpSpan[]): Promise<void> {
  const res = await fetch(`${collector.url}/v1/traces`, {
    method: 'POST',
    body: exportBody(spans),
    headers: { 'content-type': 'application/json' },
  });
  expect(res.status).toBe(200);
}

async function session(traceId: string): Promise<Record<string, unknown>> {
  return (
    (await (await fetch(`${collector.url}/api/sessions/${sessionIdOf(traceId)}`)).json()) as {
      session: Record<string, unknown>;
    }
  ).session;
}

describe('abandoned sessions', () => {
  it('a session whose root never comes is abandoned by the sweep after the timeout; a late root still completes it', async () => {
    const r = run('nightly-triage', Date.now() - 600, 'gpt-4o', 100, 10);
    await send(r.children);
    expect((await session(r.traceId)).session_status).toBe('active');
    await expect
      .poll(async () => (await session(r.traceId)).session_status, { timeout: 10_000, interval: 250 })
      .toBe('abandoned');
    await send([r.root]);
    expect(await session(r.traceId)).toMatchObject({ session_status: 'completed', root_span_id: '1000000000000001' });
  });
});

describe('price overrides', () => {
  it('the --prices file wins over the bundled table and prices models the table does not know', async () => {
    const known = run('pricing', Date.now() - 5000, 'gpt-4o', 1000, 1000);
    const house = run('pricing', Date.now() - 4000, 'house-model', 1000, 500);
    await send([...known.children, known.root, ...house.children, house.root]);
    expect((await session(known.traceId)).cost).toBeCloseTo(0.002, 9); // 2000 tokens × $1 per million, not gpt-4o's table price
    expect((await session(house.traceId)).cost).toBeCloseTo(0.006, 9); // 1000 × $2 + 500 × $8 per million
    expect((await session(house.traceId)).unpriced_models).toEqual([]);
  });
});

describe("the README's SRE query", () => {
  it('cost and errors by day and agent count each session once, whatever was re-sent', async () => {
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    const query = /```sql\n(-- cost and errors by day and agent[\s\S]*?)```/.exec(readme)?.[1];
    expect(query, 'README has the query').toBeDefined();
    // Two days back and one day back, two agents; each run re-sent (exporter retries).
    const runs = [
      run('billing-bot', today - 2 * DAY_MS + 3_600_000, 'house-model', 1000, 0), // $0.002
      run('billing-bot', today - 2 * DAY_MS + 7_200_000, 'house-model', 2000, 0, { toolError: true }), // $0.004, 1 error
      run('billing-bot', today - DAY_MS + 3_600_000, 'house-model', 500, 0, { failed: true }), // $0.001, failed root = 1 error
      run('digest-bot', today - DAY_MS + 3_600_000, 'house-model', 0, 1000, { toolError: true }), // $0.008, 1 error
    ];
    for (const r of runs) {
      await send([...r.children, r.root]);
      await send([...r.children, r.root]);
    }
    const res = await fetch(`${collector.url}/api/sql`, { method: 'POST', body: query });
    expect(res.status).toBe(200);
    const rows = ((await res.json()) as { rows: Array<Record<string, unknown>> }).rows.filter((r) =>
      String(r.agent_name).endsWith('-bot'),
    );
    const day = (offset: number): string => new Date(today - offset * DAY_MS).toISOString().slice(0, 10);
    expect(rows.map((r) => ({ ...r, cost_usd: Number(r.cost_usd) }))).toEqual([
      {
        day: day(2),
        agent_name: 'billing-bot',
        sessions: '2',
        failed: '0',
        errors: '1',
        tokens: '3000',
        cost_usd: 0.006,
      },
      {
        day: day(1),
        agent_name: 'billing-bot',
        sessions: '1',
        failed: '1',
        errors: '1',
        tokens: '500',
        cost_usd: 0.001,
      },
      {
        day: day(1),
        agent_name: 'digest-bot',
        sessions: '1',
        failed: '0',
        errors: '1',
        tokens: '1000',
        cost_usd: 0.008,
      },
    ]);
  });
});
