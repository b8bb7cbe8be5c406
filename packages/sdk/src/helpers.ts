/**
 * Span helpers for agents over `@opentelemetry/api`, in the OpenTelemetry GenAI semantic
 * conventions (so Langfuse and Phoenix read them too) plus sessiongraph's decision convention
 * (SPEC §5). Each wraps a function: the span ends when it settles; an error is recorded
 * (status ERROR, `error.type`, an `exception` event) and re-thrown unchanged.
 */
import { context, SpanStatusCode, trace, type AttributeValue, type Attributes, type Span } from '@opentelemetry/api';
import { decisionId } from './ids.ts';
import { nowHrTime } from './clock.ts';

const tracer = () => trace.getTracer('sessiongraph-sdk', '0.1.0');

/** Who the agent is (becomes its Agent Definition). */
export interface AgentInfo {
  name: string;
  id?: string;
  version?: string;
  description?: string;
}

/** Options of agentSession. */
export interface AgentSessionOptions {
  agent: AgentInfo;
  /** The user's request (first user message). */
  input: string;
  conversationId?: string;
  userId?: string;
  tags?: string[];
}

/** Token usage of one model call. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
}

/** What an llmCall function can report about its call. */
export interface LlmCallReporter {
  usage(usage: Usage): void;
  /** The assistant's text answer. */
  output(text: string): void;
  /** The model that actually answered, when it differs from the requested one. */
  responseModel(model: string): void;
  /** The messages sent, as `[{ role, content }]`. */
  input(messages: Array<{ role: string; content: string }>): void;
}

/** A decision the agent made (SPEC §5). */
export interface DecisionInput {
  title: string;
  rationale?: string;
  context?: string;
  consequences?: string;
  description?: string;
  /** Default `proposed`. */
  status?: string;
  /** A UUID to use as the decision's id; otherwise one is derived from the span. */
  id?: string;
  tags?: string[];
  /** Record as a `decision` event on the current span instead of a span of its own. */
  asEvent?: boolean;
}

/** The attributes that are set: undefined, '' and [] are left out (0 and false are kept). */
function present(attrs: Record<string, AttributeValue | undefined>): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) continue;
    out[key] = value;
  }
  return out;
}

const textMessages = (role: string, text: string): string =>
  JSON.stringify([{ role, parts: [{ type: 'text', content: text }] }]);

/** Runs fn inside a new active span, ending it when fn settles, recording failures. */
async function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T> | T,
  onResult?: (span: Span, result: T) => void,
): Promise<T> {
  const span = tracer().startSpan(name, { attributes, startTime: nowHrTime() });
  try {
    const result = await context.with(trace.setSpan(context.active(), span), () => fn(span));
    onResult?.(span, result);
    return result;
  } catch (err) {
    recordError(span, err);
    throw err;
  } finally {
    span.end(nowHrTime());
  }
}

function recordError(span: Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error, nowHrTime());
  span.setAttribute('error.type', error.name || 'Error');
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}

function resultText(result: unknown): string | undefined {
  if (result === undefined || result === null) return undefined;
  return typeof result === 'string' ? result : JSON.stringify(result);
}

/** One agent run: an `invoke_agent` span around fn; its return value is the run's output. */
export function agentSession<T>(options: AgentSessionOptions, fn: () => Promise<T> | T): Promise<T> {
  const { agent } = options;
  const attributes = present({
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.name': agent.name,
    'gen_ai.input.messages': textMessages('user', options.input),
    'gen_ai.agent.id': agent.id,
    'gen_ai.agent.version': agent.version,
    'gen_ai.agent.description': agent.description,
    'gen_ai.conversation.id': options.conversationId,
    'user.id': options.userId,
    'tag.tags': options.tags,
  });
  return inSpan(
    `invoke_agent ${agent.name}`,
    attributes,
    () => fn(),
    (span, result) => {
      const text = resultText(result);
      if (text !== undefined) span.setAttribute('gen_ai.output.messages', textMessages('assistant', text));
    },
  );
}

/** One model call: a `chat` span; fn reports usage and output through the reporter. */
export function llmCall<T>(
  options: { model: string; provider: string },
  fn: (call: LlmCallReporter) => Promise<T> | T,
): Promise<T> {
  const attributes: Attributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.request.model': options.model,
    'gen_ai.provider.name': options.provider,
  };
  return inSpan(`chat ${options.model}`, attributes, (span) =>
    fn({
      usage(u) {
        span.setAttributes(
          present({
            'gen_ai.usage.input_tokens': u.inputTokens,
            'gen_ai.usage.output_tokens': u.outputTokens,
            'gen_ai.usage.cache_read.input_tokens': u.cacheReadTokens,
            'gen_ai.usage.cache_creation.input_tokens': u.cacheWriteTokens,
            'gen_ai.usage.reasoning.output_tokens': u.reasoningTokens,
          }),
        );
      },
      output(text) {
        span.setAttribute('gen_ai.output.messages', textMessages('assistant', text));
      },
      responseModel(model) {
        span.setAttribute('gen_ai.response.model', model);
      },
      input(messages) {
        span.setAttribute(
          'gen_ai.input.messages',
          JSON.stringify(messages.map((m) => ({ role: m.role, parts: [{ type: 'text', content: m.content }] }))),
        );
      },
    }),
  );
}

/** One tool call: an `execute_tool` span with its arguments and result. */
export function toolCall<T>(name: string, args: unknown, fn: () => Promise<T> | T): Promise<T> {
  const attributes: Attributes = {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': name,
    'gen_ai.tool.type': 'function',
    'gen_ai.tool.call.arguments': JSON.stringify(args ?? {}),
  };
  return inSpan(
    `execute_tool ${name}`,
    attributes,
    () => fn(),
    (span, result) => {
      const text = resultText(result);
      if (text !== undefined) span.setAttribute('gen_ai.tool.call.result', text);
    },
  );
}

/**
 * Records a decision of the current agent run and returns its id (the given UUID, or the one
 * sessiongraph derives from the span), so the agent can log or return it.
 */
export function decision(input: DecisionInput): string {
  const attributes = present({
    'decision.title': input.title,
    'decision.status': input.status ?? 'proposed',
    'decision.id': input.id,
    'decision.description': input.description,
    'decision.context': input.context,
    'decision.rationale': input.rationale,
    'decision.consequences': input.consequences,
    'decision.tags': input.tags,
  });

  const active = trace.getActiveSpan();
  if (input.asEvent && active) {
    // The event's index among the span's events is part of the derived id (SPEC §5).
    const index = (active as unknown as { events?: unknown[] }).events?.length ?? 0;
    active.addEvent('decision', attributes, nowHrTime());
    const { traceId, spanId } = active.spanContext();
    return decisionId(input.id ?? '', traceId, spanId, index);
  }
  const span = tracer().startSpan(`decision ${input.title}`, { attributes, startTime: nowHrTime() });
  span.end(nowHrTime());
  const { traceId, spanId } = span.spanContext();
  return decisionId(input.id ?? '', traceId, spanId, -1);
}
