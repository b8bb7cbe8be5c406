/**
 * `sessiongraph sessions | session <id> | decision <id> | agents`: the graph API from a
 * terminal. Tables for people, `--json` for scripts (the API's JSON, unchanged).
 */
import { authHeaders, type ClientOptions } from './sql.ts';
import { formatTable } from './format-table.ts';

type Json = Record<string, unknown>;

async function getJson(options: ClientOptions, path: string): Promise<{ ok: true; body: Json } | { ok: false; code: number }> {
  let res: Response;
  try {
    res = await fetch(`${options.url}${path}`, { headers: authHeaders(options) });
  } catch (err) {
    process.stderr.write(`sessiongraph: cannot reach the collector at ${options.url}: ${(err as Error).message} (is it running? set --url or SESSIONGRAPH_URL)\n`);
    return { ok: false, code: 1 };
  }
  const body = (await res.json()) as Json & { error?: { message: string } };
  if (!res.ok) {
    process.stderr.write(`sessiongraph: ${body.error?.message ?? `HTTP ${res.status}`}\n`);
    return { ok: false, code: res.status === 404 ? 3 : 1 };
  }
  return { ok: true, body };
}

const out = (text: string): void => {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
};

const money = (v: unknown): string => `$${Number(v ?? 0).toFixed(4)}`;

function sessionLines(s: Json): string {
  const fields: Array<[string, unknown]> = [
    ['session', s.id],
    ['title', s.title],
    ['agent', `${String(s.agent_name)} (definition ${String(s.agent_definition_id)})`],
    ['status', s.session_status],
    ['start → end', `${String(s.session_start)} → ${String(s.session_end ?? '(still open)')}`],
    ['turns', s.turns],
    ['tokens', `${String(s.tokens_used)} (in ${String(s.input_tokens)}, out ${String(s.output_tokens)}, cache read ${String(s.cache_read_tokens)}, cache write ${String(s.cache_write_tokens)})`],
    ['cost', `${money(s.cost)}${(s.unpriced_models as string[]).length ? `  unpriced: ${(s.unpriced_models as string[]).join(', ')}` : ''}`],
    ['models', (s.models as string[]).join(', ')],
    ['tools', `${(s.tools_invoked as string[]).join(', ')} (calls: ${String(s.tool_call_count)})`],
    ['errors', s.error_count],
    ['conversation', s.conversation_id],
    ['input', s.description],
    ['output', s.output_summary],
  ];
  return fields.map(([k, v]) => `${k.padEnd(13)} ${String(v ?? '')}`).join('\n');
}

function stepTable(steps: Json[]): string {
  return formatTable(
    ['start', 'kind', 'name', 'ms', 'error', 'output'],
    steps.map((t) => ({ ...t, ms: Number(t.duration_ms).toFixed(1), error: t.error ? 'yes' : '', output: String(t.output ?? '').replace(/\s+/g, ' ') })),
  );
}

/** `sessions [--agent A] [--status S] [--from T] [--to T] [--limit N]`. */
export async function sessionsCommand(options: ClientOptions, filters: Record<string, string>): Promise<number> {
  const res = await getJson(options, `/api/sessions?${new URLSearchParams(filters).toString()}`);
  if (!res.ok) return res.code;
  if (options.json) return out(JSON.stringify(res.body, null, 2)), 0;
  const sessions = res.body.sessions as Json[];
  out(formatTable(['id', 'session_start', 'agent_name', 'session_status', 'turns', 'tokens_used', 'cost', 'error_count'], sessions.map((s) => ({ ...s, cost: money(s.cost) }))));
  if (res.body.next_cursor) out(`more: --cursor ${String(res.body.next_cursor)}`);
  return 0;
}

/** `session <id>`: the session, its decisions and its transcript. */
export async function sessionCommand(options: ClientOptions, id: string): Promise<number> {
  const res = await getJson(options, `/api/sessions/${encodeURIComponent(id)}`);
  if (!res.ok) return res.code;
  if (options.json) return out(JSON.stringify(res.body, null, 2)), 0;
  const decisions = res.body.decisions as Json[];
  out(sessionLines(res.body.session as Json));
  out(`\nDecisions (${decisions.length})`);
  if (decisions.length) out(formatTable(['id', 'decided_at', 'status', 'title'], decisions));
  out('\nTranscript');
  out(stepTable(res.body.transcript as Json[]));
  return 0;
}

/** `decision <id>`: the auditor's path — decision, session, agent definition, evidence. */
export async function decisionCommand(options: ClientOptions, id: string): Promise<number> {
  const res = await getJson(options, `/api/decisions/${encodeURIComponent(id)}`);
  if (!res.ok) return res.code;
  if (options.json) return out(JSON.stringify(res.body, null, 2)), 0;
  const d = res.body.decision as Json;
  const def = res.body.agent_definition as Json | null;
  out(
    [
      `decision      ${String(d.id)}`,
      `title         ${String(d.title)}`,
      `status        ${String(d.status)}   decided ${String(d.decided_at)}`,
      `rationale     ${String(d.rationale)}`,
      `context       ${String(d.context)}`,
      `consequences  ${String(d.consequences)}`,
      `tags          ${(d.tags as string[]).join(', ')}`,
      `agent         ${def ? `${String(def.title)} ${String(def.version)} (${String(def.agent_key)}, definition ${String(def.id)})` : '(definition not known yet)'}`,
    ].join('\n'),
  );
  if (res.body.session) out(`\n${sessionLines(res.body.session as Json)}`);
  out(`\nEvidence: ${(res.body.evidence as Json[]).length} tool and LLM calls that ended before the decision`);
  out(stepTable(res.body.evidence as Json[]));
  return 0;
}

/** `agents`: every agent definition with its figures. */
export async function agentsCommand(options: ClientOptions): Promise<number> {
  const res = await getJson(options, '/api/agents');
  if (!res.ok) return res.code;
  if (options.json) return out(JSON.stringify(res.body, null, 2)), 0;
  const agents = (res.body.agents as Json[]).map((a) => ({ ...a, total_cost: money(a.total_cost) }));
  out(formatTable(['id', 'title', 'service_name', 'version', 'session_count', 'failed_sessions', 'total_cost', 'last_seen'], agents));
  return 0;
}
