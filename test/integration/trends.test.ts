/**
 * `GET /api/trends` and `sessiongraph trends` against a generated data set whose figures are
 * known: every metric × bucket × group-by (and none) equals the expectation computed here from
 * the generated calls — with each session sent in two requests, one request delivered twice, and
 * late model calls arriving after their session was rolled up (rewritten, never counted twice).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import {
  TREND_BUCKETS,
  TREND_GROUPS,
  TREND_METRICS,
  type TrendBucket,
  type TrendGroup,
  type TrendMetric,
  type Trends,
} from '../../src/queries/trends.ts';
import { runCli } from '../helpers/cli.ts';
import { startTestCollector, tempDir } from '../helpers/collector.ts';

interface Call {
  model: string;
  input: number;
  output: number;
  /** USD the instrumentation reports (gen_ai.usage.cost); undefined: a model nobody prices. */
  cost?: number;
  failed?: boolean;
  /** Sent after the session was rolled up. */
  late?: boolean;
}
interface GenSession {
  traceId: string;
  agent: string;
  service: string;
  environment: string;
  startMs: number;
  durationMs: number;
  /** 'active': the root never arrives. */
  status: 'completed' | 'failed' | 'active';
  calls: Call[];
  toolErrors: number;
}

const T0 = Date.UTC(2026, 10, 21, 22, 0, 0); // Saturday 21 Nov 2026, 22:00 UTC: buckets cross a day and a week
const FROM = '2026-11-21T00:00:00Z';
const TO = '2026-11-25T00:00:00Z';
const MODELS = ['gpt-4o', 'claude-sonnet-4-5', 'acme-llm-7b'];

/** A deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(): GenSession[] {
  const r = random(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  return Array.from({ length: 24 }, (_, i) => {
    const calls: Call[] = Array.from({ length: 1 + Math.floor(r() * 3) }, () => {
      const model = pick(MODELS);
      return {
        model,
        input: 100 + Math.floor(r() * 900),
        output: 10 + Math.floor(r() * 200),
        ...(model === 'acme-llm-7b' ? {} : { cost: Math.round(r() * 1e6) / 1e8 }),
        failed: r() < 0.15,
      };
    });
    if (i % 7 === 3) calls.push({ model: pick(MODELS.slice(0, 2)), input: 50, output: 5, cost: 0.0003, late: true });
    return {
      traceId: (i + 1).toString(16).padStart(32, 'c'),
      agent: i % 5 === 4 ? '' : pick(['planner', 'support']),
      service: pick(['svc-a', 'svc-b']),
      environment: pick(['prod', 'staging', '']),
      startMs: T0 + Math.floor(r() * 40) * 3_600_000 + Math.floor(r() * 3_600_000),
      durationMs: 1000 + Math.floor(r() * 60_000),
      status: i % 6 === 5 ? 'active' : r() < 0.25 ? 'failed' : 'completed',
      calls,
      toolErrors: r() < 0.3 ? 1 : 0,
    };
  });
}

const ns = (ms: number): string => `${BigInt(ms) * 1_000_000n}`;
const attr = (key: string, value: string | number): object => ({
  key,
  value:
    typeof value === 'number'
      ? Number.isInteger(value)
        ? { intValue: String(value) }
        : { doubleValue: value }
      : { stringValue: value },
});

/** The session's spans as OTLP JSON: the root (unless active), its model calls and one tool call. */
function spansOf(s: GenSession, late: boolean): object[] {
  const spans: object[] = [];
  const ROOT = '00000000000000aa';
  s.calls.forEach((c, i) => {
    if (Boolean(c.late) !== late) return;
    const start = s.startMs + 10 + i * 20;
    spans.push({
      traceId: s.traceId,
      spanId: (i + 1).toString(16).padStart(16, '0'),
      parentSpanId: ROOT,
      name: `chat ${c.model}`,
      startTimeUnixNano: ns(start),
      endTimeUnixNano: ns(start + 15),
      attributes: [
        attr('gen_ai.operation.name', 'chat'),
        attr('gen_ai.request.model', c.model),
        attr('gen_ai.usage.input_tokens', c.input),
        attr('gen_ai.usage.output_tokens', c.output),
        ...(c.cost === undefined ? [] : [attr('gen_ai.usage.cost', c.cost)]),
      ],
      ...(c.failed ? { status: { code: 2, message: 'overloaded' } } : {}),
    });
  });
  if (late) return spans;
  spans.push({
    traceId: s.traceId,
    spanId: '00000000000000bb',
    parentSpanId: ROOT,
    name: 'execute_tool lookup',
    startTimeUnixNano: ns(s.startMs + 500),
    endTimeUnixNano: ns(s.startMs + 600),
    attributes: [attr('gen_ai.operation.name', 'execute_tool'), attr('gen_ai.tool.name', 'lookup')],
    ...(s.toolErrors ? { status: { code: 2, message: 'not found' } } : {}),
  });
  if (s.status !== 'active') {
    spans.push({
      traceId: s.traceId,
      spanId: ROOT,
      name: s.agent ? `invoke_agent ${s.agent}` : 'run',
      startTimeUnixNano: ns(s.startMs),
      endTimeUnixNano: ns(s.startMs + s.durationMs),
      attributes: s.agent ? [attr('gen_ai.operation.name', 'invoke_agent'), attr('gen_ai.agent.name', s.agent)] : [],
      ...(s.status === 'failed' ? { status: { code: 2, message: 'failed' } } : {}),
    });
  }
  return spans;
}

