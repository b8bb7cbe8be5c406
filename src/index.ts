/**
 * sessiongraph's public API: for agents, startTracing and the span helpers; the node types
 * the API returns; the configuration parser.
 */
export { startTracing, tracesUrl, type Tracing, type TracingOptions } from '../packages/sdk/src/tracing.ts';
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
} from '../packages/sdk/src/helpers.ts';
export { setClock, type Clock } from '../packages/sdk/src/clock.ts';
export { sessionIdOf } from './mapping/ids.ts';
export { parseConfig, type Config } from './config.ts';
export type { AgentSession, AgentDefinition, Decision, GraphEdge } from './mapping/types.ts';
