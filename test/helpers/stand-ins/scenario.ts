/**
 * The one agent run every framework test plays (issue: right numbers for real frameworks): one
 * user input, two model calls with cached and reasoning tokens, two tool calls of which one
 * throws, a final answer. The model stand-ins (one module per provider API) answer with these
 * exact contents and token counts, written in each provider's own usage shape, so every
 * session field has a hand computation.
 */

/** What the user asks. */
export const USER_INPUT = 'What is the weather in Paris, and how many people live in Atlantis?';

/** The tools the agent is given; `lookup_city` throws for Atlantis. */
export const TOOLS = {
  get_weather: { description: 'Current weather for a city', result: 'Paris: 18°C, sunny' },
  lookup_city: { description: 'Population of a city', error: 'unknown city: Atlantis' },
} as const;

/** The tool calls the first model answer asks for, in this order, with their call ids. */
export const TOOL_CALLS = [
  { id: 'call_weather_1', name: 'get_weather', arguments: { city: 'Paris' } },
  { id: 'call_lookup_2', name: 'lookup_city', arguments: { city: 'Atlantis' } },
] as const;

/** The agent's final answer (the second model call's text). */
export const FINAL_ANSWER = 'Paris is 18°C and sunny. I could not find Atlantis, so I cannot tell its population.';

/**
 * Token counts of the two model calls, canonical: `input` is ALL prompt tokens (uncached +
 * cache read + cache write), `output` is ALL generated tokens (visible + reasoning).
 * Providers that have no cache-write bucket (OpenAI, Gemini) count `cacheWrite` as uncached input.
 */
export const CALLS = [
  { input: 1200, cacheRead: 800, cacheWrite: 200, output: 150, reasoning: 100 },
  { input: 1500, cacheRead: 1200, cacheWrite: 0, output: 60, reasoning: 20 },
] as const;

/** Usage as the OpenAI Chat Completions API reports it (prompt includes cached; completion includes reasoning). */
export function openAiChatUsage(call: (typeof CALLS)[number]): Record<string, unknown> {
  return {
    prompt_tokens: call.input,
    completion_tokens: call.output,
    total_tokens: call.input + call.output,
    prompt_tokens_details: { cached_tokens: call.cacheRead, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: call.reasoning,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** Usage as the OpenAI Responses API reports it. */
export function openAiResponsesUsage(call: (typeof CALLS)[number]): Record<string, unknown> {
  return {
    input_tokens: call.input,
    input_tokens_details: { cached_tokens: call.cacheRead },
    output_tokens: call.output,
    output_tokens_details: { reasoning_tokens: call.reasoning },
    total_tokens: call.input + call.output,
  };
}

/** Usage as the Anthropic Messages API reports it: input EXCLUDES cache reads and writes; no reasoning bucket. */
export function anthropicUsage(call: (typeof CALLS)[number]): Record<string, unknown> {
  return {
    input_tokens: call.input - call.cacheRead - call.cacheWrite,
    cache_read_input_tokens: call.cacheRead,
    cache_creation_input_tokens: call.cacheWrite,
    output_tokens: call.output,
  };
}

/** Usage as the Gemini API reports it: candidates EXCLUDE thoughts; prompt includes cached content. */
export function geminiUsage(call: (typeof CALLS)[number]): Record<string, unknown> {
  return {
    promptTokenCount: call.input,
    cachedContentTokenCount: call.cacheRead,
    candidatesTokenCount: call.output - call.reasoning,
    thoughtsTokenCount: call.reasoning,
    totalTokenCount: call.input + call.output,
  };
}
