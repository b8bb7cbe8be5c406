/**
 * Field lookups from CONVENTIONS.md ("Fields"): for each field the keys in priority order,
 * first present wins. Pure: attributes in, values out.
 */
import {
  firstNumber,
  firstOf,
  lastIndexed,
  roleText,
  stringList,
  tryJson,
  unwrapJsonString,
  type Attrs,
} from './attributes.ts';
import { inputText, outputText } from './message-text.ts';

/** Token counts of one span, after the "input includes cached tokens" correction. */
export interface TokenUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
  total: number;
}

const KEYS = {
  agentId: ['gen_ai.agent.id'],
  agentVersion: ['gen_ai.agent.version'],
  agentDescription: ['gen_ai.agent.description'],
  conversationId: [
    'gen_ai.conversation.id',
    'session.id',
    'langfuse.session.id',
    'ai.telemetry.metadata.sessionId',
    'ai.telemetry.metadata.conversationId',
    'traceloop.association.properties.session_id',
  ],
  userId: ['user.id', 'langfuse.user.id', 'ai.telemetry.metadata.userId', 'traceloop.association.properties.user_id'],
  model: [
    'langfuse.observation.model.name',
    'gen_ai.response.model',
    'llm.response.model_name',
    'llm.model_name',
    'ai.response.model',
    'gen_ai.request.model',
    'llm.request.model_name',
    'ai.model.id',
  ],
  provider: ['gen_ai.provider.name', 'gen_ai.system', 'llm.provider', 'llm.system'],
  input: [
    'gen_ai.usage.input_tokens',
    'gen_ai.usage.prompt_tokens',
    'llm.token_count.prompt',
    'ai.usage.inputTokens',
    'ai.usage.promptTokens',
  ],
  output: [
    'gen_ai.usage.output_tokens',
    'gen_ai.usage.completion_tokens',
    'llm.token_count.completion',
    'ai.usage.outputTokens',
    'ai.usage.completionTokens',
  ],
  cacheRead: [
    'gen_ai.usage.cache_read.input_tokens',
    'gen_ai.usage.input_tokens.cached',
    'gen_ai.usage.cache_read_input_tokens',
    'llm.token_count.prompt_details.cache_read',
    'ai.usage.inputTokenDetails.cacheReadTokens',
    'ai.usage.cachedInputTokens',
  ],
  cacheWrite: [
    'gen_ai.usage.cache_write.input_tokens',
    'gen_ai.usage.input_tokens.cache_write',
    'gen_ai.usage.cache_creation.input_tokens',
    'gen_ai.usage.cache_creation_input_tokens',
    'llm.token_count.prompt_details.cache_write',
    'ai.usage.inputTokenDetails.cacheWriteTokens',
  ],
  reasoning: [
    'gen_ai.usage.reasoning.output_tokens',
    'gen_ai.usage.output_tokens.reasoning',
    'gen_ai.usage.reasoning_tokens',
    'llm.token_count.completion_details.reasoning',
    'ai.usage.outputTokenDetails.reasoningTokens',
    'ai.usage.reasoningTokens',
  ],
  total: ['gen_ai.usage.total_tokens', 'llm.usage.total_tokens', 'llm.token_count.total', 'ai.usage.totalTokens'],
  turns: ['gen_ai.conversation.turns', 'sessiongraph.turns'],
  tags: ['tag.tags', 'langfuse.trace.tags', 'session.tags'],
  environment: ['deployment.environment.name', 'deployment.environment'],
} as const;

/** Agent name: the convention keys, else the span name without an `invoke_agent ` prefix. */
export function agentName(attrs: Attrs, spanName: string): string {
  const tl = attrs['traceloop.span.kind'];
  const entity = tl === 'agent' || tl === 'workflow' ? attrs['traceloop.entity.name'] : undefined;
  return (
    firstOf(attrs, ['gen_ai.agent.name', 'agent.name']) ??
    (entity || undefined) ??
    firstOf(attrs, [
      'gen_ai.workflow.name',
      'traceloop.workflow.name',
      'ai.telemetry.functionId',
      'langfuse.trace.name',
    ]) ??
    spanName.replace(/^invoke_agent /, '')
  );
}

