/**
 * Erasure on request: by user, by conversation and by session, through the API (`DELETE
 * /api/sessions?…`, admin scope) and `sessiongraph erase`. Counts before and after, nothing else
 * touched, the graph removed or kept without personal fields, the erasure record kept (with the
 * criterion only as a SHA-256), a re-sent copy of an erased span dropped, and the admin scope
 * enforced — read and ingest keys are refused, and without keys only loopback callers may erase.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { sessionIdOf } from '../../src/mapping/ids.ts';
import { runCli, spawnCollector } from '../helpers/cli.ts';
import { startTestCollector, tempDir, testConfig } from '../helpers/collector.ts';
import { createApp } from '../../collector/app.ts';
import { silentLogger } from '../../src/logger.ts';

const ADMIN = 'sgk-erase-admin-4b7e1c9d2a6f3e8b5c0d7a1e4f9b2c6d';
const READ = 'sgk-erase-read-8a3f6c1e9b4d7a2f5c8e1b6d3a9f4c7e';
const INGEST = 'sgk-erase-ingest-2c5f8b1e4a7d0c3f6b9e2a5d8c1f4b7e';
const T0 = Date.UTC(2026, 10, 20, 9, 0, 0);
const ns = (ms: number): string => `${BigInt(ms) * 1_000_000n}`;
const attr = (key: string, value: string): object => ({ key, value: { stringValue: value } });

/** A run of `user` in `conversation`: agent root with the user's text, a tool call, a decision, and a log record. */
function run(n: number, user: string, conversation: string): { traceId: string; spans: string; logs: string } {
  const traceId = n.toString(16).padStart(32, 'e');
  const start = T0 + n * 60_000;
  const span = (id: string, parent: string, name: string, attributes: object[]): object => ({
    traceId,
    spanId: id,
    parentSpanId: parent,
    name,
    startTimeUnixNano: ns(start),
    endTimeUnixNano: ns(start + 1000),
    attributes,
  });
  const spans = [
    span('00000000000000a1', '', 'invoke_agent helper', [
      attr('gen_ai.operation.name', 'invoke_agent'),
      attr('gen_ai.agent.name', 'helper'),
      attr('user.id', user),
      attr('gen_ai.conversation.id', conversation),
      attr(
        'gen_ai.input.messages',
        JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: `private note of ${user}` }] }]),
      ),
    ]),
    span('00000000000000b1', '00000000000000a1', 'execute_tool crm_lookup', [
      attr('gen_ai.operation.name', 'execute_tool'),
      attr('gen_ai.tool.name', 'crm_lookup'),
      attr('gen_ai.tool.call.arguments', `{"who":"${user}"}`),
    ]),
    span('00000000000000c1', '00000000000000a1', 'decide', [attr('decision.title', `Answer ${user}`)]),
  ];
  const resource = { attributes: [attr('service.name', 'erase-test')] };
  return {
    traceId,
    spans: JSON.stringify({ resourceSpans: [{ resource, scopeSpans: [{ spans }] }] }),
    logs: JSON.stringify({
      resourceLogs: [
        {
          resource,
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: ns(start),
                  traceId,
                  spanId: '00000000000000a1',
                  body: { stringValue: `log of ${user}` },
                },
              ],
            },
          ],
        },
      ],
    }),
  };
}

const NONE = { otel_traces: 0, session_spans: 0, otel_logs: 0, agent_sessions: 0, decisions: 0, graph_edges: 0 };
const RUNS = [
  run(1, 'alice', 'conv-a1'),
  run(2, 'alice', 'conv-a2'),
  run(3, 'bob', 'conv-b1'),
  run(4, 'bob', 'conv-b2'),
  run(5, 'carol', 'conv-c1'),
];

let collector: RunningCollector;
const headers = (key: string, extra: Record<string, string> = {}): Record<string, string> => ({
  authorization: `Bearer ${key}`,
  ...extra,
});

async function send(key: string, r: (typeof RUNS)[number]): Promise<void> {
  for (const [path, body] of [
    ['/v1/traces', r.spans],
    ['/v1/logs', r.logs],
  ] as const) {
    const res = await fetch(`${collector.url}${path}`, {
      method: 'POST',
      body,
      headers: headers(key, { 'content-type': 'application/json' }),
    });
    expect(res.status, path).toBe(200);
  }
}

