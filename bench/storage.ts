/**
 * Bytes on disk per table of a stopped collector's data directory, after every table is merged
 * (`OPTIMIZE … FINAL`), in a process of its own (chDB binds one data directory per process).
 * `node --import tsx bench/storage.ts <data dir>` prints one JSON line: { tables: { name: { bytes, rows } }, total }.
 */
import { openClickHouse } from '../src/storage/client.ts';
import { createStorage } from '../src/storage/storage.ts';

const [dataDir = ''] = process.argv.slice(2);
const db = 'sessiongraph';
const storage = createStorage(
  openClickHouse({ dataDir, clickhouse: { url: undefined, user: '', password: '', database: db, readUser: undefined, readPassword: '' } }),
  db,
);
const tables = await storage.select<{ name: string }>(`SELECT name FROM system.tables WHERE database = '${db}' AND engine LIKE '%MergeTree'`);
for (const { name } of tables) await storage.client.command({ query: `OPTIMIZE TABLE ${db}.${name} FINAL` });
const parts = await storage.select<{ table: string; bytes: number; rows: number }>(
  `SELECT table, sum(bytes_on_disk) AS bytes, sum(rows) AS rows FROM system.parts WHERE active AND database = '${db}' GROUP BY table ORDER BY table`,
);
await storage.close();
const out = Object.fromEntries(parts.map((p) => [p.table, { bytes: Number(p.bytes), rows: Number(p.rows) }]));
process.stdout.write(`${JSON.stringify({ tables: out, total: parts.reduce((n, p) => n + Number(p.bytes), 0) })}\n`);
