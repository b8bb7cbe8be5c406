/**
 * Group commit for spans (batch-writer.ts): each request's spans become `otel_traces` lines by
 * day and `session_spans` facts, written and rolled up by graph-writer's storeBatch.
 */
import { keepSummaryTexts, toSpanFacts } from '../mapping/span-facts.ts';
import type { SpanRow } from '../otlp/span-row.ts';
import { BatchWriter, linesByDay, type BatchWriterLimits, type PreparedRows, type WrittenBatch } from '../storage/batch-writer.ts';
import { factsInsertLine, spanInsertLine } from './insert-rows.ts';

/** Batches span writes into few inserts. */
export class SpanWriter extends BatchWriter<SpanRow> {
  /**
   * `probe` answers whether storage works again; after a failed insert it is asked every
   * second, and until it says yes every write is refused at once (503) instead of queueing
   * up behind a dead server.
   */
  constructor(insert: (batch: WrittenBatch) => Promise<void>, limits: BatchWriterLimits, probe?: () => Promise<boolean>) {
    super(prepareSpans, insert, limits, probe, 'spans');
  }

  /** Spans accepted but not yet stored (including the insert in flight). */
  get backlogSpans(): number {
    return this.backlog;
  }
}

function prepareSpans(rows: readonly SpanRow[]): PreparedRows {
  const days = linesByDay(rows, (r) => r.Timestamp, spanInsertLine);
  const factLines = keepSummaryTexts(rows.map(toSpanFacts)).map(factsInsertLine).join('\n');
  let bytes = factLines.length;
  for (const lines of days.values()) bytes += lines.length;
  return { days, factLines, traceIds: new Set(rows.map((r) => r.TraceId)), count: rows.length, bytes };
}
