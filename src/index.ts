/**
 * sessiongraph's public API: for agents, the SDK (startTracing, the span helpers, the graph's
 * ids — the same as the sessiongraph-sdk package); the node types the API returns; the
 * configuration parser.
 */
export * from '../packages/sdk/src/index.ts';
export { parseConfig, type Config } from './config.ts';
export type { AgentSession, AgentDefinition, Decision, GraphEdge } from './mapping/types.ts';