function request(s: GenSession, spans: object[]): string {
  const resource = [
    attr('service.name', s.service),
    ...(s.environment ? [attr('deployment.environment.name', s.environment)] : []),
  ];
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: resource }, scopeSpans: [{ spans }] }] });
}

// ---- the expectation, computed from the generated calls -------------------------------------

const BUCKET_MS: Record<TrendBucket, number> = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000 };
function bucketOf(ms: number, bucket: TrendBucket): number {
  if (bucket !== 'week') return ms - (ms % BUCKET_MS[bucket]);
  const day = ms - (ms % 86_400_000);
  return day - ((new Date(day).getUTCDay() + 6) % 7) * 86_400_000; // back to Monday
}

/** ClickHouse's quantileExact: the element at floor(level × n) of the sorted values. */
function quantileExact(values: number[], level: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(level * sorted.length))] ?? null;
}

interface Row {
  session: GenSession;
  /** The calls this row stands for: all of the session's, or one model's. */
  calls: Call[];
}

/**
 * The agent a session is counted under: its root's agent name, else the root span's name ('run');
 * a session whose root never arrived has no agent span, so its agent is not known.
 */
function agentOf(s: GenSession): string {
  return s.status === 'active' ? 'unknown agent' : s.agent || 'run';
}

function groupOf(row: Row, group: TrendGroup | null): string {
  const s = row.session;
  switch (group) {
    case null:
      return 'all';
    case 'agent':
      return agentOf(s);
    case 'model':
      return row.calls[0]?.model ?? '';
    case 'service':
      return s.service;
    case 'status':
      return s.status;
    case 'environment':
      return s.environment || '(none)';
  }
}

function value(rows: Row[], metric: TrendMetric, byModel: boolean): { value: number | null; unpriced: string[] } {
  const calls = rows.flatMap((r) => r.calls);
  const unpriced = [...new Set(calls.filter((c) => c.cost === undefined).map((c) => c.model))].sort();
  const durations = rows.filter((r) => r.session.status !== 'active').map((r) => r.session.durationMs);
  switch (metric) {
    case 'cost': {
      const priced = calls.filter((c) => c.cost !== undefined);
      const total = priced.reduce((n, c) => n + (c.cost ?? 0), 0);
      return {
        value: byModel ? (priced.length === 0 ? null : total) : total === 0 && unpriced.length > 0 ? null : total,
        unpriced,
      };
    }
    case 'tokens':
      return { value: calls.reduce((n, c) => n + c.input + c.output, 0), unpriced: [] };
    case 'sessions':
      return { value: rows.length, unpriced: [] };
    case 'errors':
      return {
        value: byModel
          ? calls.filter((c) => c.failed).length
          : rows.reduce(
              (n, r) =>
                n +
                r.calls.filter((c) => c.failed).length +
                r.session.toolErrors +
                (r.session.status === 'failed' ? 1 : 0),
              0,
            ),
        unpriced: [],
      };
    case 'error_rate':
      return byModel
        ? { value: calls.filter((c) => c.failed).length / calls.length, unpriced: [] }
        : { value: rows.filter((r) => r.session.status === 'failed').length / rows.length, unpriced: [] };
    case 'p95_duration':
      return { value: quantileExact(durations, 0.95), unpriced: [] };
  }
}

