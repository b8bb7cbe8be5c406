/**
 * The session roll-up (SPEC §3–§5): the de-duplicated span facts of one trace → its Agent
 * Session, Agent Definition, Decisions and edges. Pure and deterministic: the same set of
 * spans (in any order) and the same clock give the same rows, which is what makes the stored
 * session converge however spans arrive. The rules where SPEC leaves a choice are in types.ts.
 */
import type { Pricer } from '../pricing/pricer.ts';
import { agentDefinitionId, agentKey, decisionId, sessionIdOf } from './ids.ts';
import { compareNs, type SpanFacts } from './span-facts.ts';
import { nsToDate, nsToIso } from './time.ts';
import { TraceTree } from './trace-tree.ts';
import type { RecordedDecision } from '../conventions/decisions.ts';
import type { RequestedToolCall } from '../conventions/fields.ts';
import type { AgentDefinition, AgentSession, Decision, GraphEdge, SessionStatus } from './types.ts';

/**
 * The rows as written: the API shapes of types.ts, with every time as nanoseconds since the
 * epoch (a decimal string, exact), the cost as a 9-decimal string (Decimal(18,9)), and the
 * session's version (it grows with every new span, and once more when the session is
 * abandoned: ReplacingMergeTree keeps the highest).
 */
export type SessionRecord = Omit<AgentSession, 'cost' | 'updated_at'> & {
  cost: string;
  model_usage: ModelUsage[];
  version: number;
};

/**
 * One model's share of a session (stored, not in the API's session): its calls and failed calls
 * (LLM spans), and the tokens and cost of the spans counted for usage — the same spans, priced the
 * same way, as the session's own figures, so the shares of a session add up to them. `priced` is
 * 0 when any counted call of the model has no price: its cost is then unknown, never $0.
 */
export interface ModelUsage {
  model: string;
  calls: number;
  errors: number;
  tokens: number;
  cost: string;
  priced: 0 | 1;
}
export type DefinitionRecord = AgentDefinition;
export type DecisionRecord = Decision;

/**
 * One tool or model call of a session, structure only (no text): kept with the graph in
 * `session_calls` so a decision's evidence — which tools and models, in which order, when, failed
 * or not, how many tokens — outlives the raw spans under `--retain-spans`. Once per session, not
 * per decision: a decision's evidence is the calls that ended before it.
 */
export interface EvidenceStep {
  span_id: string;
  kind: 'llm' | 'embedding' | 'tool';
  name: string;
  model: string;
  tool: string;
  start_ns: string;
  end_ns: string;
  error: 0 | 1;
  input_tokens: number;
  output_tokens: number;
}
export type EdgeRecord = GraphEdge;

/** Everything one trace rolls up to. */
export interface TraceRollUp {
  session: SessionRecord;
  /** Written once the root has arrived (or the session is abandoned): a provisional agent may be a sub-agent. */
  definition: DefinitionRecord | undefined;
  decisions: DecisionRecord[];
  edges: EdgeRecord[];
  /**
   * The session's calls (session_calls), once it is over and made decisions: not while it is
   * active, so a long session's roll-up every second does not rewrite them.
   */
  calls: EvidenceStep[] | undefined;
}

/** Clock and configuration of a roll-up. */
export interface RollUpContext {
  /** Now, in ns since the epoch. */
  nowNs: bigint;
  /** A rootless session with no span ending within this many ns before now is abandoned. */
  abandonAfterNs: bigint;
  pricer: Pricer;
  /**
   * Keep the session's calls (TraceRollUp.calls) once it is over: only worth their bytes when the
   * raw spans expire before the graph does (--retain-spans shorter than --retain-graph); while the
   * spans live, a decision's evidence comes from them.
   */
  keepCalls?: boolean;
}

/** `agent_definition_id` of a session whose agent is not known (the nil UUID). */
export const UNKNOWN_AGENT_ID = '00000000-0000-0000-0000-000000000000';

// String comparison of the ns times, not BigInt: a long session sorts 100,000 spans per roll-up.
const byStart = (a: SpanFacts, b: SpanFacts): number =>
  compareNs(a.start_time, b.start_time) || (a.span_id < b.span_id ? -1 : a.span_id > b.span_id ? 1 : 0);

