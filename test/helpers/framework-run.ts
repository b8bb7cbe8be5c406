/**
 * The harness of the framework tests (test/integration/framework-*.test.ts), so that each test
 * file holds only what is its framework's own: the agent (test/fixtures/frameworks/<name>/agent.ts),
 * the model stand-in it talks to, and the session worked out by hand from scenario.ts.
 *
 * `useFrameworkRuns` starts one real collector per test file and, before the tests, runs the agent
 * once per variant in a child process (its global OpenTelemetry providers stay there) against a
 * fresh stand-in, exporting through an OTLP capture server that keeps every request byte for byte
 * and forwards the traces to the collector. The tests then read the captured spans
 * (`session`, `definitionSeen`), fetch the session from `GET /api/sessions/:id` and compare every
 * field with the hand computation (`expectStoredSession`); `priceOfCall` /
 * `priceOfScenario` price the scenario's calls as the collector does.
 *
 * Re-recording golden fixtures: `RECORD_GOLDEN=1 npx vitest run test/integration/framework-<name>.test.ts`.
 * It is the one switch for all five tests: it replaces `RECORD_GOLDEN=1`, which the
 * ADK and Strands tests used for the same thing (save the golden run's captured trace requests
 * as test/fixtures/golden/<name>/request-N.*). A test that hands `recordGolden` its hand
 * computation (Mastra, LangGraph, OpenAI Agents) also rewrites expected.json; the others (ADK,
 * Strands) keep a hand-written expected.json whose times and ids must then be updated by hand.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { calcPrice } from '@pydantic/genai-prices';
import { afterAll, beforeAll, expect } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { startTestCollector, tempDir } from './collector.ts';
import { startOtlpCapture, type CapturedOtlpRequest, type OtlpCapture } from './stand-ins/http.ts';
import { OPENAI_MODEL, startOpenAiStandIn, type OpenAiStandIn } from './stand-ins/openai.ts';
import { CALLS, FINAL_ANSWER } from './stand-ins/scenario.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
// Restated rather than imported from src/mapping so the expected ids do not come from the code under test.
const NAMESPACE = '5b1f9f8e-3c0a-4f5e-9a51-8d2c7e6b4a10'; // SESSIONGRAPH_NAMESPACE, src/mapping/types.ts
// A framework that hangs must not hold the file's collector forever; real runs take a few seconds.
const RUN_TIMEOUT_MS = 120_000;

// The one re-recording switch (see the module comment).
const RECORD_GOLDEN = process.env.RECORD_GOLDEN === '1';

/** The fields of a captured OTLP/JSON span the tests read. */
export interface CapturedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
}

/** What a model stand-in must offer to be started and stopped around a run. */
export interface StartedStandIn {
  url: string;
  close(): Promise<void>;
}

/** One agent run of one variant: the child's exit and output, the stand-in it talked to, its captured export. */
export interface FrameworkRun<V, M extends StartedStandIn> {
  variant: V;
  code: number | null;
  stdout: string;
  stderr: string;
  model: M;
  capture: OtlpCapture;
}

/** One run's session as the framework exported it: its spans (all of one trace) and the session root. */
export interface CapturedSession {
  root: CapturedSpan;
  spans: CapturedSpan[];
}

/** How a test file's agent is run: its fixture folder, its variants, its stand-in, its environment and its session root. */
export interface FrameworkSpec<V, M extends StartedStandIn> {
  /** The folder under test/fixtures/frameworks/. */
  framework: string;
  /** One run per variant, one after the other (the machine's two cores are shared). */
  variants: readonly V[];
  startModel: () => Promise<M>;
  /** The agent's environment for one variant; OTEL_EXPORTER_OTLP_ENDPOINT is set by the runner. */
  env: (model: M, variant: V) => Record<string, string>;
  /** Picks the session root (SPEC §3) among the run's spans; exactly one span must match. */
  isRoot: (span: CapturedSpan) => boolean;
}

/** The runs of a test file, available once its beforeAll has run them. */
export interface FrameworkRuns<V, M extends StartedStandIn> {
  /** Base URL of the collector every run exported to. */
  collectorUrl(): string;
  /** The run of `variant`. */
  run(variant: V): FrameworkRun<V, M>;
  /** The session the run of `variant` exported (one trace, one root). */
  session(variant: V): CapturedSession;
  /** The agent definition's first / last seen over every run: all runs play the same agent into one collector. */
  definitionSeen(): { first_seen: string; last_seen: string };
  /** Fetches the session `expected.session.id` from the collector and compares it, decisions and agent definition with the hand computation. */
  expectStoredSession(expected: ExpectedSession): Promise<void>;
}

