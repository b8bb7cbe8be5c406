/**
 * Group commit for log records (batch-writer.ts): each request's records become `otel_logs`
 * lines by day, and the Claude Code events among them `session_spans` facts (log-facts.ts),
 * written and rolled up by graph-writer's storeLogBatch.
 */
import { claudeCodeFacts } from '../mapping/log-facts.ts';
import type { LogRow } from '../otlp/decode-logs-row.ts';
import {
  BatchWriter,
  linesByDay,
  preparedRows,
  type BatchWriterLimits,
  type PreparedRows,
  type WrittenBatch,
} from '../storage/batch-writer.ts';
import { factsInsertLine, nsToInsertTime } from './insert-rows.ts';

/** Batches log writes into few inserts. */
export class LogWriter extends BatchWriter<LogRow> {
  /** `insert` stores a batch (graph.storeLogBatch); `probe` answers whether storage works again. */
  constructor(
    insert: (batch: WrittenBatch) => Promise<void>,
    limits: BatchWriterLimits,
    probe?: () => Promise<boolean>,
  ) {
    super(prepareLogs, insert, limits, probe, 'log records');
  }

  /** Records accepted but not yet stored (including the insert in flight). */
  get backlogRecords(): number {
    return this.backlog;
  }
}

function prepareLogs(rows: readonly LogRow[]): PreparedRows {
  const facts = rows.flatMap((r) => claudeCodeFacts(r) ?? []);
  const factLines = facts.map(factsInsertLine).join('\n');
  return preparedRows(
    linesByDay(rows, (r) => r.Timestamp, logInsertLine),
    factLines,
    new Set(facts.map((f) => f.trace_id)),
    rows.length,
  );
}

/** One `otel_logs` JSONEachRow line; the time travels as exact ISO text (see insert-rows.ts). */
export function logInsertLine(row: LogRow): string {
  return JSON.stringify({ ...row, Timestamp: nsToInsertTime(row.Timestamp) });
}