function expected(
  sessions: GenSession[],
  metric: TrendMetric,
  bucket: TrendBucket,
  group: TrendGroup | null,
  model?: string,
): Map<string, Map<string, ReturnType<typeof value>>> {
  const byModel = group === 'model' || model !== undefined;
  const rows: Row[] = byModel
    ? sessions.flatMap((session) =>
        [...new Set(session.calls.map((c) => c.model))].map((m) => ({
          session,
          calls: session.calls.filter((c) => c.model === m),
        })),
      )
    : sessions.map((session) => ({ session, calls: session.calls }));
  const kept = rows.filter((r) => model === undefined || r.calls[0]?.model === model);
  const out = new Map<string, Map<string, ReturnType<typeof value>>>();
  const groups = new Map<string, Row[]>();
  for (const r of kept) groups.set(groupOf(r, group), [...(groups.get(groupOf(r, group)) ?? []), r]);
  for (const [g, grouped] of groups) {
    const points = new Map<string, ReturnType<typeof value>>();
    const times = new Map<number, Row[]>();
    for (const r of grouped)
      times.set(bucketOf(r.session.startMs, bucket), [...(times.get(bucketOf(r.session.startMs, bucket)) ?? []), r]);
    for (const [t, inBucket] of times) points.set(new Date(t).toISOString(), value(inBucket, metric, byModel));
    points.set('total', value(grouped, metric, byModel));
    out.set(g, points);
  }
  return out;
}

// ---- the run ---------------------------------------------------------------------------------

let collector: RunningCollector;
const sessions = generate();

async function post(body: string): Promise<void> {
  const res = await fetch(`${collector.url}/v1/traces`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  collector = await startTestCollector(tempDir(), { SESSIONGRAPH_SESSION_TIMEOUT: '3650d' });
  for (const s of sessions) {
    const spans = spansOf(s, false);
    const half = Math.ceil(spans.length / 2);
    await post(request(s, spans.slice(half))); // the root (last) first: children arrive after it
    await post(request(s, spans.slice(0, half)));
    if (s === sessions[2]) await post(request(s, spans.slice(0, half))); // delivered twice
  }
  expect(await collector.graph.settled()).toBe(true);
  for (const s of sessions) {
    const late = spansOf(s, true);
    if (late.length > 0) await post(request(s, late));
  }
  expect(await collector.graph.settled()).toBe(true);
}, 60_000);
afterAll(async () => {
  await collector?.close();
});

async function trends(
  query: Record<string, string>,
): Promise<{ status: number; body: Trends & { error?: { message: string } } }> {
  const res = await fetch(`${collector.url}/api/trends?${new URLSearchParams(query).toString()}`);
  return { status: res.status, body: (await res.json()) as never };
}

function compare(got: Trends, want: ReturnType<typeof expected>, label: string): void {
  expect(new Set(got.series.map((s) => s.group)), label).toEqual(new Set(want.keys()));
  for (const series of got.series) {
    const points = want.get(series.group);
    const times = [...(points?.keys() ?? [])].filter((k) => k !== 'total').sort();
    expect(
      series.points.map((p) => p.time),
      `${label} ${series.group}`,
    ).toEqual(times);
    for (const p of [...series.points, { time: 'total', value: series.total, unpriced_models: undefined }]) {
      const w = points?.get(p.time);
      const where = `${label} ${series.group} ${p.time}`;
      if (w?.value === null) expect(p.value, where).toBeNull();
      else expect(p.value, where).toBeCloseTo(w?.value ?? NaN, 9);
      if (p.unpriced_models) expect(p.unpriced_models, where).toEqual(w?.unpriced);
    }
  }
}