/** Registers the beforeAll / afterAll that start a collector and run the agent once per variant. */
export function useFrameworkRuns<V, M extends StartedStandIn>(spec: FrameworkSpec<V, M>): FrameworkRuns<V, M> {
  let collector: RunningCollector | undefined;
  const runs: Array<FrameworkRun<V, M>> = [];
  const models: M[] = [];
  const captures: OtlpCapture[] = [];

  beforeAll(
    async () => {
      collector = await startTestCollector(tempDir());
      for (const variant of spec.variants) {
        const model = await spec.startModel();
        models.push(model);
        const capture = await startOtlpCapture(collector.url);
        captures.push(capture);
        const exit = await runAgentProcess(spec.framework, {
          ...spec.env(model, variant),
          OTEL_EXPORTER_OTLP_ENDPOINT: capture.url,
        });
        runs.push({ variant, ...exit, model, capture });
      }
    },
    spec.variants.length * RUN_TIMEOUT_MS + 30_000,
  );

  afterAll(async () => {
    for (const capture of captures) await capture.close();
    for (const model of models) await model.close();
    await collector?.close();
  });

  const run = (variant: V): FrameworkRun<V, M> => {
    const found = runs.find((r) => r.variant === variant);
    if (!found) throw new Error('the agent did not run');
    return found;
  };
  const sessionOfRun = (r: FrameworkRun<V, M>): CapturedSession => {
    const spans = capturedSpans(r.capture);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1); // one run, one trace
    const roots = spans.filter(spec.isRoot);
    expect(roots).toHaveLength(1);
    return { root: roots[0] as CapturedSpan, spans };
  };
  return {
    collectorUrl: () => {
      if (!collector) throw new Error('the collector did not start');
      return collector.url;
    },
    run,
    session: (variant) => sessionOfRun(run(variant)),
    definitionSeen: () => {
      // The earliest session start and the newest span end of any session (SPEC §4, types.ts).
      const sessions = runs.map(sessionOfRun);
      const first = sessions.map((s) => s.root.startTimeUnixNano).reduce((a, b) => (BigInt(b) < BigInt(a) ? b : a));
      return { first_seen: nanosToIso(first), last_seen: nanosToIso(maxEnd(sessions.flatMap((s) => s.spans))) };
    },
    expectStoredSession: async (expected) => {
      if (!collector) throw new Error('the collector did not start');
      expectSession(await fetchSession(collector.url, expected.session.id), expected);
    },
  };
}

/** The two ways the agents on the OpenAI stand-in run: the model answering as JSON, then streamed (SSE). */
export const ANSWER_MODES = [
  { stream: false, mode: 'JSON answers' },
  { stream: true, mode: 'streamed answers' },
] as const;

/** `useFrameworkRuns` for the agents on the OpenAI stand-in (Mastra, LangGraph, OpenAI Agents): one run per answer mode. */
export function useOpenAiAgentRuns(
  framework: string,
  isRoot: (span: CapturedSpan) => boolean,
): FrameworkRuns<boolean, OpenAiStandIn> {
  return useFrameworkRuns({
    framework,
    variants: ANSWER_MODES.map((m) => m.stream),
    startModel: startOpenAiStandIn,
    // What those agent fixtures read (their doc comments list it).
    env: (openai, stream) => ({
      OPENAI_BASE_URL: openai.url,
      OPENAI_API_KEY: 'sk-stand-in',
      OPENAI_MODEL,
      AGENT_STREAM: stream ? '1' : '',
    }),
    isRoot,
  });
}

/** Checks that an agent on the OpenAI stand-in played the scenario: a clean exit, two `api` calls in its answer mode, the final answer. */
export function expectOpenAiScenarioPlayed(run: FrameworkRun<boolean, OpenAiStandIn>, api: 'chat' | 'responses'): void {
  expect(run.code, run.stderr + run.stdout).toBe(0);
  expect(agentAnswer(run)).toMatchObject({ text: FINAL_ANSWER });
  expect(run.model.requests.map((r) => [r.api, r.call, r.stream])).toEqual([
    [api, 0, run.variant],
    [api, 1, run.variant],
  ]);
  // The figures the tests write out by hand come from these numbers.
  expectScenarioFigures();
}

