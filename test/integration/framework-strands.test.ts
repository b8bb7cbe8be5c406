/**
 * Strands Agents (TypeScript, @strands-agents/sdk 1.19.0) with the Anthropic model provider plays
 * the scenario of test/helpers/stand-ins/scenario.ts against the Anthropic stand-in (streaming
 * Messages API: Strands' AnthropicModel always streams), in a child process with Strands' own
 * telemetry setup (`setupTracer({ exporters: { otlp: true } })`, OTLP/HTTP JSON), exporting
 * through a capture server to a real collector. The session the API returns must equal the
 * session worked out by hand from the scenario, field by field; once with Strands' default
 * (older) GenAI conventions and once with `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`.
 *
 * What Strands exports (the lead maps it in src/conventions): `invoke_agent weather-agent`
 * (op invoke_agent, gen_ai.agent.name/id, trace attributes, the RUN'S SUMMED usage) →
 * `execute_agent_loop_cycle` ×2 (no op, no usage) → `chat` (op chat) and `execute_tool <name>`
 * (op execute_tool, the failing one with status ERROR + exception event). `gen_ai.system` (or
 * `gen_ai.provider.name`) is the SERVICE NAME, not the provider. Usage keeps Anthropic's meaning:
 * `gen_ai.usage.input_tokens` EXCLUDES cache reads and writes, and `gen_ai.usage.total_tokens` =
 * that exclusive input + output. Input and output text are in span events, never attributes:
 * default `gen_ai.user.message` (`content`) and `gen_ai.choice` (`message`); latest
 * `gen_ai.client.inference.operation.details` (`gen_ai.input.messages` / `gen_ai.output.messages`).
 *
 * Re-capture the golden fixture (test/fixtures/golden/strands/request-*.json) with
 * `RECORD_GOLDEN=1 npx vitest run test/integration/framework-strands.test.ts` (it also
 * writes the latest-conventions run to test/fixtures/golden/strands/latest-conventions/), then
 * update the times and ids in the expected.json files by hand.
 */
import { describe, expect, it } from 'vitest';
import {
  agentAnswer,
  goldenDir,
  hexToUuid,
  maxEnd,
  nanosToIso,
  nanosToIsoSeconds,
  priceOfScenario,
  recordGolden,
  useFrameworkRuns,
  uuidV5,
} from '../helpers/framework-run.ts';
import { startAnthropicStandIn } from '../helpers/stand-ins/anthropic.ts';
import { FINAL_ANSWER, TOOL_CALLS, USER_INPUT } from '../helpers/stand-ins/scenario.ts';

// Constants of the agent (test/fixtures/frameworks/strands/agent.ts), repeated so the test does not load Strands.
const SERVICE = 'weather-service';
const STRANDS_AGENT_NAME = 'weather-agent';
const STRANDS_AGENT_ID = 'weather-agent-v1';
const STRANDS_MODEL = 'claude-sonnet-4-5';
const STRANDS_SESSION_ID = 'strands-weather-session-1';
const STRANDS_USER_ID = 'user-1';

const variants = [
  { name: 'default conventions', optIn: '', golden: goldenDir('strands') },
  // Kept as a second fixture in a subfolder (golden.test.ts reads only the top level).
  {
    name: 'gen_ai_latest_experimental',
    optIn: 'gen_ai_latest_experimental',
    golden: goldenDir('strands', 'latest-conventions'),
  },
];

// Both variants run the same agent into one collector: its definition spans both sessions.
const runs = useFrameworkRuns({
  framework: 'strands',
  variants,
  startModel: startAnthropicStandIn,
  env: (anthropic, variant) => ({
    OTEL_SERVICE_NAME: SERVICE,
    OTEL_SEMCONV_STABILITY_OPT_IN: variant.optIn,
    ANTHROPIC_BASE_URL: anthropic.url,
    ANTHROPIC_API_KEY: 'stand-in-key',
  }),
  // The session root (SPEC §3): `invoke_agent weather-agent` (op invoke_agent), the trace's root span.
  isRoot: (s) => s.name === `invoke_agent ${STRANDS_AGENT_NAME}`,
});

