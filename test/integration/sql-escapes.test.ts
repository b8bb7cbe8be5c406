/**
 * `/api/sql` as an attacker with a `read` key tries it (SPEC §7): strings ClickHouse's lexer
 * reads differently from a naive one (nested comments, Unicode quotes, heredocs, backslash
 * escapes, comments hiding SETTINGS), every file and network function in scalar and table
 * form and in every place a function can hide, and a seeded fuzz of those shapes. Every
 * answer is a 400 with a reason (or a harmless 200); afterwards no statement smuggled inside
 * has run: no table, no file, no setting left on the engine, no secret in any answer, and
 * ingest still answers 200.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { agentRunSpans, exportBody, seededRandom } from '../helpers/agent-run.ts';
import { queryRows, startTestCollector, tempDir } from '../helpers/collector.ts';

const READ_KEY = 'sg-secret-read-key-7f3a';
const INGEST_KEY = 'sg-secret-ingest-key-c21b';
const dir = tempDir();
const pwnedFile = path.join(dir, 'pwned.txt');
let collector: RunningCollector;
let answers = 0;

beforeAll(async () => {
  collector = await startTestCollector(path.join(dir, 'data'), {
    SESSIONGRAPH_API_KEYS: `${READ_KEY}=read,${INGEST_KEY}=ingest`,
    SESSIONGRAPH_SESSION_TIMEOUT: '3650d',
  });
});
afterAll(async () => {
  await collector?.close();
});

interface Answer {
  status: number;
  text: string;
}

async function sql(query: string): Promise<Answer> {
  const res = await fetch(`${collector.url}/api/sql`, {
    method: 'POST',
    body: query,
    headers: { 'content-type': 'text/plain', authorization: `Bearer ${READ_KEY}` },
  });
  answers++;
  return { status: res.status, text: await res.text() };
}

/** Statements that leave a trace if they ever run. */
const SMUGGLED = [
  'CREATE TABLE sessiongraph.pwned (x UInt8) ENGINE = Memory',
  'CREATE DATABASE pwned',
  `INSERT INTO FUNCTION file('${pwnedFile}', 'LineAsString') SELECT 'pwned'`,
  'SET readonly = 1',
  'DROP TABLE sessiongraph.decisions',
  "CREATE TABLE sessiongraph.pwned_passwd ENGINE = Memory AS SELECT * FROM file('/etc/passwd', 'LineAsString')",
];

/** Wrappers that put a statement where a lexer unlike ClickHouse's thinks it is inside a comment or a string. */
const WRAPPERS = [
  // the two escapes the security review found
  (s: string) => `SELECT 1 /* /* */ " */ ) ; ${s} ; SELECT * FROM (SELECT 1 /* " */`,
  (s: string) => `SELECT 1 /* /* */ ' */ ) ; ${s} ; SELECT * FROM (SELECT 1 /* ' */`,
  (s: string) => `SELECT ‘x’ ) ; ${s} ; SELECT * FROM (SELECT '‘'`,
  (s: string) => `SELECT ‘it’’s’ ) ; ${s} ; SELECT (1`,
  (s: string) => `SELECT “x” ) ; ${s} ; SELECT (1`,
  // nested comments, unterminated and hiding
  (s: string) => `SELECT 1 /* outer /* inner */ still comment */ ; ${s}`,
  (s: string) => `SELECT 1 /* /* /* */ */ ; ${s} ; /* */`,
  (s: string) => `SELECT 1 -- \n; ${s}`,
  (s: string) => `SELECT 1 # x\n; ${s}`,
  // quotes: backslash escapes, doubled quotes, backticks and double-quoted identifiers
  (s: string) => `SELECT 'a\\' ; ${s} ; SELECT '`,
  (s: string) => `SELECT 'a'' ; ${s} ; SELECT ''`,
  (s: string) => `SELECT \`a\\\` ; ${s} ; SELECT \``,
  (s: string) => `SELECT "a\\" ; ${s} ; SELECT "`,
  (s: string) => `SELECT 1 AS \`x\`\`; ${s}; --\``,
  // heredocs
  (s: string) => `SELECT $$ ; ${s} ; $$`,
  (s: string) => `SELECT $tag$ $$ $tag$ ; ${s} ; SELECT $tag$ x $tag$`,
  (s: string) => `SELECT $$x$$ ; ${s}`,
  // parenthesis games around the collector's own wrapper
  (s: string) => `SELECT 1) ; ${s} ; SELECT (1`,
  (s: string) => `SELECT 1)) ; ${s} ; SELECT ((1`,
  (s: string) => `${s}`,
  (s: string) => `WITH x AS (SELECT 1) ${s}`,
  (s: string) => `SELECT 1 UNION ALL ${s}`,
  (s: string) => `EXPLAIN ${s}`,
];