/** `gen_ai.agent.id`, `gen_ai.agent.version`, `gen_ai.agent.description` ('' when absent). */
export function agentIdentity(attrs: Attrs): { id: string; version: string; description: string } {
  return {
    id: firstOf(attrs, KEYS.agentId) ?? '',
    version: firstOf(attrs, KEYS.agentVersion) ?? '',
    description: firstOf(attrs, KEYS.agentDescription) ?? '',
  };
}

/** Conversation (session) id of the framework, '' when absent. */
export function conversationId(attrs: Attrs): string {
  return firstOf(attrs, KEYS.conversationId) ?? '';
}

/** End-user id, '' when absent. */
export function userId(attrs: Attrs): string {
  return firstOf(attrs, KEYS.userId) ?? '';
}

/** Model used for pricing, '' when absent. */
export function modelName(attrs: Attrs): string {
  return firstOf(attrs, KEYS.model) ?? '';
}

/**
 * Provider id as the framework names it ('' when absent), the text before the first `.`: the
 * AI SDK's provider ids (`openai.chat`, `anthropic.messages`) name an API of the provider.
 */
export function providerName(attrs: Attrs): string {
  const named = firstOf(attrs, KEYS.provider) ?? attrs['ai.model.provider'] ?? '';
  return named.split('.')[0] ?? '';
}

/**
 * Claude Code's `claude_code.llm_request` spans carry bare `input_tokens`, `output_tokens`,
 * `cache_read_tokens`, `cache_creation_tokens` (Anthropic's meaning), read only on those spans.
 */
const CLAUDE_CODE_KEYS = {
  input: ['input_tokens'],
  output: ['output_tokens'],
  cacheRead: ['cache_read_tokens'],
  cacheWrite: ['cache_creation_tokens'],
} as const;

/** Who emitted a span, for the one question numbers cannot answer: does its input count include the cache? */
export interface Emitter {
  scopeName: string;
  spanName: string;
  resource?: Attrs;
}

/**
 * Token usage of a span, or undefined when it reports none (no input, output or total key).
 * Input includes cached tokens and output includes reasoning tokens (OpenTelemetry's meaning);
 * emitters that pass Anthropic's counts unchanged (input excludes cache reads and writes) are
 * corrected, decided by who they are (inputExcludesCache), never guessed from the numbers.
 */
export function tokenUsage(attrs: Attrs, emitter: Emitter = { scopeName: '', spanName: '' }): TokenUsage | undefined {
  const claudeCode = isClaudeCodeLlmRequest(attrs, emitter);
  const keys = claudeCode ? CLAUDE_CODE_KEYS : KEYS;
  const rawInput = tokenCount(attrs, keys.input);
  const rawOutput = tokenCount(attrs, keys.output);
  const total = claudeCode ? undefined : tokenCount(attrs, KEYS.total);
  if (rawInput === undefined && rawOutput === undefined && total === undefined) return undefined;
  const gemini = geminiUsage(attrs);
  const cacheRead = tokenCount(attrs, keys.cacheRead) ?? gemini?.cacheRead ?? 0;
  const cacheWrite = tokenCount(attrs, keys.cacheWrite) ?? 0;
  const reasoning = tokenCount(attrs, KEYS.reasoning) ?? gemini?.reasoning ?? 0;
  let input = rawInput ?? 0;
  if (claudeCode || inputExcludesCache(attrs, emitter, input, cacheRead + cacheWrite)) input += cacheRead + cacheWrite;
  let output = rawOutput ?? 0;
  // Gemini's candidatesTokenCount leaves the thoughts out; OpenTelemetry's output includes them.
  if (gemini && gemini.reasoning > 0 && output === gemini.candidates) output += gemini.reasoning;
  // A total below input + output is a total of another meaning (e.g. Anthropic's, before the cache).
  return { input, output, cacheRead, cacheWrite, reasoning, total: Math.max(total ?? 0, input + output) };
}

