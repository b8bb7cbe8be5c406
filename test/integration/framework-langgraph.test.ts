/**
 * LangChain JS `createAgent` (a LangGraph graph) with ChatOpenAI, traced by OpenInference's
 * LangChain instrumentation through a NodeTracerProvider + OTLP/HTTP JSON exporter, plays
 * scenario.ts against the OpenAI stand-in in a child process; its export goes through a capture
 * server to a real collector, and the session must equal the one worked out by hand below.
 * The agent runs twice, the model answering as JSON, then streamed (SSE): same session both ways.
 * `RECORD_GOLDEN=1` also writes the JSON run's captured requests and these expectations to
 * test/fixtures/golden/langgraph/ (the golden test replays them without LangChain).
 */
import { describe, it } from 'vitest';
import {
  ANSWER_MODES,
  byStart,
  expectOpenAiScenarioPlayed,
  goldenDir,
  hexToUuid,
  isTraceRoot,
  maxEnd,
  nanosToIso,
  packageVersion,
  priceOfCall,
  recordGolden,
  spanAttr,
  useOpenAiAgentRuns,
  uuidV5,
} from '../helpers/framework-run.ts';
import { OPENAI_MODEL, OPENAI_RESPONSE_MODEL } from '../helpers/stand-ins/openai.ts';
import { FINAL_ANSWER, USER_INPUT } from '../helpers/stand-ins/scenario.ts';

const FRAMEWORK = 'langgraph';

// The session root: the trace root (the graph's CHAIN span).
const runs = useOpenAiAgentRuns(FRAMEWORK, isTraceRoot);