/** Ways of smuggling SETTINGS past the limits. */
const SETTINGS_TRICKS = [
  'SELECT 1 SETTINGS readonly = 0',
  'SELECT 1 /* x */ SETTINGS /* y */ readonly = 0',
  'SELECT 1 SeTtInGs max_execution_time = 0',
  'SELECT * FROM (SELECT 1 SETTINGS max_memory_usage = 0)',
  'SELECT 1 -- \nSETTINGS readonly = 0',
  'SELECT 1 /* SETTINGS */ FROM system.one SETTINGS max_result_bytes = 0',
  'WITH (SELECT 1 SETTINGS readonly = 0) AS x SELECT x',
  'SELECT 1 FORMAT JSON SETTINGS readonly = 0',
  "SELECT 1 INTO OUTFILE '/tmp/sg-outfile.txt'",
  'SELECT 1 FORMAT TSV',
];

/** File, network, process, dictionary and server functions, scalar and table forms. */
const FORBIDDEN_CALLS = [
  "file('/proc/self/environ')",
  "FILE('/proc/self/environ')",
  "`file`('/proc/self/environ')",
  "file('/etc/passwd', 'LineAsString')",
  "url('http://127.0.0.1:9/', 'LineAsString')",
  "s3('http://127.0.0.1:9/b/k', 'LineAsString')",
  "remote('127.0.0.1', system.one)",
  "remoteSecure('127.0.0.1', system.one)",
  "cluster('default', system.one)",
  "mysql('127.0.0.1:9', 'd', 't', 'u', 'p')",
  "postgresql('127.0.0.1:9', 'd', 't', 'u', 'p')",
  "executable('id', 'LineAsString', 'x String')",
  "input('x String')",
  "hdfs('hdfs://127.0.0.1:9/x', 'LineAsString')",
  "sqlite('/etc/passwd', 't')",
  "filesystem('/etc')",
  "dictionary('d')",
  "merge('system', '.*')",
  "view(SELECT file('/etc/passwd'))",
  "dictGet('d', 'x', 1)",
  "joinGet('t', 'x', 1)",
  "getServerSetting('user_files_path')",
  "catboostEvaluate('/etc/passwd', 1)",
  "aiGenerate('x')",
  'sleep(3)',
  'currentProfiles()',
];

/** Places a function call can hide inside a SELECT. */
const HIDING_PLACES = [
  (f: string) => `SELECT ${f}`,
  (f: string) => `SELECT * FROM ${f}`,
  (f: string) => `SELECT * FROM system.one, ${f}`,
  (f: string) => `SELECT (SELECT ${f})`,
  (f: string) => `WITH (SELECT ${f}) AS x SELECT x`,
  (f: string) => `WITH t AS (SELECT ${f} AS v) SELECT * FROM t`,
  (f: string) => `SELECT 1 WHERE 1 IN (SELECT ${f})`,
  (f: string) => `SELECT arrayMap(x -> ${f}, [1])`,
  (f: string) => `SELECT * REPLACE (${f} AS dummy) FROM system.one`,
  (f: string) => `SELECT * APPLY (x -> ${f}) FROM system.one`,
  (f: string) => `SELECT 1 FROM system.one AS a JOIN system.one AS b ON toString(${f}) != ''`,
  (f: string) => `SELECT number FROM numbers(3) ORDER BY number WITH FILL STEP length(toString(${f}))`,
  (f: string) => `SELECT number FROM numbers(3) LIMIT length(toString(${f}))`,
  (f: string) => `SELECT count() OVER (PARTITION BY ${f}) FROM system.one`,
];

