/**
 * The OpenAI Agents SDK (JS) with OpenInference's OpenAI client instrumentation (its own tracing
 * speaks no OTLP) through a NodeTracerProvider + OTLP/HTTP JSON exporter, the run wrapped in one
 * plain application span, plays scenario.ts against the OpenAI stand-in in a child process; its
 * export goes through a capture server to a real collector, and the session must equal the one
 * worked out by hand below: what an honest collector can show from three spans.
 * The agent runs twice, the model answering as JSON, then streamed (SSE): same session both ways.
 * `RECORD_GOLDEN=1` also writes the JSON run's captured requests and these expectations to
 * test/fixtures/golden/openai-agents/ (the golden test replays them without the SDK).
 */
import { describe, expect, it } from 'vitest';
import {
  ANSWER_MODES,
  expectOpenAiScenarioPlayed,
  goldenDir,
  hexToUuid,
  isTraceRoot,
  maxEnd,
  nanosToIso,
  packageVersion,
  priceOfCall,
  recordGolden,
  useOpenAiAgentRuns,
  uuidV5,
} from '../helpers/framework-run.ts';
import { OPENAI_RESPONSE_MODEL } from '../helpers/stand-ins/openai.ts';
import { FINAL_ANSWER, USER_INPUT } from '../helpers/stand-ins/scenario.ts';

const FRAMEWORK = 'openai-agents';

// The session root: the trace root (the application's wrapper span).
const runs = useOpenAiAgentRuns(FRAMEWORK, isTraceRoot);

