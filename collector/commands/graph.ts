/**
 * `sessiongraph sessions | session <id> | decision <id> | agents`: the graph API from a
 * terminal. Tables for people, `--json` for scripts (the API's JSON, unchanged).
 */
import { authHeaders, type ClientOptions } from './sql.ts';
import { formatTable } from './format-table.ts';

type Json = Record<string, unknown>;

async function getJson(
  options: ClientOptions,
  path: string,
): Promise<{ ok: true; body: Json } | { ok: false; code: number }> {
  let res: Response;
  try {
    res = await fetch(`${options.url}${path}`, { headers: authHeaders(options) });
  } catch (err) {
    process.stderr.write(
      `sessiongraph: cannot reach the collector at ${options.url}: ${(err as Error).message} (is it running? set --url or SESSIONGRAPH_URL)\n`,
    );
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
    [
      'tokens',
      `${String(s.tokens_used)} (in ${String(s.input_tokens)}, out ${String(s.output_tokens)}, cache read ${String(s.cache_read_tokens)}, cache write ${String(s.cache_write_tokens)})`,
    ],
    [
      'cost',
      `${money(s.cost)}${(s.unpriced_models as string[]).length ? `  unpriced: ${(s.unpriced_models as string[]).join(', ')}` : ''}`,
    ],
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
    steps.map((t) => ({
      ...t,
      ms: Number(t.duration_ms).toFixed(1),
      error: t.error ? 'yes' : '',
      output: String(t.output ?? '').replace(/\s+/g, ' '),
    })),
  );
}

/** `sessions [--agent A] [--status S] [--from T] [--to T] [--limit N]`. */
export async function sessionsCommand(options: ClientOptions, filters: Record<string, string>): Promise<number> {
  const res = await getJson(options, `/api/sessions?${new URLSearchParams(filters).toString()}`);
  if (!res.ok) return res.code;
  if (options.json) return (out(JSON.stringify(res.body, null, 2)), 0);
  const sessions = res.body.sessions as Json[];
  out(
    formatTable(
      ['id', 'session_start', 'agent_name', 'session_status', 'turns', 'tokens_used', 'cost', 'error_count'],
      sessions.map((s) => ({ ...s, cost: money(s.cost) })),
    ),
  );
  if (res.body.next_cursor) out(`more: --cursor ${String(res.body.next_cursor)}`);
  return 0;
}

