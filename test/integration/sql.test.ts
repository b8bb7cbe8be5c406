/**
 * Read-only SQL through the collector (`POST /api/sql`, `sessiongraph sql`): SELECTs answer,
 * anything that writes, changes settings or reaches outside the database is refused with 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { runCli } from '../helpers/cli.ts';
import { startTestCollector, tempDir } from '../helpers/collector.ts';

let collector: RunningCollector;
beforeAll(async () => {
  collector = await startTestCollector(tempDir());
  const body = JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'sql-test' } }] },
        scopeSpans: [
          {
            spans: [1, 2, 3].map((i) => ({
              traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
              spanId: String(i).padStart(16, '0'),
              name: `op-${i}`,
              startTimeUnixNano: '1767225600000000000',
              endTimeUnixNano: '1767225600100000000',
            })),
          },
        ],
      },
    ],
  });
  const res = await fetch(`${collector.url}/v1/traces`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await collector?.close();
});

async function sql(query: string): Promise<{
  status: number;
  body: { rows?: Array<Record<string, unknown>>; error?: { code: string; message: string } };
}> {
  const res = await fetch(`${collector.url}/api/sql`, { method: 'POST', body: query });
  return { status: res.status, body: (await res.json()) as never };
}

describe('POST /api/sql', () => {
  it('answers a SELECT with columns and rows', async () => {
    const res = await fetch(`${collector.url}/api/sql`, {
      method: 'POST',
      body: JSON.stringify({ query: 'SELECT SpanName, Duration FROM sessiongraph.otel_traces ORDER BY SpanName;' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      columns: [
        { name: 'SpanName', type: 'LowCardinality(String)' },
        { name: 'Duration', type: 'UInt64' },
      ],
      rows: ['op-1', 'op-2', 'op-3'].map((SpanName) => ({ SpanName, Duration: '100000000' })),
      truncated: false,
    });
  });

  it.each([
    ['DROP TABLE sessiongraph.otel_traces', /only SELECT/],
    ["INSERT INTO sessiongraph.otel_traces (SpanName) VALUES ('x')", /only SELECT/],
    ['ALTER TABLE sessiongraph.otel_traces DELETE WHERE 1', /only SELECT/],
    ['SET readonly = 0', /only SELECT/],
    ['SELECT 1 SETTINGS readonly = 0', /SETTINGS clauses are not allowed/],
    ["SELECT * FROM file('/etc/passwd', 'LineAsString')", /function file is not allowed/],
    ["SELECT * FROM url('http://127.0.0.1:9/', 'LineAsString')", /function url is not allowed/],
    ['SELECT 1; DROP TABLE sessiongraph.otel_traces', /Multi-statements are not allowed/],
    ['SELECT 1) ; DROP TABLE sessiongraph.otel_traces; SELECT (1', /Syntax error/],
    ["SELECT 'x' /* ; DROP TABLE sessiongraph.otel_traces", /Multiline comment is not closed/],
    ['SELECT count() FROM sessiongraph.otel_traces --', /^/],
  ])('%s → refused or harmless', async (query, message) => {
    const { status, body } = await sql(query);
    if (status === 200) {
      expect(query).toMatch(/--$/); // the trailing comment cannot swallow the limits
    } else {
      expect(status).toBe(400);
      expect(body.error?.message).toMatch(message);
    }
  });

  it("reads the collector's database by default, as ClickHouse does: unqualified and qualified names alike, FINAL applied", async () => {
    const unqualified = await sql('SELECT count() AS n FROM otel_traces');
    expect(unqualified).toEqual({
      status: 200,
      body: { columns: [{ name: 'n', type: 'UInt64' }], rows: [{ n: '3' }], truncated: false },
    });
    const joined = await sql(
      'SELECT s.span_count AS spans, count() AS rows FROM agent_sessions AS s JOIN sessiongraph.otel_traces AS t ON t.TraceId = s.trace_id GROUP BY spans',
    );
    expect(joined.body.rows).toEqual([{ spans: 1, rows: '3' }]); // three root spans: the first is the session's
    // Unqualified names are still confined to the collector's database.
    expect((await sql('SELECT * FROM one')).status).toBe(400);
    expect((await sql('SELECT name FROM databases')).status).toBe(400);
  });

  it('after all of that, the table and its rows are intact', async () => {
    const { status, body } = await sql('SELECT count() AS n FROM sessiongraph.otel_traces');
    expect(status).toBe(200);
    expect(body.rows).toEqual([{ n: '3' }]);
  });

  it("a query error is a 400 with ClickHouse's message", async () => {
    const { status, body } = await sql('SELECT nope FROM sessiongraph.otel_traces');
    expect(status).toBe(400);
    expect(body.error?.code).toBe('bad-data');
    expect(body.error?.message).toMatch(/query failed: .*nope/);
  });
});

describe('sessiongraph sql', () => {
  it('prints a table, or JSON with --json', async () => {
    const table = await runCli([
      'sql',
      'SELECT SpanName AS name FROM sessiongraph.otel_traces ORDER BY name',
      '--url',
      collector.url,
    ]);
    expect(table.code).toBe(0);
    expect(table.output).toMatch(/^name\n─+\nop-1\nop-2\nop-3\n\(3 rows\)\n$/);
    const json = await runCli(['sql', 'SELECT count() AS n FROM otel_traces', '--json'], {
      SESSIONGRAPH_URL: collector.url,
    });
    expect(JSON.parse(json.output)).toEqual([{ n: '3' }]);
  });

  it('reports a refused query and a collector that is not running', async () => {
    const refused = await runCli(['sql', 'DROP TABLE sessiongraph.otel_traces', '--url', collector.url]);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('sessiongraph: only SELECT queries are allowed');
    const down = await runCli(['sql', 'SELECT 1', '--url', 'http://127.0.0.1:9']);
    expect(down.code).toBe(1);
    expect(down.output).toContain('cannot reach the collector at http://127.0.0.1:9');
  });
});