async function tablesNamedPwned(): Promise<string[]> {
  const rows = await queryRows<{ name: string }>(
    collector.storage,
    "SELECT database || '.' || name AS name FROM system.tables WHERE name LIKE '%pwned%' OR database LIKE '%pwned%'",
  );
  return rows.map((r) => r.name);
}

describe('statements smuggled past a lexer unlike ClickHouse’s', () => {
  it(`${WRAPPERS.length} wrappers × ${SMUGGLED.length} statements: each refused with 400 and a reason, or read as one harmless SELECT; none run`, async () => {
    const bad: string[] = [];
    const tally = { refused: 0, harmless: 0 };
    for (const wrap of WRAPPERS) {
      for (const statement of SMUGGLED) {
        const query = wrap(statement);
        const { status, text } = await sql(query);
        const body = JSON.parse(text) as { error?: { code: string; message: string }; rows?: unknown[] };
        // A 200 is the engine reading the whole text as one SELECT of a string or an alias (e.g.
        // `SELECT $$ ; DROP … ; $$`): one row, and the checks below prove nothing else ran.
        if (status === 200 && body.rows?.length === 1) tally.harmless++;
        else if (status === 400 && body.error?.code === 'bad-data' && body.error.message) tally.refused++;
        else bad.push(`${status} ${query} → ${text.slice(0, 160)}`);
      }
    }
    expect(bad).toEqual([]);
    expect(tally.refused).toBeGreaterThan(tally.harmless);
    expect(await tablesNamedPwned()).toEqual([]);
    expect(fs.existsSync(pwnedFile)).toBe(false);
    expect((await queryRows(collector.storage, 'SELECT count() AS n FROM sessiongraph.decisions')).length).toBe(1);
  });

  it.each(SETTINGS_TRICKS)('%s → 400', async (query) => {
    const { status, text } = await sql(query);
    expect(status, text).toBe(400);
    expect(fs.existsSync('/tmp/sg-outfile.txt')).toBe(false);
  });

  it('quoted text that only looks like an escape is read as the data it is', async () => {
    const { status, text } = await sql(
      "SELECT 'x /* ; DROP TABLE t */ ‘y’ $$ \\' ' AS s, $$a ' \" ` $$ AS h, `col ; name` FROM (SELECT 1 AS `col ; name`)",
    );
    expect(status, text).toBe(200);
    expect(JSON.parse(text).rows).toEqual([{ s: "x /* ; DROP TABLE t */ ‘y’ $$ ' ", h: 'a \' " ` ', 'col ; name': 1 }]);
  });
});

