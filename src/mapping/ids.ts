/** The graph's deterministic ids: defined in the agent SDK (packages/sdk), which reports decision ids itself. */
export {
  agentDefinitionId,
  agentKey,
  decisionId,
  hexToUuid,
  isUuid,
  sessionIdOf,
  uuidV5,
} from '../../packages/sdk/src/ids.ts';