function isClaudeCodeLlmRequest(attrs: Attrs, emitter: Emitter): boolean {
  return attrs['span.type'] === 'llm_request' || emitter.spanName === 'claude_code.llm_request';
}

/**
 * True when the span's input count leaves the cache out (Anthropic's meaning). Decided by who
 * emitted it: Strands and OpenLLMetry's Anthropic instrumentation pass Anthropic's usage through
 * unchanged (verified in their sources / captures), while instrumentations following the GenAI
 * conventions (the AI SDK, OpenInference, Langfuse) include the cache. Numbers can only prove
 * the exclusive meaning — an input smaller than its own cache — never the inclusive one.
 */
function inputExcludesCache(attrs: Attrs, emitter: Emitter, input: number, cached: number): boolean {
  if (input < cached) return true;
  // Strands names its scope and gen_ai.system after the service; its resource says strands.
  const strands = /strands/i.test(emitter.scopeName) || emitter.resource?.['service.namespace'] === 'strands';
  // Anthropic's own API names models `claude-…`; Bedrock's (`anthropic.claude-…`, inclusive counts) do not start so.
  if (strands) return /^claude-/.test(modelName(attrs));
  return (
    providerName(attrs).toLowerCase() === 'anthropic' &&
    /^(@traceloop\/)?(opentelemetry\.)?instrumentation[.-]anthropic/i.test(emitter.scopeName)
  );
}

/** Gemini's `usageMetadata` inside ADK's `gcp.vertex.agent.llm_response` (its only copy of cache and thinking tokens). */
function geminiUsage(attrs: Attrs): { cacheRead: number; reasoning: number; candidates: number } | undefined {
  const response = attrs['gcp.vertex.agent.llm_response'];
  if (response === undefined) return undefined;
  const usage =
    (tryJson(response) as
      { usageMetadata?: Record<string, unknown>; usage_metadata?: Record<string, unknown> } | undefined) ?? {};
  const meta = usage.usageMetadata ?? usage.usage_metadata;
  if (typeof meta !== 'object' || meta === null) return undefined;
  const n = (camel: string, snake: string): number => {
    const v = Number(meta[camel] ?? meta[snake] ?? 0);
    return Number.isFinite(v) && v > 0 ? Math.round(v) : 0;
  };
  return {
    cacheRead: n('cachedContentTokenCount', 'cached_content_token_count'),
    reasoning: n('thoughtsTokenCount', 'thoughts_token_count'),
    candidates: n('candidatesTokenCount', 'candidates_token_count'),
  };
}

/** A token count: a whole, non-negative, safe integer (negative or fractional values are clamped, not trusted). */
function tokenCount(attrs: Attrs, keys: readonly string[]): number | undefined {
  const n = firstNumber(attrs, keys);
  return n === undefined ? undefined : Math.min(Math.max(0, Math.round(n)), Number.MAX_SAFE_INTEGER);
}

/** A cost the instrumentation computed itself (USD), or undefined. */
export function precomputedCost(attrs: Attrs): number | undefined {
  const details = attrs['langfuse.observation.cost_details'];
  if (details !== undefined) {
    const parsed = tryJson(details);
    if (typeof parsed === 'object' && parsed !== null) {
      const entries = Object.entries(parsed as Record<string, unknown>).filter(
        (e): e is [string, number] => typeof e[1] === 'number',
      );
      const total = entries.find(([k]) => k === 'total');
      if (total) return total[1];
      if (entries.length > 0) return entries.reduce((sum, [, v]) => sum + v, 0);
    }
  }
  const direct = firstNumber(attrs, ['gen_ai.usage.cost', 'llm.cost.total', 'operation.cost']);
  if (direct !== undefined) return direct;
  const prompt = firstNumber(attrs, ['llm.cost.prompt']);
  const completion = firstNumber(attrs, ['llm.cost.completion']);
  return prompt === undefined && completion === undefined ? undefined : (prompt ?? 0) + (completion ?? 0);
}