/** Rolls up the de-duplicated facts of one trace (at least one span). */
export function rollUpTrace(facts: readonly SpanFacts[], ctx: RollUpContext): TraceRollUp {
  const spans = [...facts].sort(byStart);
  const first = spans[0];
  if (!first) throw new Error('rollUpTrace needs at least one span');
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const tree = new TraceTree<SpanFacts>(byId);

  // Log events (origin 'log') never root a session: they stand in for spans the trace lacks.
  const root = chooseRoot(
    spans.filter((s) => s.origin !== 'log'),
    tree,
  );
  const arrived = root !== undefined && tree.chainIsComplete(root);
  const members = arrived ? spans.filter((s) => tree.belongsTo(s, root)) : spans;
  const fromSpans = members.filter((s) => s.origin !== 'log');
  const fromLogs = members.filter((s) => s.origin === 'log');
  const logsOnly = fromSpans.length === 0;
  // What spans tell wins; log events count only where the session has no span of their kind,
  // so a run sent both as traces and as events is never counted twice.
  const prefer = (pick: (s: SpanFacts) => boolean): SpanFacts[] => {
    const own = fromSpans.filter(pick);
    return own.length > 0 ? own : fromLogs.filter(pick);
  };

  const usageBelow = tree.ancestorsOf((s) => s.reports_usage === 1 && s.origin !== 'log');
  const counted = prefer(
    (s) =>
      s.reports_usage === 1 &&
      (s.is_llm === 1 || s.is_embedding === 1 || s.is_aggregate === 1) &&
      !usageBelow.has(s.span_id),
  );
  const cost = priceSpans(counted, ctx.pricer);
  const llmCalls = prefer((s) => s.is_llm === 1);
  const toolFacts = prefer((s) => s.is_tool === 1);
  const toolCalls = toolCallsOf(toolFacts, llmCalls);
  const errors = [...fromSpans, ...(toolFacts.some((s) => s.origin === 'log') ? fromLogs : [])].filter(
    (s) => s.has_error === 1,
  );
  const lastSpanAt = BigInt(spans.reduce((max, s) => (compareNs(s.end_time, max) > 0 ? s.end_time : max), '0'));

  const stale = !arrived && lastSpanAt + ctx.abandonAfterNs < ctx.nowNs;
  // A session told only by log events (Claude Code without its tracing beta) has no root to wait
  // for and no event that ends it: quiet for the timeout, it is over, not abandoned.
  const endedQuietly = stale && logsOnly;
  const abandoned = stale && !logsOnly;
  const status: SessionStatus = arrived
    ? root.status_code === 'Error'
      ? 'failed'
      : 'completed'
    : endedQuietly
      ? 'completed'
      : abandoned
        ? 'abandoned'
        : 'active';
  // Who ran: the root, else the outermost agent span seen so far. With neither (a rootless run
  // whose spans are all tools and model calls) the agent is unknown: no definition is written.
  const head = root ?? spans.find((s) => s.is_agent === 1) ?? (logsOnly ? fromLogs[0] : undefined);
  const known = head !== undefined;
  const name = head ? head.agent_name || head.span_name : '';
  const start = arrived ? root.start_time : first.start_time;
  const serviceName = (head ?? first).service_name;
  const key = known ? agentKey(serviceName, head.agent_id, name) : '';
  const definitionId = known ? agentDefinitionId(key) : UNKNOWN_AGENT_ID;
  const sessionId = sessionIdOf(first.trace_id);
  const fromRootOrFirst = (pick: (s: SpanFacts) => string): string =>
    (root && pick(root)) || members.map(pick).find((v) => v !== '') || '';
  const sum = (pick: (s: SpanFacts) => number): number => counted.reduce((total, s) => total + pick(s), 0);

  const session: SessionRecord = {
    id: sessionId,
    type: 'agent_session',
    title: `${name || 'unknown agent'} · ${isoSeconds(start)}`,
    description: fromRootOrFirst((s) => s.input_text),
    status,
    tags: sortedUnique(members.flatMap((s) => s.tags)),
    session_start: start,
    session_end: arrived ? root.end_time : endedQuietly ? lastSpanAt.toString() : null,
    turns: (arrived ? root.turns : null) ?? llmCalls.length,
    tokens_used: sum((s) => s.total_tokens),
    cost: cost.total.toFixed(9),
    unpriced_models: cost.unpriced,
    tools_invoked: [...new Set(toolCalls.map((c) => c.name))],
    tool_call_count: toolCalls.length,
    // A failed call reported on two spans of one call id (Claude Code) is one error.
    error_count: oneSpanPerCall(errors).length,
    session_status: status,
    output_summary: arrived || endedQuietly ? root?.output_text || lastAnswer(llmCalls) || lastAnswer(fromLogs) : '',
    trace_id: first.trace_id,
    root_span_id: arrived ? root.span_id : '',
    agent_definition_id: definitionId,
    agent_name: name,
    service_name: serviceName,
    environment: fromRootOrFirst((s) => s.environment),
    conversation_id: fromRootOrFirst((s) => s.conversation_id),
    user_id: fromRootOrFirst((s) => s.user_id),
    input_tokens: sum((s) => s.input_tokens),
    output_tokens: sum((s) => s.output_tokens),
    cache_read_tokens: sum((s) => s.cache_read_tokens),
    cache_write_tokens: sum((s) => s.cache_write_tokens),
    reasoning_tokens: sum((s) => s.reasoning_tokens),
    models: sortedUnique(counted.map((s) => s.model).filter((m) => m !== '')),
    model_usage: usageByModel(counted, cost.prices, llmCalls),
    llm_call_count: llmCalls.length,
    span_count: fromSpans.length,
    duration_ms: arrived
      ? Number(BigInt(root.end_time) - BigInt(root.start_time)) / 1e6
      : endedQuietly
        ? Number(lastSpanAt - BigInt(start)) / 1e6
        : null,
    last_span_at: lastSpanAt.toString(),
    version: spans.length * 2 + (abandoned ? 1 : 0),
  };

  // A decision id given twice (the same decision.id on two spans) is one decision: keep the first.
  const decisions = [
    ...new Map(
      spans
        .flatMap((s) => decisionsOf(s, sessionId))
        .reverse()
        .map((d) => [d.id, d] as const),
    ).values(),
  ];
  decisions.sort((a, b) =>
    BigInt(a.decided_at) < BigInt(b.decided_at)
      ? -1
      : BigInt(a.decided_at) > BigInt(b.decided_at)
        ? 1
        : a.id < b.id
          ? -1
          : 1,
  );
  const edges: EdgeRecord[] = decisions.map((d) => ({
    edge_type: 'agent_session_creates_decision',
    source_id: sessionId,
    source_type: 'agent_session',
    target_id: d.id,
    target_type: 'decision',
    created_at: d.decided_at,
  }));

  let definition: DefinitionRecord | undefined;
  if (status !== 'active' && known) {
    definition = {
      id: definitionId,
      type: 'agent_definition',
      title: name,
      description: head.agent_description,
      status: 'active',
      tags: [],
      agent_key: key,
      agent_name: name,
      agent_id: head.agent_id,
      version: head.agent_version,
      service_name: serviceName,
      first_seen: start,
      last_seen: lastSpanAt.toString(),
    };
    edges.unshift({
      edge_type: 'agent_definition_runs_agent_session',
      source_id: definitionId,
      source_type: 'agent_definition',
      target_id: sessionId,
      target_type: 'agent_session',
      created_at: start,
    });
  }
  const calls = ctx.keepCalls && status !== 'active' && decisions.length > 0 ? callsOf(fromSpans) : undefined;
  return { session, definition, decisions, edges, calls };
}

