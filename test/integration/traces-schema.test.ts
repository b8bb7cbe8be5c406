/**
 * `otel_traces` is the OpenTelemetry Collector exporter's table, so its readers (Grafana's
 * ClickHouse plugin, ClickStack, an SRE's saved SQL) work unchanged: after every migration it
 * differs from the exporter's DDL in one codec only (SpanAttributes, measured in migration 15),
 * and keeps the default compression blocks that a transcript read needs (migration 19).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse } from '../../src/storage/client.ts';
import { MIGRATIONS, OTEL_TRACES, migrate } from '../../src/storage/schema.ts';
import { createStorage, type Storage } from '../../src/storage/storage.ts';
import { queryRows, testConfig, tempDir } from '../helpers/collector.ts';

let storage: Storage;
beforeAll(() => {
  storage = createStorage(openClickHouse(testConfig(tempDir())), 'sessiongraph');
});
afterAll(async () => {
  await storage?.close();
});

type Column = { name: string; type: string; compression_codec: string };
const columns = (db: string): Promise<Column[]> =>
  queryRows<Column>(
    storage,
    "SELECT name, type, compression_codec FROM system.columns WHERE database = {d:String} AND table = 'otel_traces' ORDER BY position",
    { d: db },
  );
const table = async (db: string) =>
  (
    await queryRows<{ sorting_key: string; partition_key: string; q: string }>(
      storage,
      "SELECT sorting_key, partition_key, create_table_query AS q FROM system.tables WHERE database = {d:String} AND name = 'otel_traces'",
      { d: db },
    )
  )[0]!;
const settingsOf = (createQuery: string): string => /\bSETTINGS (.*)$/s.exec(createQuery)?.[1] ?? '';

describe('otel_traces after every migration', () => {
  it("is the exporter's table but for SpanAttributes' codec, with the default compression blocks", async () => {
    const { client } = storage;
    await client.command({ query: 'CREATE DATABASE IF NOT EXISTS exporter_ref' });
    await client.command({ query: OTEL_TRACES('exporter_ref') });
    await migrate(client, 'upgraded');

    const ours = await columns('upgraded');
    const theirs = await columns('exporter_ref');
    expect(ours.length).toBeGreaterThan(20);
    expect(ours.map((c) => [c.name, c.type])).toEqual(theirs.map((c) => [c.name, c.type]));
    const differing = ours.filter((c, i) => c.compression_codec !== theirs[i]?.compression_codec);
    expect(differing).toEqual([
      { name: 'SpanAttributes', type: 'Map(LowCardinality(String), String)', compression_codec: 'CODEC(ZSTD(7))' },
    ]);

    const [oursTable, theirsTable] = [await table('upgraded'), await table('exporter_ref')];
    expect([oursTable.sorting_key, oursTable.partition_key]).toEqual([
      theirsTable.sorting_key,
      theirsTable.partition_key,
    ]);
    // Migration 15 set 1–4 MiB blocks; 19 takes them back, and can run again after a crash.
    expect(settingsOf(oursTable.q)).toBe(settingsOf(theirsTable.q));
    expect(settingsOf(oursTable.q)).not.toMatch(/compress_block_size/);
    for (const statement of MIGRATIONS.find((m) => m.version === 19)!.statements('upgraded', '26.1'))
      await client.command({ query: statement });
    expect(settingsOf((await table('upgraded')).q)).toBe(settingsOf(theirsTable.q));
  });
});