/** Tool name: the convention keys, else the span name without `execute_tool ` or `.tool`. */
export function toolName(attrs: Attrs, spanName: string): string {
  const entity = attrs['traceloop.span.kind'] === 'tool' ? attrs['traceloop.entity.name'] : undefined;
  return (
    firstOf(attrs, ['gen_ai.tool.name', 'tool.name', 'ai.toolCall.name']) ??
    (entity || undefined) ??
    spanName.replace(/^execute_tool /, '').replace(/\.tool$/, '')
  );
}

/** A tool call a model asked for in its answer. */
export interface RequestedToolCall {
  id: string;
  name: string;
}

/**
 * The tool calls an LLM span's answer asks for, in order: OpenInference's flattened
 * `llm.output_messages.{i}.message.tool_calls.{k}.tool_call.*`, the GenAI `tool_call` parts of
 * `gen_ai.output.messages`, OpenLLMetry's `gen_ai.completion.{i}.tool_calls.{k}.*`.
 */
export function requestedToolCalls(attrs: Attrs): RequestedToolCall[] {
  const flat = new Map<string, RequestedToolCall & { order: number[] }>();
  for (const [key, value] of Object.entries(attrs)) {
    const m =
      /^llm\.output_messages\.(\d+)\.message\.tool_calls\.(\d+)\.tool_call\.(id|function\.name)$/.exec(key) ??
      /^gen_ai\.completion\.(\d+)\.tool_calls\.(\d+)\.(id|name)$/.exec(key);
    if (!m) continue;
    const slot = `${m[1]}.${m[2]}`;
    const call = flat.get(slot) ?? { id: '', name: '', order: [Number(m[1]), Number(m[2])] };
    if (m[3] === 'id') call.id = value;
    else call.name = value;
    flat.set(slot, call);
  }
  if (flat.size > 0) {
    return [...flat.values()]
      .sort((a, b) => (a.order[0] ?? 0) - (b.order[0] ?? 0) || (a.order[1] ?? 0) - (b.order[1] ?? 0))
      .filter((c) => c.name !== '')
      .map(({ id, name }) => ({ id, name }));
  }
  const messages = tryJson(attrs['gen_ai.output.messages'] ?? '');
  if (!Array.isArray(messages)) return [];
  return messages.flatMap((message: unknown) => {
    const parts = (message as { parts?: unknown }).parts;
    if (!Array.isArray(parts)) return [];
    return parts
      .filter(
        (p: unknown): p is { id?: unknown; name: string } =>
          (p as { type?: unknown }).type === 'tool_call' && typeof (p as { name?: unknown }).name === 'string',
      )
      .map((p) => ({ id: typeof p.id === 'string' ? p.id : '', name: p.name }));
  });
}

/** A tool call's id, '' when absent. */
export function toolCallId(attrs: Attrs): string {
  return firstOf(attrs, ['gen_ai.tool.call.id', 'tool_call.id', 'ai.toolCall.id', 'tool.call_id', 'tool_use_id']) ?? '';
}

/** A span event as the conventions need it. */
export interface EventAttrs {
  name: string;
  attributes: Attrs;
}