describe.each(ANSWER_MODES)('LangChain createAgent (LangGraph) + OpenInference, $mode → sessiongraph', ({ stream }) => {
  it('plays the scenario: two Chat Completions calls, both tools, the final answer', () => {
    expectOpenAiScenarioPlayed(runs.run(stream), 'chat');
  });

  it('the session, its agent definition and decisions equal the hand-computed ones', async () => {
    const run = runs.run(stream);
    // No AGENT span: OpenInference maps LangChain runs to CHAIN / LLM / TOOL only. The session
    // root is the trace root, the graph's CHAIN span named after the agent ('weather-agent').
    const { root, spans } = runs.session(stream); // one run, one trace
    // Tool spans (oi TOOL) in order of first call: start time, then span id. LangChain stamps
    // run starts in whole milliseconds and the tools node runs both calls concurrently, so
    // they usually start in the same millisecond and the span id decides.
    const toolOrder = byStart(spans.filter((s) => spanAttr(s, 'openinference.span.kind') === 'TOOL')).map((s) =>
      spanAttr(s, 'tool.name'),
    );
    const start = nanosToIso(root.startTimeUnixNano);
    const lastEnd = maxEnd(spans);
    const definitionId = uuidV5('agent:weather-langgraph/weather-agent');

    const session = {
      id: hexToUuid(root.traceId),
      type: 'agent_session',
      title: `weather-agent · ${start.slice(0, 19)}Z`, // agent name · session_start to the second
      // root input.value (application/json) {"messages":[{"role":"user","content": USER_INPUT}]}: its first user message
      description: USER_INPUT,
      status: 'completed', // = session_status
      tags: [],
      session_start: start, // root start
      session_end: nanosToIso(root.endTimeUnixNano), // root end
      turns: 2, // no explicit turn count → the 2 LLM-call spans ('ChatOpenAI', oi LLM)
      tokens_used: 1350 + 1560, // llm.token_count.total of the two LLM spans; the CHAIN spans carry no usage
      // genai-prices gpt-4.1-mini (the exported name) prices exactly as the answered snapshot gpt-4.1-mini-2025-04-14:
      // (400×0.4 + 800×0.1 + 150×1.6)/1e6 + (300×0.4 + 1200×0.1 + 60×1.6)/1e6 = 0.00048 + 0.000336 = 0.000816
      cost: priceOfCall(0, OPENAI_RESPONSE_MODEL, 'openai') + priceOfCall(1, OPENAI_RESPONSE_MODEL, 'openai'),
      unpriced_models: [], // no llm.provider / llm.system on the spans: the model id alone must price it
      tools_invoked: toolOrder, // get_weather and lookup_city, in the order above
      tool_call_count: 2, // two oi TOOL spans
      error_count: 1, // TOOL lookup_city: status ERROR + exception event (one span); ToolNode turned the throw into an error ToolMessage
      session_status: 'completed', // root status OK
      // root output.value: {"messages":[…LangChain serialized messages…]}: the last AIMessage's content
      output_summary: FINAL_ANSWER,
      trace_id: root.traceId,
      root_span_id: root.spanId,
      agent_definition_id: definitionId, // uuidV5('agent:weather-langgraph/weather-agent')
      agent_name: 'weather-agent', // no agent-name key: the root's span name (createAgent name; also metadata.lc_agent_name)
      service_name: 'weather-langgraph',
      environment: '',
      conversation_id: 'thread-paris-1', // session.id, from configurable.thread_id
      user_id: '',
      input_tokens: 1200 + 1500, // llm.token_count.prompt, cache included (OpenAI's prompt_tokens)
      output_tokens: 150 + 60, // llm.token_count.completion, reasoning included
      cache_read_tokens: 800 + 1200, // llm.token_count.prompt_details.cache_read
      cache_write_tokens: 0, // OpenAI reports no cache writes
      reasoning_tokens: 100 + 20, // llm.token_count.completion_details.reasoning
      // llm.model_name is the REQUESTED model: the answered snapshot gpt-4.1-mini-2025-04-14 is only inside
      // output.value (response_metadata.model_name of the serialized AIMessage)
      models: [OPENAI_MODEL],
      llm_call_count: 2,
      // weather-agent, __start__, 2 × model_request, 2 × ChatOpenAI, 2 × RunnableLambda (the routing edge), 2 × tools, get_weather, lookup_city
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
      agent_key: 'weather-langgraph/weather-agent', // service.name / agent name (no agent id)
      agent_name: 'weather-agent',
      agent_id: '',
      version: '',
      service_name: 'weather-langgraph',
      first_seen: session.session_start, // this run alone (the golden fixture holds one session)
      last_seen: session.last_span_at,
    };

    // The golden fixture is the run with JSON answers.
    if (!stream) {
      recordGolden(goldenDir(FRAMEWORK), run, () => ({
        about: `REAL capture of langchain ${packageVersion('langchain')} createAgent (@langchain/langgraph ${packageVersion('@langchain/langgraph')}, @langchain/core ${packageVersion('@langchain/core')}, @langchain/openai ${packageVersion('@langchain/openai')} ChatOpenAI, Chat Completions, not streamed) traced by @arizeai/openinference-instrumentation-langchain ${packageVersion('@arizeai/openinference-instrumentation-langchain')} (manuallyInstrument on the ESM @langchain/core/callbacks/manager) through a NodeTracerProvider + OTLP/HTTP JSON exporter, against the OpenAI stand-in, playing test/helpers/stand-ins/scenario.ts with configurable.thread_id 'thread-paris-1'. Tree (all CHAIN unless said): weather-agent (root, input.value/output.value JSON, session.id) → __start__, 2 × model_request → ChatOpenAI (oi LLM: llm.model_name = requested 'gpt-4.1-mini', llm.token_count.{prompt,completion,total,prompt_details.cache_read,completion_details.reasoning}, llm.input_messages / llm.output_messages, no llm.provider / llm.system) + RunnableLambda, 2 × tools → get_weather / lookup_city (oi TOOL, tool.name, input.value text/plain; lookup_city status ERROR + exception event). Both tool spans start in the same millisecond.`,
        session,
        agentDefinition,
        calculation: [
          'root: no AGENT span; the trace root CHAIN span named weather-agent',
          'usage from the 2 oi LLM spans only: input 1200 + 1500 = 2700 (cache included), output 150 + 60 = 210, cache_read 800 + 1200 = 2000, reasoning 100 + 20 = 120, tokens_used (total key) 1350 + 1560 = 2910',
          'cost, genai-prices gpt-4.1-mini, no provider on the spans (input 0.4, cache_read 0.1, output 1.6 per 1M): (400×0.4 + 800×0.1 + 150×1.6)/1e6 = 0.00048; (300×0.4 + 1200×0.1 + 60×1.6)/1e6 = 0.000336; total 0.000816',
          'tools: oi TOOL spans ordered by start, then span id (same start millisecond)',
          'errors: TOOL lookup_city (status ERROR, exception event) = 1; root OK → completed',
          'description = first user message of the root input.value; output_summary = last AIMessage content in the root output.value; conversation_id = session.id',
        ],
      }));
    }

    // The collector holds both runs' sessions of this one definition.
    await runs.expectStoredSession({ session, agentDefinition: { ...agentDefinition, ...runs.definitionSeen() } });
  });
});