describe('no file, network, process or dictionary access', () => {
  it(`${FORBIDDEN_CALLS.length} calls × ${HIDING_PLACES.length} hiding places: 400, and no answer holds a secret or a file`, async () => {
    const leaked: string[] = [];
    const bad: string[] = [];
    for (const call of FORBIDDEN_CALLS) {
      for (const place of HIDING_PLACES) {
        const query = place(call);
        const { status, text } = await sql(query);
        if (status !== 400) bad.push(`${status} ${query} → ${text.slice(0, 120)}`);
        if (text.includes('sg-secret') || text.includes('root:x:0:0')) leaked.push(query);
      }
    }
    expect(leaked).toEqual([]);
    expect(bad).toEqual([]);
  });

  it('names what was refused', async () => {
    const { text } = await sql("SELECT file('/proc/self/environ')");
    expect(JSON.parse(text).error.message).toMatch(/function file is not allowed/);
    const table = await sql('SELECT query FROM system.query_log');
    expect(JSON.parse(table.text).error.message).toMatch(/only tables of the sessiongraph database/);
    const other = await sql('SELECT * FROM default.t JOIN sessiongraph.otel_traces USING (TraceId)');
    expect(other.status).toBe(400);
    const inList = await sql('SELECT 1 IN system.processes');
    expect(inList.status).toBe(400);
  });

  it('the allow-lists are not blanket: what an SRE writes still runs', async () => {
    const queries = [
      "SELECT toStartOfHour(Timestamp) AS hour, ServiceName, count() AS spans, countIf(StatusCode = 'Error') AS errors, quantile(0.95)(Duration) / 1e6 AS p95_ms FROM sessiongraph.otel_traces WHERE Timestamp > now() - INTERVAL 1 DAY GROUP BY hour, ServiceName ORDER BY hour, ServiceName",
      "SELECT agent_name, sumIf(cost, session_status = 'failed') AS c, uniqExact(id), argMax(title, updated_at), groupArray(3)(id) FROM agent_sessions GROUP BY agent_name",
      "SELECT d.title, s.id FROM decisions AS d JOIN agent_sessions AS s ON s.id = d.session_id WHERE d.id = '00000000-0000-0000-0000-000000000000'",
      'WITH t AS (SELECT number AS n FROM numbers(5)) SELECT n, row_number() OVER (ORDER BY n DESC) AS r, arrayMap(x -> x * n, [1, 2]) AS a FROM t',
      "SELECT table, sum(bytes_on_disk) AS bytes FROM system.parts WHERE database = 'sessiongraph' GROUP BY table",
      "SELECT CASE WHEN 1 THEN 'a' ELSE 'b' END, toDate('2026-01-01') + INTERVAL 1 DAY, formatReadableSize(1024), toTypeName(1), JSONExtractString('{\"a\":\"b\"}', 'a'), * EXCEPT dummy FROM system.one",
      'SELECT count() FROM otel_traces',
    ];
    for (const q of queries) {
      const { status, text } = await sql(q);
      expect(status, `${q} → ${text}`).toBe(200);
    }
  });
});

describe('a seeded fuzz of escape shapes', () => {
  it('300 mutated queries: never a 5xx, never a smuggled statement run', async () => {
    const rand = seededRandom(20261202);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const pieces = [
      '/*',
      '*/',
      "'",
      '"',
      '`',
      '‘',
      '’',
      '“',
      '”',
      '$$',
      '$a$',
      '\\',
      ';',
      '(',
      ')',
      '--',
      '#',
      '\n',
      ' SETTINGS readonly = 0 ',
      ' FORMAT TSV ',
      ' INTO OUTFILE ',
      '\u0000',
      '\u2028',
    ];
    const statuses: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      let query = pick(WRAPPERS)(pick(SMUGGLED));
      const edits = 1 + Math.floor(rand() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * (query.length + 1));
        query =
          rand() < 0.7
            ? query.slice(0, at) + pick(pieces) + query.slice(at)
            : query.slice(0, at) + query.slice(at + 1 + Math.floor(rand() * 3));
      }
      const { status, text } = await sql(query);
      statuses[status] = (statuses[status] ?? 0) + 1;
      expect(status, `${JSON.stringify(query)} → ${text.slice(0, 200)}`).toBeLessThan(500);
    }
    expect(await tablesNamedPwned()).toEqual([]);
    expect(fs.existsSync(pwnedFile)).toBe(false);
    console.log(`sql fuzz: 300 queries, answers by status ${JSON.stringify(statuses)}`);
  });
});

describe('afterwards', () => {
  it('ingest still stores spans (no setting left behind), every table is intact, and the collector is ready', async () => {
    const traceId = '5afe00000000000000000000000000aa';
    const res = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      body: exportBody(agentRunSpans(traceId)),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST_KEY}` },
    });
    expect(res.status, await res.text()).toBe(200);
    const stored = await queryRows<{ n: string }>(
      collector.storage,
      'SELECT toString(count()) AS n FROM sessiongraph.otel_traces WHERE TraceId = {t:String}',
      { t: traceId },
    );
    expect(Number(stored[0]?.n)).toBe(agentRunSpans(traceId).length);
    const tables = await queryRows<{ name: string }>(
      collector.storage,
      "SELECT name FROM system.tables WHERE database = 'sessiongraph'",
    );
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['otel_traces', 'agent_sessions', 'decisions', 'graph_edges']),
    );
    expect((await fetch(`${collector.url}/readyz`)).status).toBe(200);
    console.log(`sql-escapes: ${answers} hostile queries answered, nothing smuggled ran`);
  });
});