/** The span's final output text (last assistant message, output value, …), or ''. */
export function finalOutput(attrs: Attrs, events: readonly EventAttrs[]): string {
  // Strands sends one details event per kind of content (instructions, input, output).
  const details = events
    .filter(
      (e) =>
        e.name === 'gen_ai.client.inference.operation.details' && e.attributes['gen_ai.output.messages'] !== undefined,
    )
    .at(-1);
  const choice = events.filter((e) => e.name === 'gen_ai.choice').at(-1);
  // In priority order, each read only when the ones before found nothing: this runs for every
  // span at ingest, and the indexed lookups scan every attribute key.
  const candidates: Array<() => string | undefined> = [
    () => roleText(attrs['gen_ai.output.messages'], 'assistant', 'last'),
    () => roleText(details?.attributes['gen_ai.output.messages'], 'assistant', 'last'),
    () =>
      firstOf(attrs, [
        'output.value',
        'traceloop.entity.output',
        'ai.response.text',
        'langfuse.trace.output',
        'mastra.agent_run.output',
        'gcp.vertex.agent.llm_response',
      ]),
    () => lastIndexed(attrs, 'gen_ai.completion.', '.content'),
    () => lastIndexed(attrs, 'llm.output_messages.', '.message.content'),
    () => responsesOutputText(attrs),
    () => firstOf(choice?.attributes ?? {}, ['message', 'content']),
  ];
  let found: string | undefined;
  for (const candidate of candidates) {
    found = candidate();
    if (found !== undefined && found !== '') break;
  }
  if (found === undefined || found === '') return '';
  return isPlainText(attrs, 'output') ? unwrapJsonString(found) : outputText(unwrapJsonString(found));
}

/** OpenInference says `text/plain`: the value is the text, even when it looks like JSON. */
function isPlainText(attrs: Attrs, which: 'input' | 'output'): boolean {
  return attrs[`${which}.mime_type`] === 'text/plain';
}

/** OpenInference's Responses-API output: `llm.output_messages.{i}.message.contents.{k}.message_content.text`. */
function responsesOutputText(attrs: Attrs): string | undefined {
  const texts = Object.entries(attrs)
    .map(([key, value]) => ({
      m: /^llm\.output_messages\.(\d+)\.message\.contents\.(\d+)\.message_content\.text$/.exec(key),
      value,
    }))
    .filter((e): e is { m: RegExpExecArray; value: string } => e.m !== null && e.value !== '')
    .sort((a, b) => Number(a.m[1]) - Number(b.m[1]) || Number(a.m[2]) - Number(b.m[2]));
  return texts.length > 0 ? texts.map((t) => t.value).join('\n') : undefined;
}

/** The span's first user input text, or ''. */
export function firstInput(attrs: Attrs, events: readonly EventAttrs[] = []): string {
  const fromMessages = roleText(attrs['gen_ai.input.messages'], 'user', 'first');
  if (fromMessages) return fromMessages;
  const details = events.find(
    (e) =>
      e.name === 'gen_ai.client.inference.operation.details' && e.attributes['gen_ai.input.messages'] !== undefined,
  );
  const fromDetails = roleText(details?.attributes['gen_ai.input.messages'], 'user', 'first');
  if (fromDetails) return fromDetails;
  const value = firstOf(attrs, [
    'input.value',
    'traceloop.entity.input',
    'mastra.agent_run.input',
    'user_prompt',
    'gcp.vertex.agent.llm_request',
  ]);
  if (value !== undefined)
    return isPlainText(attrs, 'input') ? unwrapJsonString(value) : inputText(unwrapJsonString(value));
  const prompt = attrs['ai.prompt'];
  if (prompt !== undefined) return aiPromptText(prompt);
  const userEvent = events.find((e) => e.name === 'gen_ai.user.message');
  const fromEvent = userEvent ? firstOf(userEvent.attributes, ['content', 'message']) : undefined;
  if (fromEvent !== undefined) return inputText(fromEvent);
  return attrs['llm.input_messages.0.message.content'] ?? '';
}