/** Rows of each table holding `traceId` (or its session). */
async function rowsOf(traceId: string): Promise<Record<string, number>> {
  const session = sessionIdOf(traceId);
  const out: Record<string, number> = {};
  const tables: Array<[string, string]> = [
    ['otel_traces', `TraceId = '${traceId}'`],
    ['session_spans FINAL', `trace_id = '${traceId}'`],
    ['otel_logs', `TraceId = '${traceId}'`],
    ['agent_sessions FINAL', `id = '${session}'`],
    ['decisions FINAL', `session_id = '${session}'`],
    ['graph_edges FINAL', `source_id = '${session}' OR target_id = '${session}'`],
  ];
  for (const [table, where] of tables) {
    out[table.replace(' FINAL', '')] = Number(
      (
        await collector.storage.select<{ n: string }>(`SELECT count() AS n FROM sessiongraph.${table} WHERE ${where}`)
      )[0]?.n,
    );
  }
  return out;
}

beforeAll(async () => {
  collector = await startTestCollector(tempDir(), {
    SESSIONGRAPH_API_KEYS: `${ADMIN}=admin+read,${READ}=read,${INGEST}=ingest`,
  });
  for (const r of RUNS) await send(INGEST, r);
  expect(await collector.graph.settled()).toBe(true);
}, 60_000);
afterAll(async () => {
  await collector?.close();
});

describe('erasure', () => {
  it('needs the admin scope: read and ingest keys are refused and nothing is erased', async () => {
    for (const key of [READ, INGEST]) {
      const res = await fetch(`${collector.url}/api/sessions?user_id=alice`, {
        method: 'DELETE',
        headers: headers(key),
      });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/"admin" scope/);
    }
    expect((await fetch(`${collector.url}/api/sessions?user_id=alice`, { method: 'DELETE' })).status).toBe(401);
    expect((await fetch(`${collector.url}/api/erasures`, { headers: headers(READ) })).status).toBe(403);
    expect((await rowsOf(RUNS[0]?.traceId ?? '')).otel_traces).toBe(3);
  });

  it("by user: every span, fact, log record and node of the user's sessions, and nothing of anyone else", async () => {
    const others = await Promise.all(RUNS.slice(2).map((r) => rowsOf(r.traceId)));
    const res = await fetch(`${collector.url}/api/sessions?user_id=alice`, {
      method: 'DELETE',
      headers: headers(ADMIN),
    });
    expect(res.status).toBe(200);
    const record = (await res.json()) as Record<string, any>;
    expect(record).toMatchObject({
      criterion: 'user_id',
      criterion_sha256: createHash('sha256').update('alice').digest('hex'),
      graph: 'remove',
      sessions: 2,
    });
    expect(record.requested_by).toMatch(/^api key sha256:[0-9a-f]{16}$/);
    expect(record.rows_before).toMatchObject({
      otel_traces: 6,
      session_spans: 6,
      otel_logs: 2,
      agent_sessions: 2,
      decisions: 2,
    });
    expect(record.rows_after).toEqual(Object.fromEntries(Object.keys(record.rows_before).map((t) => [t, 0])));
    for (const r of RUNS.slice(0, 2)) expect(await rowsOf(r.traceId)).toEqual(NONE);
    expect(await Promise.all(RUNS.slice(2).map((r) => rowsOf(r.traceId)))).toEqual(others);
    // No trace of the user's texts anywhere but the erasure record's hash.
    const [left] = await collector.storage.select<{ n: string }>(
      `SELECT count() AS n FROM sessiongraph.otel_traces WHERE positionCaseInsensitive(toString(SpanAttributes), 'alice') > 0`,
    );
    expect(Number(left?.n)).toBe(0);
  });

  it('by conversation, keeping the graph without its personal fields', async () => {
    const bob1 = RUNS[2]?.traceId ?? '';
    const res = await fetch(`${collector.url}/api/sessions?conversation_id=conv-b1&graph=keep`, {
      method: 'DELETE',
      headers: headers(ADMIN),
    });
    expect(res.status).toBe(200);
    expect(await rowsOf(bob1)).toEqual({
      otel_traces: 0,
      session_spans: 0,
      otel_logs: 0,
      agent_sessions: 1,
      decisions: 1,
      graph_edges: 2,
    });
    const { session } = (await (
      await fetch(`${collector.url}/api/sessions/${sessionIdOf(bob1)}`, { headers: headers(READ) })
    ).json()) as { session: Record<string, unknown> };
    expect(session).toMatchObject({
      user_id: '',
      conversation_id: '',
      description: '[erased]',
      output_summary: '[erased]',
      agent_name: 'helper',
      tool_call_count: 1,
    });
    expect((await rowsOf(RUNS[3]?.traceId ?? '')).otel_traces).toBe(3); // bob's other conversation stays
  });

  it('by session, through sessiongraph erase: it shows what matches, refuses without --yes when it cannot ask, and reports rows before and after', async () => {
    const carol = sessionIdOf(RUNS[4]?.traceId ?? '');
    const env = { SESSIONGRAPH_URL: collector.url, SESSIONGRAPH_API_KEY: ADMIN };
    const refused = await runCli(['erase', '--session', carol], env);
    expect(refused.code).toBe(2);
    expect(refused.output).toContain('1 session(s) match');
    expect(refused.output).toMatch(/pass --yes/);
    expect((await rowsOf(RUNS[4]?.traceId ?? '')).otel_traces).toBe(3);
    const done = await runCli(['erase', '--session', carol, '--yes'], env);
    expect(done.code).toBe(0);
    expect(done.output).toMatch(/otel_traces\s+3\s+0/);
    expect(done.output).toMatch(/agent_sessions\s+1\s+0/);
    expect(await rowsOf(RUNS[4]?.traceId ?? '')).toEqual(NONE);
    const none = await runCli(['erase', '--user-id', 'nobody', '--yes'], env);
    expect(none.code).toBe(3);
  });

  it('a re-sent copy of an erased span is acknowledged and dropped, and counted', async () => {
    await send(INGEST, RUNS[0] as (typeof RUNS)[number]);
    expect(await collector.graph.settled()).toBe(true);
    expect(await rowsOf(RUNS[0]?.traceId ?? '')).toEqual(NONE);
    const metrics = await (await fetch(`${collector.url}/metrics`, { headers: headers(READ) })).text();
    expect(Number(/^sessiongraph_erased_rows_dropped_total (\d+)$/m.exec(metrics)?.[1])).toBe(4); // 3 spans + 1 log record
  });

  it('a read key cannot reach the records through SQL, however the table is named', async () => {
    for (const query of [
      'SELECT * FROM erasures',
      'SELECT trace_ids FROM sessiongraph.erasures',
      'SELECT count() FROM (SELECT criterion_sha256 FROM erasures)',
      'WITH e AS (SELECT * FROM `erasures`) SELECT * FROM e',
      'SELECT 1 FROM agent_sessions AS s JOIN erasures AS e ON 1 = 1',
    ]) {
      const res = await fetch(`${collector.url}/api/sql`, { method: 'POST', body: query, headers: headers(READ) });
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message, query).toMatch(/admin scope/);
    }
  });

  it('keeps an erasure record of each, newest first', async () => {
    const { erasures } = (await (await fetch(`${collector.url}/api/erasures`, { headers: headers(ADMIN) })).json()) as {
      erasures: Array<Record<string, any>>;
    };
    expect(erasures.map((e) => [e.criterion, e.graph, e.sessions])).toEqual([
      ['session_id', 'remove', 1],
      ['conversation_id', 'keep', 1],
      ['user_id', 'remove', 2],
    ]);
    expect(JSON.stringify(erasures)).not.toContain('alice');
  });
});