/** Runs test/fixtures/frameworks/<framework>/agent.ts in its own Node process with `env` added to ours. */
async function runAgentProcess(
  framework: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = path.join(REPO, 'test/fixtures/frameworks', framework, 'agent.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  // 'close', not 'exit': it waits until stdout and stderr are read to the end.
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** The agent's printed answer: its last stdout line that is a JSON object (some frameworks log to stdout too). */
export function agentAnswer(run: { stdout: string }): Record<string, unknown> {
  const line =
    run.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop() ?? '{}';
  return JSON.parse(line) as Record<string, unknown>;
}

/** Every span of a capture's OTLP/JSON trace requests. */
function capturedSpans(capture: OtlpCapture): CapturedSpan[] {
  return traceRequests(capture).flatMap((req) => {
    const body = JSON.parse(req.raw.toString('utf8')) as {
      resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: CapturedSpan[] }> }>;
    };
    return (body.resourceSpans ?? []).flatMap((rs) => (rs.scopeSpans ?? []).flatMap((ss) => ss.spans ?? []));
  });
}

/** The capture's trace requests; a run that exported none fails here rather than comparing nothing. */
function traceRequests(capture: OtlpCapture): CapturedOtlpRequest[] {
  const traces = capture.captured.filter((c) => c.path === '/v1/traces');
  expect(traces.length).toBeGreaterThan(0);
  return traces;
}

/** Is the session root the trace root (frameworks without an agent span)? */
export function isTraceRoot(span: CapturedSpan): boolean {
  return !span.parentSpanId;
}

/** The value of a span attribute, whatever its OTLP value type. */
export function spanAttr(span: CapturedSpan, key: string): unknown {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  return value ? Object.values(value)[0] : undefined;
}

/** Spans by start time, then span id (frameworks stamp whole milliseconds, so concurrent tools often tie). */
export function byStart(spans: readonly CapturedSpan[]): CapturedSpan[] {
  return [...spans].sort((a, b) => {
    const d = BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano);
    return d !== 0n ? (d < 0n ? -1 : 1) : a.spanId < b.spanId ? -1 : 1;
  });
}

/** The newest span end, in nanoseconds. */
export function maxEnd(spans: readonly CapturedSpan[]): string {
  return spans.reduce((max, s) => (BigInt(s.endTimeUnixNano) > BigInt(max) ? s.endTimeUnixNano : max), '0');
}

/** Nanoseconds since the epoch → ISO with milliseconds, truncated (as Date does). */
export function nanosToIso(nanos: string): string {
  return new Date(Number(BigInt(nanos) / 1_000_000n)).toISOString();
}

/** Nanoseconds since the epoch → ISO to the second, as session titles show it. */
export function nanosToIsoSeconds(nanos: string): string {
  return `${nanosToIso(nanos).slice(0, 19)}Z`;
}