/** Vercel AI SDK `ai.prompt`: `{"prompt": "…"}` or `{"messages": [...]}` (first user message). */
function aiPromptText(prompt: string): string {
  const parsed = tryJson(prompt) as { prompt?: unknown; messages?: unknown } | undefined;
  if (typeof parsed?.prompt === 'string') return parsed.prompt;
  if (Array.isArray(parsed?.messages)) return roleText(JSON.stringify(parsed.messages), 'user', 'first') ?? prompt;
  return prompt;
}

/**
 * True when the span failed: status Error, `error.type`, an `exception` event, Langfuse level
 * ERROR, or a tool response that is an error (ADK reports a failing tool only as a
 * `functionResponse` whose response is `{"error": …}`, on its merged tool span).
 */
export function isError(attrs: Attrs, statusCode: string, events: readonly EventAttrs[]): boolean {
  return (
    statusCode === 'Error' ||
    attrs['error.type'] !== undefined ||
    events.some((e) => e.name === 'exception') ||
    (attrs['langfuse.observation.level'] ?? '').toUpperCase() === 'ERROR' ||
    toolResponseIsError(attrs['gcp.vertex.agent.tool_response'])
  );
}

function toolResponseIsError(response: string | undefined): boolean {
  if (response === undefined || !response.includes('"error"')) return false;
  const parsed = tryJson(response) as { error?: unknown; content?: { parts?: unknown } } | undefined;
  if (parsed?.error !== undefined) return true;
  const parts = parsed?.content?.parts;
  return (
    Array.isArray(parts) &&
    parts.some(
      (p: unknown) =>
        (p as { functionResponse?: { response?: { error?: unknown } } }).functionResponse?.response?.error !==
        undefined,
    )
  );
}

/** Explicit turn count on a root span, if any. */
export function explicitTurns(attrs: Attrs): number | undefined {
  const n = firstNumber(attrs, KEYS.turns);
  return n !== undefined && Number.isInteger(n) && n >= 0 && n <= 0xffffffff ? n : undefined;
}

/** Tags from span and resource tag attributes. */
export function tags(spanAttrs: Attrs, resourceAttrs: Attrs): string[] {
  return [...new Set(KEYS.tags.flatMap((k) => [...stringList(spanAttrs[k]), ...stringList(resourceAttrs[k])]))];
}

/** Deployment environment from span or resource attributes, '' when absent. */
export function environment(spanAttrs: Attrs, resourceAttrs: Attrs): string {
  return firstOf(spanAttrs, KEYS.environment) ?? firstOf(resourceAttrs, KEYS.environment) ?? '';
}

/** A tool call's arguments as the span carries them ('' when absent). */
export function toolArguments(attrs: Attrs): string {
  return (
    firstOf(attrs, [
      'gen_ai.tool.call.arguments',
      'tool.parameters',
      'ai.toolCall.args',
      'input.value',
      'traceloop.entity.input',
    ]) ?? ''
  );
}

/** A tool call's result as the span carries it ('' when absent). */
export function toolResult(attrs: Attrs): string {
  return (
    firstOf(attrs, ['gen_ai.tool.call.result', 'ai.toolCall.result', 'output.value', 'traceloop.entity.output']) ?? ''
  );
}

/** An LLM call's input (the messages or prompt as sent), '' when absent. */
export function llmInput(attrs: Attrs): string {
  const direct = firstOf(attrs, [
    'gen_ai.input.messages',
    'input.value',
    'ai.prompt.messages',
    'ai.prompt',
    'traceloop.entity.input',
  ]);
  if (direct !== undefined) return direct;
  const flattened = Object.entries(attrs)
    .map(([key, value]) => ({
      m: /^(?:llm\.input_messages|gen_ai\.prompt)\.(\d+)\.(?:message\.)?content$/.exec(key),
      value,
    }))
    .filter((e): e is { m: RegExpExecArray; value: string } => e.m !== null)
    .sort((a, b) => Number(a.m[1]) - Number(b.m[1]));
  return flattened.map((e) => e.value).join('\n');
}
