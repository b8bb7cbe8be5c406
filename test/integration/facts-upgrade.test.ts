/**
 * Migrations 16–18 store two facts of `session_spans` as what the other columns do not already
 * tell: a span's end as `duration_ns` after its start (`end_time` becomes an ALIAS), and
 * total_tokens only above input + output. Facts stored before the upgrade keep their end and total
 * as the roll-up reads them; each of the three can run again after a crash before it was recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphWriter } from '../../src/ingest/graph-writer.ts';
import { factsInsertLine } from '../../src/ingest/insert-rows.ts';
import { toSpanFacts } from '../../src/mapping/span-facts.ts';
import { createPricer } from '../../src/pricing/pricer.ts';
import { openClickHouse } from '../../src/storage/client.ts';
import { MIGRATIONS, migrate } from '../../src/storage/schema.ts';
import { createStorage, type Storage } from '../../src/storage/storage.ts';
import { testConfig, tempDir } from '../helpers/collector.ts';
import { testSpan } from '../helpers/span-row.ts';

const DB = 'sessiongraph';
const TRACE = 'e'.repeat(32); // testSpan's trace
const ROOT = '00'.repeat(8);
let storage: Storage;
beforeAll(() => {
  storage = createStorage(openClickHouse(testConfig(tempDir())), DB);
});
afterAll(async () => {
  await storage?.close();
});

const run = async (version: number): Promise<void> => {
  for (const statement of MIGRATIONS.find((m) => m.version === version)?.statements(DB, '26.1') ?? [])
    await storage.client.command({ query: statement });
};

describe('session_spans after migrations 16–18', () => {
  it('facts stored before keep their end and total; new facts store a duration and only a total above input + output', async () => {
    await storage.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${DB}` });
    for (const m of MIGRATIONS.filter((x) => x.version <= 15)) await run(m.version);
    // Before the upgrade: end_time and total_tokens stored as they are.
    await storage.client.insert({
      table: `${DB}.session_spans`,
      values: [
        {
          trace_id: TRACE,
          span_id: ROOT,
          span_name: 'invoke_agent',
          is_agent: 1,
          start_time: '2026-11-18 11:06:40.000000000',
          end_time: '2026-11-18 11:06:45.000000000',
        },
        {
          trace_id: TRACE,
          span_id: '01'.repeat(8),
          parent_span_id: ROOT,
          start_time: '2026-11-18 11:06:40.000000001',
          end_time: '2026-11-18 11:06:42.500000009',
          is_llm: 1,
          reports_usage: 1,
          input_tokens: 100,
          output_tokens: 50,
          total_tokens: 150,
        },
        {
          trace_id: TRACE,
          span_id: '02'.repeat(8),
          parent_span_id: ROOT,
          start_time: '2026-11-18 11:06:43.000000000',
          end_time: '2026-11-18 11:06:43.000000000',
          is_llm: 1,
          reports_usage: 1,
          input_tokens: 100,
          output_tokens: 50,
          total_tokens: 400,
        },
      ],
      format: 'JSONEachRow',
    });
    // Each migration twice, as after a crash between its statements' end and its record.
    for (const version of [16, 16, 17, 17, 18, 18]) await run(version);
    await storage.client.command({
      query: `CREATE TABLE ${DB}.schema_migrations (version UInt32, description String, applied_at DateTime64(3) DEFAULT now64(3)) ENGINE = ReplacingMergeTree ORDER BY version`,
    });
    await storage.client.insert({
      table: `${DB}.schema_migrations`,
      values: MIGRATIONS.map((m) => ({ version: m.version, description: m.description })),
      format: 'JSONEachRow',
    });
    await migrate(storage.client, DB); // nothing left to apply, nothing fails

    // After it: facts as the collector makes them, from spans (testSpan starts at 11:06:40).
    const chat = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.usage.input_tokens': '10',
      'gen_ai.usage.output_tokens': '5',
    };
    await storage.insertJsonLines(
      'session_spans',
      [
        testSpan('03'.repeat(8), ROOT, chat, { startMs: 4000, endMs: 5123 }),
        testSpan('04'.repeat(8), ROOT, { ...chat, 'gen_ai.usage.total_tokens': '99' }, { startMs: 6000, endMs: 6000 }),
      ]
        .map((span) => factsInsertLine(toSpanFacts(span)))
        .join('\n'),
    );
    const rows = await storage.select<{ span: string; end: string; stored: string }>(
      `SELECT span_id AS span, toString(toUnixTimestamp64Nano(end_time)) AS end, toString(total_tokens) AS stored
       FROM ${DB}.session_spans ORDER BY span_id`,
    );
    expect(rows).toEqual([
      { span: ROOT, end: '1795000005000000000', stored: '0' },
      { span: '01'.repeat(8), end: '1795000002500000009', stored: '150' },
      { span: '02'.repeat(8), end: '1795000003000000000', stored: '400' },
      { span: '03'.repeat(8), end: '1795000005123000000', stored: '0' },
      { span: '04'.repeat(8), end: '1795000006000000000', stored: '99' },
    ]);
    // The roll-up reads old and new rows alike: every model call's total, the root's end.
    const graph = createGraphWriter(storage, { pricer: createPricer(), sessionTimeoutMs: 60_000 });
    const [rolled] = await graph.rollUp([TRACE]);
    expect(rolled?.session.tokens_used).toBe(150 + 400 + 15 + 99);
    expect(rolled?.session.last_span_at).toBe('1795000006000000000');
    expect(rolled?.session.duration_ms).toBe(5000);
    const [column] = await storage.select<{ kind: string }>(
      `SELECT default_kind AS kind FROM system.columns WHERE database = '${DB}' AND table = 'session_spans' AND name = 'end_time'`,
    );
    expect(column?.kind).toBe('ALIAS');
  });
});