/**
 * The session's tool calls in call order: its tool spans, one per call id; a trace with no tool
 * span at all (OpenInference on a model client: the framework runs tools untraced) counts the
 * calls its model asked for and then called again after — every answer but the last one's.
 */
function toolCallsOf(toolFacts: readonly SpanFacts[], llmCalls: readonly SpanFacts[]): Array<{ name: string }> {
  const spans = oneSpanPerCall(toolFacts);
  if (spans.length > 0) return spans.map((s) => ({ name: s.tool_name }));
  const asked = llmCalls
    .slice(0, -1)
    .flatMap((s) => (s.requested_tools === '' ? [] : (JSON.parse(s.requested_tools) as RequestedToolCall[])));
  const seen = new Set<string>();
  return asked.filter((c) => c.id === '' || (!seen.has(c.id) && seen.add(c.id) !== undefined));
}

/**
 * Spans sharing a tool call id are one call (Claude Code's `claude_code.tool` and its
 * `claude_code.tool.execution` child carry the same `gen_ai.tool.call.id`): the earliest stands
 * for it. Spans without an id each stand for themselves. Input is in start order, and so is the output.
 */
function oneSpanPerCall(spans: readonly SpanFacts[]): SpanFacts[] {
  const seen = new Set<string>();
  return spans.filter((s) => {
    if (s.tool_call_id === '') return true;
    if (seen.has(s.tool_call_id)) return false;
    seen.add(s.tool_call_id);
    return true;
  });
}

/** Outermost agent span (earliest start on ties); without agent spans, the trace's root span. */
function chooseRoot(spans: readonly SpanFacts[], tree: TraceTree<SpanFacts>): SpanFacts | undefined {
  const outermostAgent = spans.find((s) => s.is_agent === 1 && !tree.ancestors(s).some((a) => a.is_agent === 1));
  return outermostAgent ?? spans.find((s) => s.parent_span_id === '');
}