/** `session <id>`: the session, its decisions and its transcript. */
export async function sessionCommand(options: ClientOptions, id: string): Promise<number> {
  const res = await getJson(options, `/api/sessions/${encodeURIComponent(id)}`);
  if (!res.ok) return res.code;
  if (options.json) return (out(JSON.stringify(res.body, null, 2)), 0);
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
  if (options.json) return (out(JSON.stringify(res.body, null, 2)), 0);
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

/** A trend value as people read it: dollars, a percentage, milliseconds or a count; '—' when unknown. */
function trendValue(metric: string, v: unknown): string {
  if (v === null || v === undefined) return '—';
  const n = Number(v);
  if (metric === 'cost') return `$${n.toFixed(n !== 0 && Math.abs(n) < 0.01 ? 6 : 4)}`;
  if (metric === 'error_rate') return `${(n * 100).toFixed(1)}%`;
  if (metric === 'p95_duration') return `${n.toFixed(0)} ms`;
  return n.toLocaleString('en-US');
}

/** Horizontal bars scaled to the largest value (unknown values get none). */
function barChart(entries: ReadonlyArray<[label: string, value: number | null, shown: string]>, width = 40): string {
  const max = Math.max(0, ...entries.map(([, v]) => v ?? 0));
  const labelWidth = Math.max(...entries.map(([l]) => l.length));
  return entries
    .map(
      ([label, v, shown]) =>
        `${label.padEnd(labelWidth)} ${'█'.repeat(max > 0 && v !== null ? Math.max(v > 0 ? 1 : 0, Math.round((v / max) * width)) : 0)} ${shown}`,
    )
    .join('\n');
}

/** `trends --metric M [--by G] [--bucket B] [--from T] [--to T] [--agent A] [--model M]`: a table, then bars of each group's total (or of each bucket, ungrouped). */
export async function trendsCommand(options: ClientOptions, filters: Record<string, string>): Promise<number> {
  const { by, ...rest } = filters;
  const query = new URLSearchParams({ ...rest, ...(by ? { group_by: by } : {}) });
  const res = await getJson(options, `/api/trends?${query.toString()}`);
  if (!res.ok) return res.code;
  if (options.json) return (out(JSON.stringify(res.body, null, 2)), 0);
  const metric = String(res.body.metric);
  type Point = { time: string; value: number | null };
  const series = res.body.series as Array<{ group: string; points: Point[]; total: number | null }>;
  out(
    `${metric} by ${String(res.body.bucket)}${res.body.group_by ? ` and ${String(res.body.group_by)}` : ''}, ${String(res.body.from)} → ${String(res.body.to)}`,
  );
  if (series.length === 0) return (out('no sessions started in this range'), 0);
  const rows = series.flatMap((s) =>
    s.points.map((p) => ({ time: p.time, group: s.group, value: trendValue(metric, p.value) })),
  );
  rows.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  out(formatTable(res.body.group_by ? ['time', 'group', 'value'] : ['time', 'value'], rows));
  out('');
  const bars: Array<[string, number | null, string]> = res.body.group_by
    ? series.map((s) => [
        s.group,
        s.total,
        s.total === null ? 'unknown (not priced)' : `${trendValue(metric, s.total)} in all`,
      ])
    : (series[0]?.points ?? []).map((p) => [
        p.time.slice(0, res.body.bucket === 'hour' ? 16 : 10),
        p.value,
        trendValue(metric, p.value),
      ]);
  out(barChart(bars));
  const unpriced = res.body.unpriced_models as string[];
  if (unpriced.length > 0) out(`\nnot priced (not counted as $0): ${unpriced.join(', ')}`);
  return 0;
}

/** `retention`: how long spans, content and the graph are kept, and each table's TTL in force. */
export async function retentionCommand(options: ClientOptions): Promise<number> {
  const res = await getJson(options, '/api/retention');
  if (!res.ok) return res.code;
  if (options.json) return (out(JSON.stringify(res.body, null, 2)), 0);
  out(`spans (otel_traces, session_spans, otel_logs)  ${String(res.body.spans)}`);
  out(`content (message, argument, result text)      ${String(res.body.content)}`);
  out(`graph (sessions, definitions, decisions)      ${String(res.body.graph)}`);
  out('');
  type Table = {
    table: string;
    ttl: string | null;
    column_ttls: Record<string, string>;
    rows: number;
    bytes_on_disk: number;
  };
  const tables = (res.body.tables as Table[]).map((t) => ({
    ...t,
    ttl: t.ttl ?? (t.table === 'erasures' ? 'none (kept)' : 'none'),
    column_ttls: Object.entries(t.column_ttls)
      .map(([c, ttl]) => `${c}: ${ttl}`)
      .join('; '),
  }));
  out(formatTable(['table', 'ttl', 'column_ttls', 'rows', 'bytes_on_disk'], tables));
  return 0;
}

/** `agents`: every agent definition with its figures. */
export async function agentsCommand(options: ClientOptions): Promise<number> {
  const res = await getJson(options, '/api/agents');
  if (!res.ok) return res.code;
  if (options.json) return (out(JSON.stringify(res.body, null, 2)), 0);
  const agents = (res.body.agents as Json[]).map((a) => ({ ...a, total_cost: money(a.total_cost) }));
  out(
    formatTable(
      ['id', 'title', 'service_name', 'version', 'session_count', 'failed_sessions', 'total_cost', 'last_seen'],
      agents,
    ),
  );
  return 0;
}
