/**
 * Field lookups from CONVENTIONS.md ("Fields"): for each field the keys in priority order,
 * first present wins. Pure: attributes in, values out.
 */
import { firstNumber, firstOf, lastIndexed, roleText, stringList, tryJson, unwrapJsonString, type Attrs } from './attributes.ts';

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
  input: ['gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens', 'llm.token_count.prompt', 'ai.usage.inputTokens', 'ai.usage.promptTokens'],
  output: [
    'gen_ai.usage.output_tokens',
    'gen_ai.usage.completion_tokens',
    'llm.token_count.completion',
    'ai.usage.outputTokens',
    'ai.usage.completionTokens',
  ],
  cacheRead: [
    'gen_ai.usage.cache_read.input_tokens',
    'gen_ai.usage.cache_read_input_tokens',
    'llm.token_count.prompt_details.cache_read',
    'ai.usage.inputTokenDetails.cacheReadTokens',
    'ai.usage.cachedInputTokens',
  ],
  cacheWrite: [
    'gen_ai.usage.cache_creation.input_tokens',
    'gen_ai.usage.cache_creation_input_tokens',
    'llm.token_count.prompt_details.cache_write',
    'ai.usage.inputTokenDetails.cacheWriteTokens',
  ],
  reasoning: [
    'gen_ai.usage.reasoning.output_tokens',
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
    firstOf(attrs, ['gen_ai.workflow.name', 'traceloop.workflow.name', 'ai.telemetry.functionId', 'langfuse.trace.name']) ??
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

/** Provider id as the framework names it ('' when absent); `ai.model.provider` keeps the text before the first `.`. */
export function providerName(attrs: Attrs): string {
  const direct = firstOf(attrs, KEYS.provider);
  if (direct !== undefined) return direct;
  return (attrs['ai.model.provider'] ?? '').split('.')[0] ?? '';
}

/** Token usage of a span, or undefined when it reports none (no input, output or total key). */
export function tokenUsage(attrs: Attrs): TokenUsage | undefined {
  const rawInput = tokenCount(attrs, KEYS.input);
  const output = tokenCount(attrs, KEYS.output);
  const total = tokenCount(attrs, KEYS.total);
  if (rawInput === undefined && output === undefined && total === undefined) return undefined;
  const cacheRead = tokenCount(attrs, KEYS.cacheRead) ?? 0;
  const cacheWrite = tokenCount(attrs, KEYS.cacheWrite) ?? 0;
  let input = rawInput ?? 0;
  // Input should include cached tokens; some instrumentations send it exclusive (CONVENTIONS.md pitfalls).
  if (input < cacheRead + cacheWrite) input += cacheRead + cacheWrite;
  const out = output ?? 0;
  return { input, output: out, cacheRead, cacheWrite, reasoning: tokenCount(attrs, KEYS.reasoning) ?? 0, total: total ?? input + out };
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
      const entries = Object.entries(parsed as Record<string, unknown>).filter((e): e is [string, number] => typeof e[1] === 'number');
      const total = entries.find(([k]) => k === 'total');
      if (total) return total[1];
      if (entries.length > 0) return entries.reduce((sum, [, v]) => sum + v, 0);
    }
  }
  const direct = firstNumber(attrs, ['gen_ai.usage.cost', 'llm.cost.total']);
  if (direct !== undefined) return direct;
  const prompt = firstNumber(attrs, ['llm.cost.prompt']);
  const completion = firstNumber(attrs, ['llm.cost.completion']);
  return prompt === undefined && completion === undefined ? undefined : (prompt ?? 0) + (completion ?? 0);
}

/** Tool name: the convention keys, else the span name without `execute_tool ` or `.tool`. */
export function toolName(attrs: Attrs, spanName: string): string {
  const entity = attrs['traceloop.span.kind'] === 'tool' ? attrs['traceloop.entity.name'] : undefined;
  return firstOf(attrs, ['gen_ai.tool.name', 'tool.name', 'ai.toolCall.name']) ?? (entity || undefined) ?? spanName.replace(/^execute_tool /, '').replace(/\.tool$/, '');
}