/** 32 hex digits (a trace id) → lowercase UUID. */
export function hexToUuid(hex: string): string {
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** RFC 4122 v5 UUID in sessiongraph's namespace (SPEC §4). */
export function uuidV5(name: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(NAMESPACE.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  return hexToUuid(hash.subarray(0, 16).toString('hex'));
}

/** Rounds like the stored Decimal(18,9). */
function round9(n: number): number {
  return Number(n.toFixed(9));
}

/** The genai-prices provider of a stand-in's API. */
export type PricedProvider = 'openai' | 'google' | 'anthropic';

/** USD of scenario call `i` as src/pricing/pricer.ts prices one call (input includes the cache), unrounded. */
export function priceOfCall(i: 0 | 1, model: string, provider: PricedProvider, at = new Date()): number {
  const call = CALLS[i];
  // Only Anthropic has a cache-write bucket; OpenAI and Gemini count CALLS[0]'s 200 "written" tokens as plain input.
  const cacheWrite = provider === 'anthropic' ? call.cacheWrite : 0;
  const usage = {
    input_tokens: call.input,
    output_tokens: call.output,
    cache_read_tokens: call.cacheRead,
    cache_write_tokens: cacheWrite,
  };
  const price = calcPrice(usage, model, { providerId: provider, timestamp: at });
  if (!price) throw new Error(`genai-prices does not price ${model}`);
  return price.total_price;
}

/** USD of both scenario calls, summed and rounded like the stored Decimal(18,9). */
export function priceOfScenario(model: string, provider: PricedProvider, at: Date): number {
  return round9(priceOfCall(0, model, provider, at) + priceOfCall(1, model, provider, at));
}

/** Checks the scenario's token counts, from which the tests' expected figures are written out. */
function expectScenarioFigures(): void {
  expect(CALLS).toEqual([
    { input: 1200, cacheRead: 800, cacheWrite: 200, output: 150, reasoning: 100 },
    { input: 1500, cacheRead: 1200, cacheWrite: 0, output: 60, reasoning: 20 },
  ]);
}

/** The answer of `GET /api/sessions/:id`. */
interface SessionAnswer {
  session: Record<string, unknown>;
  agent_definition: unknown;
  decisions: unknown[];
}

/** The session once the collector has rolled its root up (the exporter's acks are durable, so this is quick). */
async function fetchSession(base: string, id: string): Promise<SessionAnswer> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await fetch(`${base}/api/sessions/${id}`);
    if (res.status === 200) {
      const answer = (await res.json()) as SessionAnswer;
      if (answer.session.session_status !== 'active' || Date.now() > deadline) return answer;
    } else if (Date.now() > deadline) {
      throw new Error(`GET /api/sessions/${id}: ${res.status} ${await res.text()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The hand-computed session (every field but updated_at; cost unrounded is fine) and agent definition. */
export interface ExpectedSession {
  session: Record<string, unknown> & { id: string; cost: number };
  agentDefinition: Record<string, unknown>;
}

/**
 * Compares the API's answer with the hand computation: no decisions, then every session field and
 * every agent definition field, each as a table of { field: { expected, actual } } for the fields
 * that differ (soft for the session, so the definition's table is reported too); costs compare at
 * 9 decimals, as stored.
 */
function expectSession(got: SessionAnswer, expected: ExpectedSession): void {
  expect(got.decisions).toEqual([]);
  const { updated_at: _updated, ...session } = got.session;
  // A cost that is not a number is left as it is, so the table shows it instead of round9 throwing.
  const cost = typeof session.cost === 'number' ? round9(session.cost) : session.cost;
  expect
    .soft(differingFields({ ...session, cost }, { ...expected.session, cost: round9(expected.session.cost) }))
    .toEqual({});
  expect(differingFields(got.agent_definition as Record<string, unknown>, expected.agentDefinition)).toEqual({});
}

/** The fields whose values differ (either side missing counts), with both values. */
function differingFields(
  actual: Record<string, unknown>,
  expected: Record<string, unknown>,
): Record<string, { expected: unknown; actual: unknown }> {
  const out: Record<string, { expected: unknown; actual: unknown }> = {};
  for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    if (!isDeepStrictEqual(actual[key], expected[key])) out[key] = { expected: expected[key], actual: actual[key] };
  }
  return out;
}

/** test/fixtures/golden/<parts…>: where a framework's golden fixture lives. */
export function goldenDir(...parts: string[]): string {
  return path.join(REPO, 'test/fixtures/golden', ...parts);
}

/** The installed version of a package (for a golden fixture's `about`). */
export function packageVersion(pkg: string): string {
  return (
    JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }
  ).version;
}

/** What a golden fixture's expected.json says besides the requests: provenance, expected rows, arithmetic. */
export interface GoldenExpectations extends ExpectedSession {
  about: string;
  calculation: string[];
}

/**
 * Under `RECORD_GOLDEN=1` only: saves a run's captured trace requests byte for byte as
 * `dir`/request-N.(json|pb), replacing the old ones, and with `expectations` also writes
 * `dir`/expected.json (cost rounded as stored); a thunk, so nothing is read when not recording.
 */
export function recordGolden(
  dir: string,
  run: { capture: OtlpCapture },
  expectations?: () => GoldenExpectations,
): void {
  if (!RECORD_GOLDEN) return;
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) if (/^request-\d+\.(json|pb)$/.test(f)) fs.rmSync(path.join(dir, f));
  const requests = traceRequests(run.capture).map((req, i) => {
    const file = `request-${i + 1}.${req.contentType.includes('json') ? 'json' : 'pb'}`;
    fs.writeFileSync(path.join(dir, file), req.raw);
    return { file, contentType: req.contentType };
  });
  if (!expectations) return;
  const { about, session, agentDefinition, calculation } = expectations();
  const expected = {
    about,
    requests,
    session: { ...session, cost: round9(session.cost) },
    agent_definition: agentDefinition,
    decisions: [],
    calculation,
  };
  fs.writeFileSync(path.join(dir, 'expected.json'), `${JSON.stringify(expected, null, 2)}\n`);
}
