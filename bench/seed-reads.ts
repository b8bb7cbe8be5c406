/**
 * Seeds a data directory for the read-side figures, in a process of its own (chDB binds one data
 * directory per process): `spans` agent spans in sessions of 33 over the last 30 days, straight
 * into the engine with SQL (`INSERT … SELECT … FROM numbers()`), shaped as the collector stores
 * them — `otel_traces` rows with an `invoke_agent` root, `chat` spans with usage and a 400-byte
 * answer, `execute_tool` spans with arguments and results; one `agent_sessions` row per session
 * over 12 agents, with a prose-like description and output summary; a decision in every tenth session. Then it times the 30-day cost-by-agent trend
 * in the engine (`use_query_condition_cache = 0`, so repeats are not flattered) and prints one
 * JSON line: sample session and decision ids for the HTTP reads, and the trend's latencies.
 * `node --import tsx bench/seed-reads.ts <data dir> <spans>`
 */
import { performance } from 'node:perf_hooks';
import { migrateStorage } from '../src/storage/storage.ts';
import { openStoppedDataDir } from '../test/helpers/collector.ts';

const [dataDir = '', spansText = '1000000'] = process.argv.slice(2);
const SPANS = Number(spansText);
const PER_SESSION = 33;
const SESSIONS = Math.floor(SPANS / PER_SESSION);
const MONTH_SECONDS = 30 * 86_400;

const storage = openStoppedDataDir(dataDir);
await migrateStorage(storage);
const db = storage.database;
const exec = async (query: string): Promise<void> => {
  await storage.client.command({ query });
};
// The session s: its trace id (32 hex), its start (spread over the last 30 days), its agent.
const traceHex = (s: string): string =>
  `lower(concat(leftPad(hex(cityHash64(${s})), 16, '0'), leftPad(hex(cityHash64(${s}, 1)), 16, '0')))`;
const start = (s: string): string => `now64(9) - toIntervalSecond(intDiv(${s} * ${MONTH_SECONDS}, ${SESSIONS}))`;
// Prose-like text of `chars` characters drawn from the bench traffic's words (traffic.ts), so the
// sessions' description and output summary compress as real text would, not as one letter repeated.
const WORDS = `['the','agent','reads','ticket','checks','invoice','compares','totals','and','decides','whether','to','refund','escalate','or','close','it','with','a','note','customer']`;
const prose = (seed: string, chars: number): string =>
  `substring(arrayStringConcat(arrayMap(k -> ${WORDS}[1 + cityHash64(${seed}, k) % 21], range(${Math.ceil(chars / 4)})), ' '), 1, ${chars})`;
const asUuid = (hex: string): string =>
  `toUUID(concat(substr(${hex}, 1, 8), '-', substr(${hex}, 9, 4), '-', substr(${hex}, 13, 4), '-', substr(${hex}, 17, 4), '-', substr(${hex}, 21, 12)))`;

const seeded = performance.now();
await exec(`INSERT INTO ${db}.otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, ResourceAttributes, ScopeName, SpanAttributes, Duration, StatusCode)
  SELECT ${start('s')} + toIntervalMillisecond(i * 50), ${traceHex('s')},
    lower(leftPad(hex(cityHash64(number)), 16, '0')),
    if(i = 0, '', lower(leftPad(hex(cityHash64(s * ${PER_SESSION})), 16, '0'))),
    multiIf(i = 0, concat('invoke_agent agent-', toString(s % 12)), i % 3 = 1, 'chat gpt-4.1-mini', 'execute_tool lookup_invoice'),
    'Internal', 'bench-agents', map('service.name', 'bench-agents'), 'bench',
    multiIf(
      i = 0, map('gen_ai.operation.name', 'invoke_agent', 'gen_ai.agent.name', concat('agent-', toString(s % 12)), 'gen_ai.input.messages', repeat('q', 160)),
      i % 3 = 1, map('gen_ai.operation.name', 'chat', 'gen_ai.request.model', 'gpt-4.1-mini', 'gen_ai.usage.input_tokens', toString(1500 + number % 3000), 'gen_ai.usage.output_tokens', '300', 'gen_ai.output.messages', repeat('x', 400)),
      map('gen_ai.operation.name', 'execute_tool', 'gen_ai.tool.name', 'lookup_invoice', 'gen_ai.tool.call.arguments', repeat('a', 120), 'gen_ai.tool.call.result', repeat('r', 200))),
    if(i = 0, 1650000000, 50000000), if(number % 41 = 0, 'Error', 'Unset')
  FROM (SELECT number, intDiv(number, ${PER_SESSION}) AS s, number % ${PER_SESSION} AS i FROM numbers(${SESSIONS * PER_SESSION}))`);
