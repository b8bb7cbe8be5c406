/**
 * sessiongraph-sdk: instrument an agent for sessiongraph with nothing but OpenTelemetry.
 * `startTracing()` starts an OTLP/HTTP exporter to the collector; `agentSession()`, `llmCall()`,
 * `toolCall()` and `decision()` emit spans in the OpenTelemetry GenAI conventions plus the
 * decision convention the collector turns into Decision nodes.
 */
export { startTracing, tracesUrl, type Tracing, type TracingOptions } from './tracing.ts';
export {
  agentSession,
  decision,
  llmCall,
  toolCall,
  type AgentInfo,
  type AgentSessionOptions,
  type DecisionInput,
  type LlmCallReporter,
  type Usage,
} from './helpers.ts';
export { setClock, type Clock } from './clock.ts';
export { decisionId, sessionIdOf } from './ids.ts';
