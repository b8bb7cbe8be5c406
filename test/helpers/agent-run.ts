/**
 * A synthetic but realistic agent run in OTLP/JSON (OpenTelemetry GenAI conventions) whose
 * trace id is a parameter, so the same run can be delivered many ways into one store.
 */
import { Dice } from '../../src/demo/workload.ts';

type Attr = { key: string; value: Record<string, unknown> };
export type OtlpSpan = Record<string, unknown> & { spanId: string; parentSpanId?: string; name: string };

const str = (key: string, v: string): Attr => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): Attr => ({ key, value: { intValue: String(v) } });
const T0 = 1795000000000000000n; // 2026-11-18T...
const at = (ms: number): string => String(T0 + BigInt(ms) * 1_000_000n);

/** The spans of one run: root agent, sub-agent, 3 LLM calls, 4 tool calls (one failing), 2 decisions. */
export function agentRunSpans(traceId: string): OtlpSpan[] {
  const span = (
    spanId: string,
    parent: string,
    name: string,
    start: number,
    end: number,
    attributes: Attr[],
    extra: Record<string, unknown> = {},
  ): OtlpSpan => ({
    traceId,
    spanId,
    ...(parent ? { parentSpanId: parent } : {}),
    name,
    kind: 1,
    startTimeUnixNano: at(start),
    endTimeUnixNano: at(end),
    attributes,
    ...extra,
  });
  const chat = (model: string, input: number, output: number, cacheRead: number, cacheWrite: number): Attr[] => [
    str('gen_ai.operation.name', 'chat'),
    str('gen_ai.provider.name', 'anthropic'),
    str('gen_ai.request.model', model),
    int('gen_ai.usage.input_tokens', input),
    int('gen_ai.usage.output_tokens', output),
    int('gen_ai.usage.cache_read.input_tokens', cacheRead),
    int('gen_ai.usage.cache_creation.input_tokens', cacheWrite),
  ];
  const tool = (name: string): Attr[] => [str('gen_ai.operation.name', 'execute_tool'), str('gen_ai.tool.name', name)];
  return [
    span('a000000000000001', '', 'invoke_agent roadmap-triage', 0, 10_000, [
      str('gen_ai.operation.name', 'invoke_agent'),
      str('gen_ai.agent.name', 'roadmap-triage'),
      str('gen_ai.conversation.id', 'nightly-2026-11-18'),
      str(
        'gen_ai.input.messages',
        JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'Triage the roadmap' }] }]),
      ),
      str(
        'gen_ai.output.messages',
        JSON.stringify([
          { role: 'assistant', parts: [{ type: 'text', content: 'Deprecate export and legacy-sync.' }] },
        ]),
      ),
      int('gen_ai.usage.input_tokens', 99_999), // the summed usage trap: must not count
      int('gen_ai.usage.output_tokens', 9_999),
    ]),
    span(
      'b000000000000001',
      'a000000000000001',
      'chat claude-sonnet-4-5',
      100,
      1_100,
      chat('claude-sonnet-4-5', 5000, 300, 0, 4000),
    ),
    span('b000000000000002', 'a000000000000001', 'execute_tool read_metrics', 1_200, 1_500, tool('read_metrics')),
    span('b000000000000003', 'a000000000000001', 'execute_tool read_backlog', 1_600, 1_900, tool('read_backlog'), {
      status: { code: 2, message: 'backlog service returned 503' },
      events: [
        {
          name: 'exception',
          timeUnixNano: at(1_890),
          attributes: [str('exception.type', 'HttpError'), str('exception.message', '503')],
        },
      ],
    }),
    span('b000000000000004', 'a000000000000001', 'invoke_agent feature-usage', 2_000, 6_000, [
      str('gen_ai.operation.name', 'invoke_agent'),
      str('gen_ai.agent.name', 'feature-usage'),
      int('gen_ai.usage.input_tokens', 4000),
    ]),
    span('c000000000000001', 'b000000000000004', 'chat gpt-4o', 2_100, 3_000, [
      ...chat('gpt-4o', 4000, 200, 3000, 0).map((a) => (a.key === 'gen_ai.provider.name' ? str(a.key, 'openai') : a)),
    ]),
    span('c000000000000002', 'b000000000000004', 'execute_tool query_usage', 3_100, 5_900, tool('query_usage')),
    span(
      'b000000000000005',
      'a000000000000001',
      'chat claude-sonnet-4-5',
      6_100,
      8_000,
      chat('claude-sonnet-4-5', 9000, 700, 4000, 0),
      {
        events: [
          {
            name: 'decision',
            timeUnixNano: at(7_990),
            attributes: [str('decision.title', 'Deprecate legacy-sync'), str('decision.rationale', '0.3% weekly use')],
          },
        ],
      },
    ),
    span('b000000000000006', 'a000000000000001', 'decide deprecate-export', 8_100, 8_200, [
      str('decision.title', 'Deprecate export'),
      str('decision.rationale', 'export is used by 0.2% of accounts'),
      {
        key: 'decision.tags',
        value: { arrayValue: { values: [{ stringValue: 'roadmap' }, { stringValue: 'deprecation' }] } },
      },
    ]),
    span('b000000000000007', 'a000000000000001', 'execute_tool read_metrics', 8_300, 8_600, tool('read_metrics')),
  ];
}

/** An OTLP/JSON export request body holding `spans`. */
export function exportBody(spans: readonly OtlpSpan[], service = 'product-ops'): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', service), str('deployment.environment.name', 'production')] },
        scopeSpans: [{ scope: { name: 'agent' }, spans }],
      },
    ],
  });
}

/** Deterministic PRNG for reproducible shuffles and fuzzing: the demo's seeded dice. */
export function seededRandom(seed: number): () => number {
  const dice = new Dice(seed);
  return () => dice.next();
}

/** A shuffled copy (Fisher–Yates). */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
