/**
 * The ceiling the collector is compared with, in a process of its own (chDB binds one data
 * directory per process): the engine inserting the very same `otel_traces` rows, serialised
 * before the clock starts, in the collector's batch size, one insert after another, into a fresh
 * table with the project's DDL — no HTTP, no decoding, no facts, no roll-up.
 * `node --import tsx bench/ceiling.ts <bodies file> <data dir> <rows per insert>` prints one
 * JSON line: rows, seconds.
 */
import { performance } from 'node:perf_hooks';
import { decodeTraceRequestProtobuf } from '../src/otlp/decode-protobuf.ts';
import { spanInsertLine } from '../src/ingest/insert-rows.ts';
import { migrateStorage } from '../src/storage/storage.ts';
import { openStoppedDataDir } from '../test/helpers/collector.ts';
import { readBodies } from './bodies-file.ts';

const [bodiesFile = '', dataDir = '', perInsertText = '5000'] = process.argv.slice(2);
const perInsert = Number(perInsertText);
const lines = readBodies(bodiesFile).flatMap((body) => decodeTraceRequestProtobuf(body).spans.map(spanInsertLine));
const batches: string[] = [];
for (let i = 0; i < lines.length; i += perInsert) batches.push(lines.slice(i, i + perInsert).join('\n'));

const storage = openStoppedDataDir(dataDir);
await migrateStorage(storage);
const started = performance.now();
for (const batch of batches) await storage.insertJsonLines('otel_traces', batch);
const seconds = (performance.now() - started) / 1000;
await storage.close();
process.stdout.write(`${JSON.stringify({ rows: lines.length, seconds })}\n`);
