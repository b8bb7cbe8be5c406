/**
 * Mastra (@mastra/core + @mastra/observability + @mastra/otel-exporter, OTLP/HTTP JSON) plays
 * scenario.ts against the OpenAI stand-in in a child process; its export goes through a capture
 * server to a real collector, and the session must equal the one worked out by hand below.
 * The agent runs twice, the model answering as JSON, then streamed (SSE): same session both ways.
 * `RECORD_GOLDEN=1` also writes the JSON run's captured requests and these expectations to
 * test/fixtures/golden/mastra/ (the golden test replays them without Mastra).
 */
import { describe, it } from 'vitest';
import {
  ANSWER_MODES,
  byStart,
  expectOpenAiScenarioPlayed,
  goldenDir,
  hexToUuid,
  maxEnd,
  nanosToIso,
  packageVersion,
  priceOfCall,
  recordGolden,
  spanAttr,
  useOpenAiAgentRuns,
  uuidV5,
} from '../helpers/framework-run.ts';
import { OPENAI_RESPONSE_MODEL } from '../helpers/stand-ins/openai.ts';
import { FINAL_ANSWER, USER_INPUT } from '../helpers/stand-ins/scenario.ts';

const FRAMEWORK = 'mastra';

// The session root: Mastra's AGENT_RUN span (op invoke_agent).
const runs = useOpenAiAgentRuns(FRAMEWORK, (s) => spanAttr(s, 'gen_ai.operation.name') === 'invoke_agent');