/** An app over the same storage whose config has no keys, called without a socket (app.request). */
function collectorWithoutKeysApp() {
  return createApp({
    storage: collector.storage,
    writer: collector.writer,
    graph: collector.graph,
    config: testConfig(tempDir()),
    logger: silentLogger,
  });
}

describe('erasure without API keys', () => {
  it("loopback callers may erase; the check is on the caller's address", async () => {
    // Its own process: chDB binds one data directory per process.
    const other = await spawnCollector(['serve', '--data-dir', tempDir(), '--port', '0', '--grpc-port', 'off']);
    try {
      const r = RUNS[0] as (typeof RUNS)[number];
      expect(
        (
          await fetch(`${other.url}/v1/traces`, {
            method: 'POST',
            body: r.spans,
            headers: { 'content-type': 'application/json' },
          })
        ).status,
      ).toBe(200);
      const res = await fetch(`${other.url}/api/sessions?user_id=alice`, { method: 'DELETE' });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { requested_by: string }).requested_by).toMatch(
        /^loopback (127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/,
      );
    } finally {
      other.child.kill('SIGTERM');
      await other.exited;
    }
    // The same request without a socket (no caller address to check) is refused.
    expect((await collectorWithoutKeysApp().request('/api/sessions?user_id=alice', { method: 'DELETE' })).status).toBe(
      403,
    );
  });
});