describe('Strands agent (Anthropic) → collector', () => {
  for (const variant of variants) {
    it(`${variant.name}: the session equals the hand computation from scenario.ts`, async () => {
      const run = runs.run(variant);
      expect(run.code, run.stderr + run.stdout).toBe(0);
      expect(String(agentAnswer(run).final).trim()).toBe(FINAL_ANSWER);

      // The model saw the scenario: call 1 without tool results, call 2 with both of them.
      expect(run.model.requests.map((r) => [r.model, r.stream, r.call])).toEqual([
        [STRANDS_MODEL, true, 0],
        [STRANDS_MODEL, true, 1],
      ]);
      expect(toolResultIds(run.model.requests[1]?.body)).toEqual(TOOL_CALLS.map((t) => t.id));

      recordGolden(variant.golden, run);
      const { root: r, spans } = runs.session(variant);
      const traceId = r.traceId;
      const seen = runs.definitionSeen();

      const definitionId = uuidV5(`agent:${SERVICE}/${STRANDS_AGENT_ID}`);
      const expected = {
        id: hexToUuid(traceId), // the trace id as a UUID
        type: 'agent_session',
        title: `${STRANDS_AGENT_NAME} · ${nanosToIsoSeconds(r.startTimeUnixNano)}`, // agent name · root start
        description: USER_INPUT, // root's first user message: event gen_ai.user.message content (default) / operation.details gen_ai.input.messages (latest)
        status: 'completed', // = session_status
        tags: [], // no tag attributes
        session_start: nanosToIso(r.startTimeUnixNano), // root start
        session_end: nanosToIso(r.endTimeUnixNano), // root end
        turns: 2, // two chat spans, no explicit turn count
        tokens_used: 1200 + 150 + (1500 + 60), // Σ (input incl. cache + output) = 1350 + 1560; NOT Strands' total_tokens 350 + 360 (cache left out)
        cost: priceOfScenario(STRANDS_MODEL, 'anthropic', new Date(Number(BigInt(r.startTimeUnixNano) / 1_000_000n))), // genai-prices claude-sonnet-4-5 per call, summed
        unpriced_models: [], // claude-sonnet-4-5 is in the table (matched on the model id: gen_ai.system is the service name)
        tools_invoked: ['get_weather', 'lookup_city'], // by first call
        tool_call_count: 2, // two execute_tool spans
        error_count: 1, // execute_tool lookup_city: status ERROR + exception event
        session_status: 'completed', // root ended with status OK
        output_summary: FINAL_ANSWER, // root's gen_ai.choice event `message` (default) / operation.details gen_ai.output.messages (latest)
        trace_id: traceId,
        root_span_id: r.spanId,
        agent_definition_id: definitionId, // uuidV5('agent:weather-service/weather-agent-v1')
        agent_name: STRANDS_AGENT_NAME, // gen_ai.agent.name
        service_name: SERVICE, // resource service.name (OTEL_SERVICE_NAME; Strands' default is 'strands-agents')
        environment: 'development', // resource deployment.environment: Strands' default (OTEL_DEPLOYMENT_ENVIRONMENT unset)
        conversation_id: STRANDS_SESSION_ID, // root session.id (the agent's traceAttributes)
        user_id: STRANDS_USER_ID, // root user.id (the agent's traceAttributes)
        input_tokens: 1200 + 1500, // exported exclusive (200 + 300) + cache_read (800 + 1200) + cache_creation (200 + 0)
        output_tokens: 150 + 60, // gen_ai.usage.output_tokens
        cache_read_tokens: 800 + 1200, // gen_ai.usage.cache_read.input_tokens
        cache_write_tokens: 200 + 0, // gen_ai.usage.cache_creation.input_tokens (absent on call 2: Strands omits zeros)
        reasoning_tokens: 0, // Anthropic's usage has no reasoning bucket (CALLS' 100 + 20 are inside output_tokens): nothing exported
        models: [STRANDS_MODEL], // gen_ai.request.model (Strands exports no response model)
        llm_call_count: 2, // two chat spans
        span_count: 7, // invoke_agent, 2 execute_agent_loop_cycle, 2 chat, 2 execute_tool
        duration_ms: Number(BigInt(r.endTimeUnixNano) - BigInt(r.startTimeUnixNano)) / 1e6,
        last_span_at: nanosToIso(maxEnd(spans)), // newest span end of the trace
      };
      await runs.expectStoredSession({
        session: expected,
        agentDefinition: {
          id: definitionId,
          type: 'agent_definition',
          title: STRANDS_AGENT_NAME,
          description: '', // Strands does not export the agent's description
          status: 'active',
          tags: [],
          agent_key: `${SERVICE}/${STRANDS_AGENT_ID}`, // service.name / gen_ai.agent.id
          agent_name: STRANDS_AGENT_NAME,
          agent_id: STRANDS_AGENT_ID,
          version: '',
          service_name: SERVICE,
          first_seen: seen.first_seen, // earliest session start of this agent in this collector
          last_seen: seen.last_seen, // newest span end of any of its sessions
        },
      });
    });
  }
});

/** The tool_use ids of the tool_result blocks an Anthropic request carries (the tool results sent back). */
function toolResultIds(body: unknown): string[] {
  const messages = (body as { messages?: Array<{ content?: unknown }> }).messages ?? [];
  return messages.flatMap((m) =>
    Array.isArray(m.content)
      ? (m.content as Array<{ type?: string; tool_use_id?: string }>).flatMap((b) =>
          b.type === 'tool_result' && b.tool_use_id ? [b.tool_use_id] : [],
        )
      : [],
  );
}