/** The total cost of the counted spans, the models without a price, and each span's price (null: unpriced). */
function priceSpans(
  counted: readonly SpanFacts[],
  pricer: Pricer,
): { total: number; unpriced: string[]; prices: Array<number | null> } {
  let total = 0;
  const unpriced = new Set<string>();
  const prices = counted.map((s) => {
    if (s.precomputed_cost !== null) return s.precomputed_cost;
    const usage = {
      input: s.input_tokens,
      output: s.output_tokens,
      cacheRead: s.cache_read_tokens,
      cacheWrite: s.cache_write_tokens,
    };
    return pricer(usage, s.model, s.provider, nsToDate(s.start_time));
  });
  prices.forEach((price, i) => {
    if (price === null) unpriced.add(counted[i]?.model || 'unknown');
    else total += price;
  });
  return { total, unpriced: [...unpriced].sort(), prices };
}

/** Each model's calls, errors, tokens and cost (see ModelUsage), by model name. */
function usageByModel(
  counted: readonly SpanFacts[],
  prices: ReadonlyArray<number | null>,
  llmCalls: readonly SpanFacts[],
): ModelUsage[] {
  const byModel = new Map<string, { calls: number; errors: number; tokens: number; cost: number; priced: 0 | 1 }>();
  const entry = (model: string) => {
    let e = byModel.get(model);
    if (!e) byModel.set(model, (e = { calls: 0, errors: 0, tokens: 0, cost: 0, priced: 1 }));
    return e;
  };
  for (const s of llmCalls) {
    const e = entry(s.model || 'unknown');
    e.calls++;
    e.errors += s.has_error;
  }
  counted.forEach((s, i) => {
    const e = entry(s.model || 'unknown');
    const price = prices[i] ?? null;
    e.tokens += s.total_tokens;
    if (price === null) e.priced = 0;
    else e.cost += price;
  });
  return [...byModel]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([model, e]) => ({ model, ...e, cost: e.cost.toFixed(9) }));
}

function decisionsOf(span: SpanFacts, sessionId: string): DecisionRecord[] {
  if (span.decisions === '') return [];
  const recorded = JSON.parse(span.decisions) as RecordedDecision[];
  return recorded.map((d) => ({
    id: decisionId(d.given_id, span.trace_id, span.span_id, d.event_index),
    type: 'decision',
    title: d.title,
    description: d.description,
    status: d.status,
    tags: d.tags,
    context: d.context,
    rationale: d.rationale,
    consequences: d.consequences,
    decided_at: d.decided_at_ns,
    session_id: sessionId,
    trace_id: span.trace_id,
    // A log event's decision points at the span it was emitted under (Claude Code's tool span), when there is one.
    span_id: span.origin === 'log' && span.parent_span_id !== '' ? span.parent_span_id : span.span_id,
  }));
}

/** The session's tool and model calls in order of their end (session_calls): structure only. */
function callsOf(members: readonly SpanFacts[]): EvidenceStep[] {
  return members
    .filter((s) => s.is_tool === 1 || s.is_llm === 1 || s.is_embedding === 1)
    .sort((a, b) => compareNs(a.end_time, b.end_time) || (a.span_id < b.span_id ? -1 : 1))
    .map((s): EvidenceStep => ({
      span_id: s.span_id,
      kind: s.is_tool === 1 ? 'tool' : s.is_llm === 1 ? 'llm' : 'embedding',
      name: s.span_name,
      model: s.model,
      tool: s.tool_name,
      start_ns: s.start_time,
      end_ns: s.end_time,
      error: s.has_error === 1 ? 1 : 0,
      input_tokens: s.input_tokens,
      output_tokens: s.output_tokens,
    }));
}

/**
 * A root without output (ADK, Claude Code, LangGraph's graph span…) ends with its last model
 * call's answer: the text of the one among `facts` that ended last (Claude Code's
 * `assistant_response` events when no span carries it).
 */
function lastAnswer(facts: readonly SpanFacts[]): string {
  let last: SpanFacts | undefined;
  for (const s of facts) if (s.output_text !== '' && (!last || compareNs(s.end_time, last.end_time) >= 0)) last = s;
  return last?.output_text ?? '';
}

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/** ns since the epoch → `YYYY-MM-DDTHH:MM:SSZ`. */
function isoSeconds(ns: string): string {
  return nsToIso(ns).replace(/\.\d{3}Z$/, 'Z');
}