describe.each(ANSWER_MODES)('Mastra agent, $mode → sessiongraph', ({ stream }) => {
  it('plays the scenario: two Responses calls, both tools, the final answer', () => {
    expectOpenAiScenarioPlayed(runs.run(stream), 'responses');
  });

  it('the session, its agent definition and decisions equal the hand-computed ones', async () => {
    const run = runs.run(stream);
    // The session root: Mastra's AGENT_RUN span, `invoke_agent weather-agent` (op invoke_agent).
    const { root, spans } = runs.session(stream); // one run, one trace
    // Tool spans in order of first call: start time, then span id (Mastra stamps whole
    // milliseconds, and the two tools run concurrently, so they may start in the same one).
    const toolOrder = byStart(spans.filter((s) => spanAttr(s, 'gen_ai.operation.name') === 'execute_tool')).map((s) =>
      spanAttr(s, 'gen_ai.tool.name'),
    );
    const start = nanosToIso(root.startTimeUnixNano);
    const lastEnd = maxEnd(spans);
    const definitionId = uuidV5('agent:weather-mastra/weather-agent');

    const session = {
      id: hexToUuid(root.traceId),
      type: 'agent_session',
      title: `weather-agent · ${start.slice(0, 19)}Z`, // agent name · session_start to the second
      description: USER_INPUT, // root mastra.agent_run.input: the user's text as a plain string
      status: 'completed', // = session_status
      tags: [], // no mastra.tags / tag.tags
      session_start: start, // root start
      session_end: nanosToIso(root.endTimeUnixNano), // root end
      turns: 2, // no explicit turn count → the 2 LLM-call spans (`chat gpt-4.1-mini`, op chat, mastra.span.type model_inference)
      tokens_used: 1350 + 1560, // (1200 + 150) + (1500 + 60): the two chat spans; model_generation / agent_step / invoke_agent carry no usage
      cost: priceOfCall(0, OPENAI_RESPONSE_MODEL, 'openai') + priceOfCall(1, OPENAI_RESPONSE_MODEL, 'openai'), // (400×0.4 + 800×0.1 + 150×1.6)/1e6 + (300×0.4 + 1200×0.1 + 60×1.6)/1e6 = 0.00048 + 0.000336 = 0.000816
      unpriced_models: [],
      tools_invoked: toolOrder, // ['get_weather', 'lookup_city'] unless both started in the same ms (then by span id)
      tool_call_count: 2, // two execute_tool spans
      error_count: 1, // execute_tool lookup_city: status ERROR + error.type 'unknown' + exception event → one span
      session_status: 'completed', // root status OK (the tool error was handled by the agent)
      output_summary: FINAL_ANSWER, // root mastra.agent_run.output {"text": FINAL_ANSWER, "files": []}
      trace_id: root.traceId,
      root_span_id: root.spanId,
      agent_definition_id: definitionId, // uuidV5('agent:weather-mastra/weather-agent'): gen_ai.agent.id 'weather-agent'
      agent_name: 'weather-agent', // gen_ai.agent.name
      service_name: 'weather-mastra', // Observability config serviceName → resource service.name
      environment: '',
      conversation_id: 'thread-paris-1', // gen_ai.conversation.id (memory.thread passed to generate)
      user_id: '', // Mastra exports the memory resource only as mastra.metadata.resourceId ('user-42'), not a user-id key
      input_tokens: 1200 + 1500, // gen_ai.usage.input_tokens of both calls, cached included (OpenAI counts cache inside input)
      output_tokens: 150 + 60, // gen_ai.usage.output_tokens, reasoning included
      cache_read_tokens: 800 + 1200, // gen_ai.usage.cache_read.input_tokens
      cache_write_tokens: 0, // OpenAI reports no cache writes (CALLS[0].cacheWrite 200 is plain input there)
      reasoning_tokens: 100 + 20, // gen_ai.usage.reasoning_tokens (Mastra's key)
      models: [OPENAI_RESPONSE_MODEL], // gen_ai.response.model 'gpt-4.1-mini-2025-04-14' (request model gpt-4.1-mini)
      llm_call_count: 2, // two chat spans
      // invoke_agent + model_generation + 2 agent_step + 2 chat + 2 execute_tool + 4 model_chunk (2 tool-call chunks
      // and a bookkeeping chunk in call 1, one text chunk in call 2)
      span_count: 12,
      duration_ms: Number(BigInt(root.endTimeUnixNano) - BigInt(root.startTimeUnixNano)) / 1e6,
      last_span_at: nanosToIso(lastEnd),
    };
    const agentDefinition = {
      id: definitionId,
      type: 'agent_definition',
      title: 'weather-agent',
      description: '',
      status: 'active',
      tags: [],
      agent_key: 'weather-mastra/weather-agent', // service.name / gen_ai.agent.id
      agent_name: 'weather-agent',
      agent_id: 'weather-agent', // gen_ai.agent.id
      version: '',
      service_name: 'weather-mastra',
      first_seen: session.session_start, // this run alone (the golden fixture holds one session)
      last_seen: session.last_span_at,
    };

    // The golden fixture is the run with JSON answers.
    if (!stream) {
      recordGolden(goldenDir(FRAMEWORK), run, () => ({
        about: `REAL capture of @mastra/core ${packageVersion('@mastra/core')} + @mastra/observability ${packageVersion('@mastra/observability')} + @mastra/otel-exporter ${packageVersion('@mastra/otel-exporter')} (custom provider, OTLP/HTTP JSON): Agent 'weather-agent' with model router 'openai/gpt-4.1-mini' (AI SDK OpenAI provider, Responses API, not streamed) against the OpenAI stand-in, playing test/helpers/stand-ins/scenario.ts; generate() with memory thread 'thread-paris-1' / resource 'user-42' and no Memory configured. Tree: invoke_agent weather-agent (op invoke_agent, mastra.agent_run.input / .output) → model_generation gpt-4.1-mini (op model_generation, no usage) → 2 × agent_step (op agent_step, raw response body in mastra.metadata.body) → chat gpt-4.1-mini (op chat, gen_ai.usage.* incl. cache_read.input_tokens and reasoning_tokens, gen_ai.response.model) with model_chunk children, and 2 × execute_tool (lookup_city: status ERROR, error.type 'unknown', exception event). Mastra also exported OTLP logs (not replayed here).`,
        session,
        agentDefinition,
        calculation: [
          'root: the only invoke_agent span (Mastra AGENT_RUN); no parent',
          'usage from the 2 chat spans only: input 1200 + 1500 = 2700 (cache included), output 150 + 60 = 210, cache_read 800 + 1200 = 2000, reasoning 100 + 20 = 120, tokens_used 1350 + 1560 = 2910',
          'cost, genai-prices gpt-4.1-mini (input 0.4, cache_read 0.1, output 1.6 per 1M): (400×0.4 + 800×0.1 + 150×1.6)/1e6 = 0.00048; (300×0.4 + 1200×0.1 + 60×1.6)/1e6 = 0.000336; total 0.000816',
          'errors: execute_tool lookup_city (status ERROR, error.type, exception event) = 1; root OK → completed',
          'description = mastra.agent_run.input; output_summary = text of mastra.agent_run.output; conversation_id = gen_ai.conversation.id',
        ],
      }));
    }

    // The collector holds both runs' sessions of this one definition.
    await runs.expectStoredSession({ session, agentDefinition: { ...agentDefinition, ...runs.definitionSeen() } });
  });
});
