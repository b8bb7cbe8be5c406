/**
 * Span classes from CONVENTIONS.md ("Span classes"): one table across OpenTelemetry GenAI,
 * OpenInference, OpenLLMetry, the Vercel AI SDK and Langfuse. The rows interleave families,
 * so the rules live together here rather than one file per family. Pure.
 */
import type { Attrs } from './attributes.ts';

/** Which roles a span plays; a span can be several (an `invoke_agent` is agent and aggregate). */
export interface SpanClasses {
  llm: boolean;
  embedding: boolean;
  tool: boolean;
  agent: boolean;
  /** Its usage repeats its children's; it counts only when no descendant reports usage. */
  aggregate: boolean;
}

const LLM_OPS = new Set(['chat', 'text_completion', 'generate_content', 'completion', 'generate']);
const AGENT_OPS = new Set(['invoke_agent', 'create_agent', 'invoke_workflow']);
const AGGREGATE_OPS = new Set(['invoke_agent', 'agent_step', 'invoke_workflow']);
const AI_SDK_AGENT_OPS = new Set(['ai.generateText', 'ai.streamText', 'ai.generateObject', 'ai.streamObject']);
const AI_SDK_AGGREGATE_OPS = new Set([...AI_SDK_AGENT_OPS, 'ai.embed', 'ai.embedMany']);

// Usage keys of any family: a span reporting usage for a model is a model call, whatever else it says.
const USAGE_KEYS = [
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.prompt_tokens',
  'gen_ai.usage.completion_tokens',
  'llm.token_count.prompt',
  'llm.token_count.completion',
];
const MODEL_KEYS = ['gen_ai.request.model', 'gen_ai.response.model', 'llm.model_name', 'model'];

/** ADK's bookkeeping span around parallel tool calls (`execute_tool (merged)`): not a call of its own. */
function isMergedTools(attrs: Attrs, spanName: string): boolean {
  return attrs['gen_ai.tool.name'] === '(merged tools)' || spanName === 'execute_tool (merged)';
}

/** Classifies one span from its attributes and name. */
export function classifySpan(attrs: Attrs, spanName = ''): SpanClasses {
  const op = attrs['gen_ai.operation.name'] ?? '';
  const oi = (attrs['openinference.span.kind'] ?? '').toUpperCase();
  const tl = (attrs['traceloop.span.kind'] ?? '').toLowerCase();
  const lf = (attrs['langfuse.observation.type'] ?? '').toLowerCase();
  const aiOp = attrs['ai.operationId'] ?? '';
  const requestType = attrs['llm.request.type'] ?? '';

  const agent =
    AGENT_OPS.has(op) ||
    oi === 'AGENT' ||
    lf === 'agent' ||
    tl === 'agent' ||
    tl === 'workflow' ||
    AI_SDK_AGENT_OPS.has(aiOp);
  const aggregate =
    AGGREGATE_OPS.has(op) ||
    AI_SDK_AGGREGATE_OPS.has(aiOp) ||
    oi === 'AGENT' ||
    oi === 'CHAIN' ||
    tl === 'workflow' ||
    tl === 'agent' ||
    tl === 'task';
  const namedTool = spanName.startsWith('execute_tool ');
  const marked =
    op !== '' ||
    oi !== '' ||
    tl !== '' ||
    lf !== '' ||
    aiOp !== '' ||
    requestType !== '' ||
    attrs['gen_ai.tool.name'] !== undefined ||
    namedTool;
  const llm =
    LLM_OPS.has(op) ||
    attrs['span.type'] === 'llm_request' ||
    // Google ADK's `call_llm` and similar: no operation name, but usage reported for a model.
    (!marked && USAGE_KEYS.some((k) => attrs[k] !== undefined) && MODEL_KEYS.some((k) => attrs[k] !== undefined)) ||
    oi === 'LLM' ||
    lf === 'generation' ||
    aiOp.endsWith('.doGenerate') ||
    aiOp.endsWith('.doStream') ||
    requestType === 'chat' ||
    requestType === 'completion';
  const embedding =
    !llm &&
    (op === 'embeddings' ||
      oi === 'EMBEDDING' ||
      lf === 'embedding' ||
      aiOp.endsWith('.doEmbed') ||
      requestType === 'embedding');
  const tool =
    !llm &&
    !isMergedTools(attrs, spanName) &&
    (op === 'execute_tool' ||
      namedTool ||
      oi === 'TOOL' ||
      lf === 'tool' ||
      tl === 'tool' ||
      aiOp === 'ai.toolCall' ||
      attrs['gen_ai.tool.name'] !== undefined ||
      attrs['gen_ai.tool.call.id'] !== undefined);
  return { llm, embedding, tool, agent, aggregate };
}
