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

/** Classifies one span from its attributes. */
export function classifySpan(attrs: Attrs): SpanClasses {
  const op = attrs['gen_ai.operation.name'] ?? '';
  const oi = (attrs['openinference.span.kind'] ?? '').toUpperCase();
  const tl = (attrs['traceloop.span.kind'] ?? '').toLowerCase();
  const lf = (attrs['langfuse.observation.type'] ?? '').toLowerCase();
  const aiOp = attrs['ai.operationId'] ?? '';
  const requestType = attrs['llm.request.type'] ?? '';

  const llm =
    LLM_OPS.has(op) ||
    oi === 'LLM' ||
    lf === 'generation' ||
    aiOp.endsWith('.doGenerate') ||
    aiOp.endsWith('.doStream') ||
    requestType === 'chat' ||
    requestType === 'completion';
  const embedding =
    !llm && (op === 'embeddings' || oi === 'EMBEDDING' || lf === 'embedding' || aiOp.endsWith('.doEmbed') || requestType === 'embedding');
  const tool =
    !llm &&
    (op === 'execute_tool' ||
      oi === 'TOOL' ||
      lf === 'tool' ||
      tl === 'tool' ||
      aiOp === 'ai.toolCall' ||
      attrs['gen_ai.tool.name'] !== undefined ||
      attrs['gen_ai.tool.call.id'] !== undefined);
  const agent = AGENT_OPS.has(op) || oi === 'AGENT' || lf === 'agent' || tl === 'agent' || tl === 'workflow' || AI_SDK_AGENT_OPS.has(aiOp);
  const aggregate =
    AGGREGATE_OPS.has(op) || AI_SDK_AGGREGATE_OPS.has(aiOp) || oi === 'AGENT' || oi === 'CHAIN' || tl === 'workflow' || tl === 'agent' || tl === 'task';
  return { llm, embedding, tool, agent, aggregate };
}
