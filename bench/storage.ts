/**
 * Bytes on disk per table of a stopped collector's data directory, after every table is merged
 * (`OPTIMIZE … FINAL`), in a process of its own (chDB binds one data directory per process).
 * `node --import tsx bench/storage.ts <data dir> [exporter]` prints one JSON line: { tables: { name: { bytes, rows } }, total }.
 * With `exporter`, its otel_traces rows are first copied into `exporter_otel_traces`, created with
 * the OpenTelemetry Collector exporter's own DDL (the project's otel_traces differs in one codec).
 */
import { OTEL_TRACES } from '../src/storage/schema.ts';
import { openStoppedDataDir } from '../test/helpers/collector.ts';

const [dataDir = '', mode = ''] = process.argv.slice(2);
const db = 'sessiongraph';
const storage = openStoppedDataDir(dataDir);
if (mode === 'exporter') {
  await storage.client.command({ query: OTEL_TRACES(db, 'exporter_otel_traces') });
  await storage.client.command({ query: `INSERT INTO ${db}.exporter_otel_traces SELECT * FROM ${db}.otel_traces` });
}
const tables = await storage.select<{ name: string }>(
  `SELECT name FROM system.tables WHERE database = '${db}' AND engine LIKE '%MergeTree'`,
);
for (const { name } of tables) await storage.client.command({ query: `OPTIMIZE TABLE ${db}.${name} FINAL` });
const parts = await storage.select<{ table: string; bytes: number; rows: number }>(
  `SELECT table, sum(bytes_on_disk) AS bytes, sum(rows) AS rows FROM system.parts WHERE active AND database = '${db}' GROUP BY table ORDER BY table`,
);
await storage.close();
const out = Object.fromEntries(parts.map((p) => [p.table, { bytes: Number(p.bytes), rows: Number(p.rows) }]));
process.stdout.write(`${JSON.stringify({ tables: out, total: parts.reduce((n, p) => n + Number(p.bytes), 0) })}\n`);