/** A span event as the conventions need it. */
export interface EventAttrs {
  name: string;
  attributes: Attrs;
}

/** The span's final output text (last assistant message, output value, …), or ''. */
export function finalOutput(attrs: Attrs, events: readonly EventAttrs[]): string {
  const details = events.find((e) => e.name === 'gen_ai.client.inference.operation.details');
  const candidates = [
    roleText(attrs['gen_ai.output.messages'], 'assistant', 'last'),
    roleText(details?.attributes['gen_ai.output.messages'], 'assistant', 'last'),
    firstOf(attrs, ['output.value', 'traceloop.entity.output', 'ai.response.text', 'langfuse.trace.output']),
    lastIndexed(attrs, 'gen_ai.completion.', '.content'),
    lastIndexed(attrs, 'llm.output_messages.', '.message.content'),
  ];
  const found = candidates.find((c) => c !== undefined && c !== '');
  return found === undefined ? '' : unwrapJsonString(found);
}

/** The span's first user input text, or ''. */
export function firstInput(attrs: Attrs): string {
  const fromMessages = roleText(attrs['gen_ai.input.messages'], 'user', 'first');
  if (fromMessages) return fromMessages;
  const value = firstOf(attrs, ['input.value', 'traceloop.entity.input']);
  if (value !== undefined) return unwrapJsonString(value);
  const prompt = attrs['ai.prompt'];
  if (prompt !== undefined) return aiPromptText(prompt);
  return attrs['llm.input_messages.0.message.content'] ?? '';
}

/** Vercel AI SDK `ai.prompt`: `{"prompt": "…"}` or `{"messages": [...]}` (first user message). */
function aiPromptText(prompt: string): string {
  const parsed = tryJson(prompt) as { prompt?: unknown; messages?: unknown } | undefined;
  if (typeof parsed?.prompt === 'string') return parsed.prompt;
  if (Array.isArray(parsed?.messages)) return roleText(JSON.stringify(parsed.messages), 'user', 'first') ?? prompt;
  return prompt;
}

/** True when the span failed: status Error, `error.type`, an `exception` event, or Langfuse level ERROR. */
export function isError(attrs: Attrs, statusCode: string, events: readonly EventAttrs[]): boolean {
  return (
    statusCode === 'Error' ||
    attrs['error.type'] !== undefined ||
    events.some((e) => e.name === 'exception') ||
    (attrs['langfuse.observation.level'] ?? '').toUpperCase() === 'ERROR'
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
  return firstOf(attrs, ['gen_ai.tool.call.arguments', 'tool.parameters', 'ai.toolCall.args', 'input.value', 'traceloop.entity.input']) ?? '';
}

/** A tool call's result as the span carries it ('' when absent). */
export function toolResult(attrs: Attrs): string {
  return firstOf(attrs, ['gen_ai.tool.call.result', 'ai.toolCall.result', 'output.value', 'traceloop.entity.output']) ?? '';
}

/** An LLM call's input (the messages or prompt as sent), '' when absent. */
export function llmInput(attrs: Attrs): string {
  const direct = firstOf(attrs, ['gen_ai.input.messages', 'input.value', 'ai.prompt.messages', 'ai.prompt', 'traceloop.entity.input']);
  if (direct !== undefined) return direct;
  const flattened = Object.entries(attrs)
    .map(([key, value]) => ({ m: /^(?:llm\.input_messages|gen_ai\.prompt)\.(\d+)\.(?:message\.)?content$/.exec(key), value }))
    .filter((e): e is { m: RegExpExecArray; value: string } => e.m !== null)
    .sort((a, b) => Number(a.m[1]) - Number(b.m[1]));
  return flattened.map((e) => e.value).join('\n');
}
