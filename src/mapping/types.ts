/**
 * The graph's node and edge shapes as the API returns them (SPEC §3–§5). Row types use the
 * ClickHouse column names (snake_case), because those columns are the contract SREs query.
 *
 * Derivation rules the roll-up follows (where SPEC §3 leaves a choice, the choice is written here):
 * - Session root: the outermost span classified as agent (CONVENTIONS.md); several outermost
 *   → earliest start, then lowest span id. No agent span → the trace's root span (empty parent).
 *   The root "has arrived" only when its ancestor chain is complete (no missing parent); until
 *   then the session is provisional: every span of the trace counts, `session_start` = earliest
 *   start, `session_end` = null, `session_status` = `active` (or `abandoned` once the newest span
 *   end is older than the timeout). Once arrived, the session is the root's subtree; a span whose
 *   ancestor chain stops at a missing parent still counts (it may belong).
 * - Usage: a span "reports usage" when it carries any input/output/total token key. It counts
 *   (tokens and cost) when it is an LLM-call, embedding or aggregate span and no descendant in
 *   the trace reports usage. Input tokens include cached ones: if input < cache_read + cache_write,
 *   both are added to input. Span total = total-tokens key if present, else input + output.
 *   `tokens_used` = Σ span totals.
 * - Cost per counted span: precomputed cost key, else the --prices override for the model, else
 *   @pydantic/genai-prices (model + provider, usage incl. cache tokens, at the span's start time;
 *   retried without provider), else the model is listed in `unpriced_models` (`unknown` when the
 *   span names no model). Summed, then rounded to 9 decimals.
 * - `turns`: the root's `gen_ai.conversation.turns` (or `sessiongraph.turns`) if present, else
 *   the number of LLM-call spans. `llm_call_count` = LLM-call spans; `tool_call_count` = tool spans.
 * - `tools_invoked`: distinct tool names ordered by first call (start time, then span id).
 * - `models`, `tags`, `unpriced_models`: distinct, sorted. `models` lists the counted spans' models.
 * - `error_count`: spans with status Error, an `error.type` key, an `exception` event, or
 *   `langfuse.observation.level` = ERROR, each span once.
 * - `output_summary`: the root's final output text, whitespace-trimmed, first 500 characters.
 *   `description`: the root's first input (else the earliest span with one), same trimming.
 * - `title`: `<agent name> · <session_start as YYYY-MM-DDTHH:MM:SSZ>`.
 * - `conversation_id`, `user_id`, `environment` (`deployment.environment.name`, then
 *   `deployment.environment`): from the root, else from the earliest span (or its resource) having it.
 * - A session with neither its root nor any agent span has an unknown agent: agent_name '',
 *   title `unknown agent · …`, agent_definition_id the nil UUID, and no definition row.
 * - Ids: session id = trace id as a UUID; agent definition id = uuidV5(SESSIONGRAPH_NAMESPACE,
 *   `agent:<service.name>/<gen_ai.agent.id or agent name>`); decision id = `decision.id` when it
 *   is a UUID, else uuidV5(namespace, `decision:<trace id>:<span id>`) for a decision span and
 *   `decision:<trace id>:<span id>:<event index>` for a `decision` event (index among all events).
 * - Agent definition: title and agent_name = the agent name, agent_key = `<service.name>/<agent id
 *   or name>`, description / version from `gen_ai.agent.description` / `gen_ai.agent.version`;
 *   first_seen = earliest session start, last_seen = newest span end of any of its sessions.
 * - Times in the API are ISO 8601 UTC with milliseconds (`2026-11-24T02:00:00.000Z`).
 */

export { SESSIONGRAPH_NAMESPACE } from '../../packages/sdk/src/ids.ts';

export const SESSION_STATUSES = ['active', 'completed', 'failed', 'abandoned'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** An Agent Session node (SPEC §3) as the API returns it. */
export interface AgentSession {
  id: string;
  type: 'agent_session';
  title: string;
  description: string;
  status: SessionStatus;
  tags: string[];
  session_start: string;
  session_end: string | null;
  turns: number;
  tokens_used: number;
  cost: number;
  unpriced_models: string[];
  tools_invoked: string[];
  tool_call_count: number;
  error_count: number;
  session_status: SessionStatus;
  output_summary: string;
  trace_id: string;
  root_span_id: string;
  agent_definition_id: string;
  agent_name: string;
  service_name: string;
  environment: string;
  conversation_id: string;
  user_id: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  models: string[];
  llm_call_count: number;
  span_count: number;
  duration_ms: number | null;
  /** Newest span end seen: the abandonment clock. */
  last_span_at: string;
  updated_at: string;
}

/** An Agent Definition node (SPEC §4). */
export interface AgentDefinition {
  id: string;
  type: 'agent_definition';
  title: string;
  description: string;
  status: 'active';
  tags: string[];
  agent_key: string;
  agent_name: string;
  agent_id: string;
  version: string;
  service_name: string;
  first_seen: string;
  last_seen: string;
}

/** A Decision node (SPEC §5). */
export interface Decision {
  id: string;
  type: 'decision';
  title: string;
  description: string;
  status: string;
  tags: string[];
  context: string;
  rationale: string;
  consequences: string;
  decided_at: string;
  session_id: string;
  trace_id: string;
  span_id: string;
}

export const EDGE_TYPES = ['agent_definition_runs_agent_session', 'agent_session_creates_decision'] as const;
export type EdgeType = (typeof EDGE_TYPES)[number];

/** A graph edge (SPEC §2). `created_at` is derived from the data (session start / decision time), so rewrites are identical. */
export interface GraphEdge {
  edge_type: EdgeType;
  source_id: string;
  source_type: 'agent_definition' | 'agent_session';
  target_id: string;
  target_type: 'agent_session' | 'decision';
  created_at: string;
}