describe('GET /api/trends', () => {
  it('the stored sessions are the generated ones, late calls and the duplicate included once', async () => {
    const res = await fetch(`${collector.url}/api/sessions?limit=500&from=${FROM}&to=${TO}`);
    const stored = (
      (await res.json()) as { sessions: Array<{ trace_id: string; tokens_used: number; llm_call_count: number }> }
    ).sessions;
    expect(stored).toHaveLength(sessions.length);
    for (const s of sessions) {
      const got = stored.find((x) => x.trace_id === s.traceId);
      expect(got?.llm_call_count, s.traceId).toBe(s.calls.length);
      expect(got?.tokens_used, s.traceId).toBe(s.calls.reduce((n, c) => n + c.input + c.output, 0));
    }
  });

  for (const metric of TREND_METRICS) {
    it(`${metric}: every bucket and group-by equals the figures computed from the generated calls`, async () => {
      for (const bucket of TREND_BUCKETS) {
        for (const group of [null, ...TREND_GROUPS]) {
          const label = `${metric} by ${bucket}${group ? ` and ${group}` : ''}`;
          const { status, body } = await trends({
            metric,
            bucket,
            from: FROM,
            to: TO,
            ...(group ? { group_by: group } : {}),
          });
          expect(status, label).toBe(200);
          expect(body.group_by).toBe(group);
          compare(body, expected(sessions, metric, bucket, group), label);
        }
      }
    });
  }

  it('filters by agent and by model', async () => {
    const planner = sessions.filter((s) => agentOf(s) === 'planner');
    compare(
      (await trends({ metric: 'cost', from: FROM, to: TO, agent: 'planner', group_by: 'status' })).body,
      expected(planner, 'cost', 'day', 'status'),
      'agent=planner',
    );
    compare(
      (await trends({ metric: 'tokens', from: FROM, to: TO, model: 'gpt-4o', group_by: 'agent' })).body,
      expected(sessions, 'tokens', 'day', 'agent', 'gpt-4o'),
      'model=gpt-4o',
    );
  });

  it('reports a model nobody prices instead of counting it as $0', async () => {
    const { body } = await trends({ metric: 'cost', from: FROM, to: TO, group_by: 'model' });
    expect(body.unpriced_models).toEqual(['acme-llm-7b']);
    expect(body.series.find((s) => s.group === 'acme-llm-7b')?.total).toBeNull();
  });

  it('refuses bad parameters with a message naming them', async () => {
    const bad = async (query: Record<string, string>, message: RegExp): Promise<void> => {
      const { status, body } = await trends(query);
      expect(status).toBe(400);
      expect(body.error?.message).toMatch(message);
    };
    await bad({}, /metric is required/);
    await bad({ metric: 'latency' }, /metric must be one of cost, tokens/);
    await bad({ metric: 'cost', bucket: 'minute' }, /bucket must be one of hour, day, week/);
    await bad({ metric: 'cost', group_by: 'user' }, /group_by must be one of agent, model/);
    await bad({ metric: 'cost', from: 'yesterday' }, /from must be an ISO 8601 time/);
    await bad({ metric: 'cost', from: TO, to: FROM }, /from must be before to/);
    await bad({ metric: 'cost', bucket: 'hour', from: '2020-01-01', to: TO }, /hour buckets is more than 2000/);
  });
});

describe('GET /api/agents', () => {
  it('shows the version of the newest session seen, not the largest string', async () => {
    const run = async (agent: string, version: string, startMs: number, traceId: string): Promise<void> => {
      const root = {
        traceId,
        spanId: '00000000000000aa',
        name: `invoke_agent ${agent}`,
        startTimeUnixNano: ns(startMs),
        endTimeUnixNano: ns(startMs + 1000),
        attributes: [
          attr('gen_ai.operation.name', 'invoke_agent'),
          attr('gen_ai.agent.name', agent),
          attr('gen_ai.agent.version', version),
        ],
      };
      await post(
        JSON.stringify({
          resourceSpans: [
            { resource: { attributes: [attr('service.name', 'versions')] }, scopeSpans: [{ spans: [root] }] },
          ],
        }),
      );
    };
    const OCT = Date.UTC(2026, 9, 1);
    await run('upgraded', '9.0', OCT, 'd1'.padStart(32, 'd'));
    await run('upgraded', '10.0', OCT + 86_400_000, 'd2'.padStart(32, 'd')); // "10.0" < "9.0" as strings
    await run('rolled-back', '2.0', OCT, 'd3'.padStart(32, 'd'));
    await run('rolled-back', '1.5', OCT + 86_400_000, 'd4'.padStart(32, 'd'));
    const agents = (
      (await (await fetch(`${collector.url}/api/agents`)).json()) as {
        agents: Array<{ title: string; version: string; session_count: number }>;
      }
    ).agents;
    expect(
      agents
        .filter((a) => a.title === 'upgraded' || a.title === 'rolled-back')
        .map((a) => [a.title, a.version, a.session_count]),
    ).toEqual([
      ['rolled-back', '1.5', 2],
      ['upgraded', '10.0', 2],
    ]);
  });
});

describe('sessiongraph trends', () => {
  it("prints a table and a bar chart, or the API's JSON with --json", async () => {
    const args = [
      'trends',
      '--metric',
      'cost',
      '--by',
      'agent',
      '--bucket',
      'day',
      '--from',
      FROM,
      '--to',
      TO,
      '--url',
      collector.url,
    ];
    const table = await runCli(args);
    expect(table.code).toBe(0);
    const want = expected(sessions, 'cost', 'day', 'agent');
    for (const group of want.keys()) expect(table.output).toContain(group);
    expect(table.output).toMatch(/█/);
    const json = await runCli([...args, '--json']);
    expect(json.code).toBe(0);
    compare(JSON.parse(json.output) as Trends, want, 'cli --json');
    const bad = await runCli(['trends', '--metric', 'nope', '--url', collector.url]);
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(/metric must be one of/);
  });
});
