/**
 * Group commit for spans (batch-writer.ts): each request's spans become `otel_traces` lines by
 * day and `session_spans` facts, written and rolled up by graph-writer's storeBatch.
 */
import { keepSummaryTexts, toSpanFacts } from '../mapping/span-facts.ts';
import type { SpanRow } from '../otlp/span-row.ts';
import {
  BatchWriter,
  linesByDay,
  preparedRows,
  type BatchWriterLimits,
  type PreparedRows,
  type WrittenBatch,
} from '../storage/batch-writer.ts';
import { factsInsertLine, spanInsertLine } from './insert-rows.ts';

/** Batches span writes into few inserts. */
export class SpanWriter extends BatchWriter<SpanRow> {
  /**
   * `probe` answers whether storage works again; after a failed insert it is asked every
   * second, and until it says yes every write is refused at once (503) instead of queueing
   * up behind a dead server.
   */
  constructor(
    insert: (batch: WrittenBatch) => Promise<void>,
    limits: BatchWriterLimits,
    probe?: () => Promise<boolean>,
  ) {
    super(prepareSpans, insert, limits, probe, 'spans');
  }

  /** Spans accepted but not yet stored (including the insert in flight). */
  get backlogSpans(): number {
    return this.backlog;
  }
}

function prepareSpans(rows: readonly SpanRow[]): PreparedRows {
  return preparedRows(
    linesByDay(rows, (r) => r.Timestamp, spanInsertLine),
    factLinesOf(rows),
    new Set(rows.map((r) => r.TraceId)),
    rows.length,
  );
}

/** The `session_spans` lines of some spans: their facts, with only the texts a session can show. */
export function factLinesOf(rows: readonly SpanRow[]): string {
  return keepSummaryTexts(rows.map(toSpanFacts)).map(factsInsertLine).join('\n');
}