await exec(`INSERT INTO ${db}.agent_sessions (id, type, title, description, output_summary, status, session_start, session_end, turns, tokens_used, cost, tools_invoked, tool_call_count,
    error_count, session_status, trace_id, root_span_id, agent_definition_id, agent_name, service_name, input_tokens, output_tokens, models, llm_call_count,
    span_count, duration_ms, last_span_at, version)
  SELECT ${asUuid(traceHex('s'))}, 'agent_session', concat('agent-', toString(s % 12)), ${prose('s', 160)}, ${prose('s + 1', 400)}, 'completed', ${start('s')}, ${start('s')} + toIntervalSecond(2),
    11, 11 * 2300, toDecimal64(0.0123 + (s % 7) / 1000, 9), ['lookup_invoice'], 21, s % 3, 'completed', ${traceHex('s')},
    lower(leftPad(hex(cityHash64(s * ${PER_SESSION})), 16, '0')), ${asUuid(`lower(hex(MD5(concat('agent-', toString(s % 12)))))`)},
    concat('agent-', toString(s % 12)), 'bench-agents', 11 * 2000, 11 * 300, ['gpt-4.1-mini'], 11, ${PER_SESSION}, 1650, ${start('s')} + toIntervalSecond(2), ${PER_SESSION * 2}
  FROM (SELECT number AS s FROM numbers(${SESSIONS}))`);
await exec(`INSERT INTO ${db}.decisions (id, type, title, status, decided_at, session_id, trace_id, span_id)
  SELECT ${asUuid(`lower(hex(MD5(concat('decision-', toString(s)))))`)}, 'decision', 'Refund the duplicate charge', 'proposed', ${start('s')} + toIntervalSecond(1),
    ${asUuid(traceHex('s'))}, ${traceHex('s')}, lower(leftPad(hex(cityHash64(s * ${PER_SESSION} + 17)), 16, '0'))
  FROM (SELECT number * 10 AS s FROM numbers(${Math.floor(SESSIONS / 10)}))`);
const seedSeconds = (performance.now() - seeded) / 1000;

const sample = async (query: string): Promise<string[]> =>
  (await storage.select<{ id: string }>(query)).map((r) => r.id);
const sessions = await sample(`SELECT toString(id) AS id FROM ${db}.agent_sessions ORDER BY cityHash64(id) LIMIT 200`);
const decisions = await sample(`SELECT toString(id) AS id FROM ${db}.decisions ORDER BY cityHash64(id) LIMIT 200`);

const trendMs: number[] = [];
for (let i = 0; i < 30; i++) {
  const t = performance.now();
  const result = await storage.client.query({
    query: `SELECT toDate(session_start) AS day, agent_name, sum(cost) AS cost FROM ${db}.agent_sessions FINAL
            WHERE session_start >= now() - INTERVAL 30 DAY GROUP BY day, agent_name ORDER BY day, agent_name
            SETTINGS use_query_condition_cache = 0`,
    format: 'JSONEachRow',
  });
  await result.json();
  trendMs.push(performance.now() - t);
}
await storage.close();
process.stdout.write(
  `${JSON.stringify({ spans: SESSIONS * PER_SESSION, sessions: SESSIONS, seedSeconds, sampleSessions: sessions, sampleDecisions: decisions, trendMs })}\n`,
);