describe.each(ANSWER_MODES)(
  'OpenAI Agents SDK + OpenInference OpenAI instrumentation, $mode → sessiongraph',
  ({ stream }) => {
    it('plays the scenario: two Responses calls, both tools, the final answer', () => {
      const run = runs.run(stream);
      expectOpenAiScenarioPlayed(run, 'responses');
      // The SDK ran both tools: their outputs (the throw replaced by the SDK's error text) went back to the model.
      const outputs = (
        run.model.requests[1]?.body as { input: Array<{ type?: string; call_id?: string }> }
      ).input.filter((i) => i.type === 'function_call_output');
      expect(outputs.map((o) => o.call_id)).toEqual(['call_weather_1', 'call_lookup_2']);
    });

    it('the session, its agent definition and decisions equal the hand-computed ones', async () => {
      const run = runs.run(stream);
      // No agent, tool or chain span exists: the root is the application's wrapper span 'weather-agent'
      // (no attributes, status UNSET); its children are the two 'OpenAI Responses' spans (oi LLM).
      const { root, spans } = runs.session(stream); // one run, one trace (thanks to the wrapper span)
      const start = nanosToIso(root.startTimeUnixNano);
      const lastEnd = maxEnd(spans);
      const definitionId = uuidV5('agent:weather-openai-agents/weather-agent');

      const session = {
        id: hexToUuid(root.traceId),
        type: 'agent_session',
        title: `weather-agent · ${start.slice(0, 19)}Z`, // agent name · session_start to the second
        // The root has no input; the earliest span with one is call 1, whose input.value is the whole Responses
        // request {"model":…,"instructions":…,"input":[{"role":"user","content": USER_INPUT}],…}
        // (llm.input_messages.0 is the system instructions, .1 the user): its first user message.
        description: USER_INPUT,
        status: 'completed', // = session_status
        tags: [],
        session_start: start, // root start
        session_end: nanosToIso(root.endTimeUnixNano), // root end
        turns: 2, // no explicit turn count → the 2 LLM-call spans ('OpenAI Responses', oi LLM)
        tokens_used: 1350 + 1560, // llm.token_count.total of the two LLM spans
        cost: priceOfCall(0, OPENAI_RESPONSE_MODEL, 'openai') + priceOfCall(1, OPENAI_RESPONSE_MODEL, 'openai'), // (400×0.4 + 800×0.1 + 150×1.6)/1e6 + (300×0.4 + 1200×0.1 + 60×1.6)/1e6 = 0.000816
        unpriced_models: [],
        // NOT EXPORTED as spans: the SDK runs tools without any OTel span. What an honest collector can still
        // show: the model's two function calls (llm.output_messages.{0,1}.message.tool_calls.0.tool_call.function.name
        // with tool_call.id call_weather_1 / call_lookup_2 on call 1) whose results come back as role 'tool' input
        // messages with those tool_call_ids in call 2, i.e. both tools were invoked, in that order.
        tools_invoked: ['get_weather', 'lookup_city'],
        tool_call_count: 2,
        // NOT EXPORTED: lookup_city threw, but the SDK's default errorFunction handed the model the text
        // "An error occurred while running the tool. Please try again." and no span carries an error.
        error_count: 0,
        session_status: 'completed', // root ended, status UNSET
        // The root has no output: the run ends with its last LLM call's answer
        // (llm.output_messages.0.message.contents.0.message_content.text of call 2)
        output_summary: FINAL_ANSWER,
        trace_id: root.traceId,
        root_span_id: root.spanId,
        agent_definition_id: definitionId, // uuidV5('agent:weather-openai-agents/weather-agent')
        agent_name: 'weather-agent', // no agent-name key anywhere: the root's span name
        service_name: 'weather-openai-agents',
        environment: '',
        conversation_id: '', // NOT EXPORTED: no session / conversation key (the SDK's groupId lives only in its own tracing)
        user_id: '',
        input_tokens: 1200 + 1500, // llm.token_count.prompt, cache included (Responses input_tokens)
        output_tokens: 150 + 60, // llm.token_count.completion, reasoning included
        cache_read_tokens: 800 + 1200, // llm.token_count.prompt_details.cache_read
        cache_write_tokens: 0, // OpenAI reports no cache writes
        reasoning_tokens: 100 + 20, // llm.token_count.completion_details.reasoning
        models: [OPENAI_RESPONSE_MODEL], // llm.model_name, overwritten with the response's model on success
        llm_call_count: 2,
        span_count: 3, // weather-agent + 2 × OpenAI Responses
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
        agent_key: 'weather-openai-agents/weather-agent', // service.name / agent name (no agent id)
        agent_name: 'weather-agent',
        agent_id: '',
        version: '',
        service_name: 'weather-openai-agents',
        first_seen: session.session_start, // this run alone (the golden fixture holds one session)
        last_seen: session.last_span_at,
      };

      // The golden fixture is the run with JSON answers.
      if (!stream) {
        recordGolden(goldenDir(FRAMEWORK), run, () => ({
          about: `REAL capture of @openai/agents ${packageVersion('@openai/agents')} (its own openai ${packageVersion('@openai/agents-openai/node_modules/openai')}, Responses API, not streamed; SDK tracing disabled: it has no OTLP route) traced by @arizeai/openinference-instrumentation-openai ${packageVersion('@arizeai/openinference-instrumentation-openai')} (manuallyInstrument on the ESM build of the openai copy the SDK imports) through a NodeTracerProvider + OTLP/HTTP JSON exporter, against the OpenAI stand-in, playing test/helpers/stand-ins/scenario.ts. The run is wrapped in one plain application span 'weather-agent' (scope weather-app, no attributes, status UNSET) so it is one trace. Tree: weather-agent → 2 × 'OpenAI Responses' (oi LLM: llm.model_name = response model, llm.system 'openai', no llm.provider for a non-OpenAI host, input.value = the whole request JSON, output.value = the whole response JSON, llm.input_messages / llm.output_messages with tool_calls and contents.N.message_content.text, llm.token_count.{prompt,completion,total,prompt_details.cache_read,completion_details.reasoning}). No agent, tool or error span: tool calls are visible only as the model's function calls and the next call's tool messages.`,
          session,
          agentDefinition,
          calculation: [
            'root: the trace root, the plain wrapper span weather-agent (no class); status UNSET, ended → completed',
            'usage from the 2 oi LLM spans: input 1200 + 1500 = 2700 (cache included), output 150 + 60 = 210, cache_read 800 + 1200 = 2000, reasoning 100 + 20 = 120, tokens_used (total key) 1350 + 1560 = 2910',
            'cost, genai-prices gpt-4.1-mini-2025-04-14 → gpt-4.1-mini (input 0.4, cache_read 0.1, output 1.6 per 1M): (400×0.4 + 800×0.1 + 150×1.6)/1e6 = 0.00048; (300×0.4 + 1200×0.1 + 60×1.6)/1e6 = 0.000336; total 0.000816',
            'tools (no tool spans): the function calls of call 1 in output order, get_weather (call_weather_1) then lookup_city (call_lookup_2), both answered by role tool messages in call 2 → 2 calls',
            'errors: none exported (the SDK turned the throw into a text for the model) → 0',
            'description = first user message of call 1 (input.value is the whole request); output_summary = the text of the last LLM call (root has no output)',
          ],
        }));
      }

      // The collector holds both runs' sessions of this one definition.
      await runs.expectStoredSession({ session, agentDefinition: { ...agentDefinition, ...runs.definitionSeen() } });
    });
  },
);
