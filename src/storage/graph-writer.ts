/**
 * STORE for one group-committed batch: raw spans into `otel_traces`, their facts into
 * `session_spans`, then the touched traces are rolled up again from ALL their de-duplicated
 * facts in ClickHouse (never from increments held in memory), so every collector sharing the
 * store converges on the same rows whatever the order, duplication or split of deliveries.
 */
import { performance } from 'node:perf_hooks';
import { rollUpTrace, type RollUpContext, type TraceRollUp } from '../mapping/roll-up.ts';
import { toSpanFacts, type SpanFacts } from '../mapping/span-facts.ts';
import type { SpanRow } from '../otlp/span-row.ts';
import { factsInsertLine, recordInsertLine } from './insert-rows.ts';
import { RAW_SPAN_COLUMNS } from './transcript.ts';
import type { Pricer } from '../pricing/pricer.ts';
import type { WrittenBatch } from './batch-writer.ts';
import type { Storage } from './storage.ts';


/** Roll-up settings. */
export interface GraphOptions {
  pricer: Pricer;
  /** A session without its root is abandoned this long after its newest span ended. */
  sessionTimeoutMs: number;
}

/** Seconds spent in each statement kind of a stored batch, for /metrics and the bench's per-stage profile. */
export interface StageSeconds {
  journal: number;
  raw: number;
  facts: number;
  rollup: number;
}

/** Writes batches and keeps the graph tables rolled up. */
export interface GraphWriter {
  readonly stageSeconds: StageSeconds;
  /** Stores a batch of spans (`otel_traces`) and rolls up the traces it touches. */
  storeBatch(batch: WrittenBatch): Promise<void>;
  /** Stores a batch of log records (`otel_logs`), and the facts and roll-up of the Claude Code events among them. */
  storeLogBatch(batch: WrittenBatch): Promise<void>;
  /** Recomputes the given traces from their stored facts. */
  rollUp(traceIds: readonly string[], nowNs?: bigint): Promise<TraceRollUp[]>;
  /** Re-rolls sessions still active whose newest span is older than the timeout; returns how many. */
  sweepAbandoned(nowNs?: bigint): Promise<number>;
  /**
   * After a crash: re-derives the facts and sessions of the traces of the batches written in
   * the minute before the last journal entry (any batch in flight when the process died).
   * Returns how many traces were recomputed.
   */
  recoverInFlight(): Promise<number>;
}

const FACT_COLUMNS = `* EXCEPT (inserted_at) REPLACE (
  toString(toUnixTimestamp64Nano(start_time)) AS start_time,
  toString(toUnixTimestamp64Nano(end_time)) AS end_time)`;

/** Current time in ns since the epoch. */
export function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Creates the writer over a storage. */
export function createGraphWriter(storage: Storage, options: GraphOptions): GraphWriter {
  const db = storage.database;
  const abandonAfterNs = BigInt(options.sessionTimeoutMs) * 1_000_000n;

  const rollUp = async (traceIds: readonly string[], nowNs = nowNanos()): Promise<TraceRollUp[]> => {
    if (traceIds.length === 0) return [];
    const facts = await storage.select<SpanFacts>(
      `SELECT ${FACT_COLUMNS} FROM ${db}.session_spans WHERE trace_id IN {ids:Array(String)}
       ORDER BY trace_id, span_id, end_time DESC, span_name LIMIT 1 BY trace_id, span_id`,
      { ids: [...traceIds] },
    );
    const byTrace = new Map<string, SpanFacts[]>();
    for (const f of facts) {
      const list = byTrace.get(f.trace_id) ?? [];
      list.push(f);
      byTrace.set(f.trace_id, list);
    }
    const ctx: RollUpContext = { nowNs, abandonAfterNs, pricer: options.pricer };
    const results = [...byTrace.values()].map((spans) => rollUpTrace(spans, ctx));
    await writeRollUps(storage, results);
    return results;
  };

  const stageSeconds: StageSeconds = { journal: 0, raw: 0, facts: 0, rollup: 0 };
  const timed = async <T,>(stage: keyof StageSeconds, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      stageSeconds[stage] += (performance.now() - started) / 1000;
    }
  };
  const storeRaw = async (table: 'otel_traces' | 'otel_logs', batch: WrittenBatch): Promise<void> => {
    // Nothing to roll up (log records other than agent events): the raw rows are all there is.
    if (batch.traceIds.length === 0) {
      await timed('raw', async () => {
        for (const slice of batch.slices) await storage.insertJsonLines(table, slice);
      });
      return;
    }
    // The journal entry comes first: if the process dies anywhere below, the next start
    // knows which traces to recompute (recoverInFlight).
    await timed('journal', () => storage.insertJsonLines('ingest_journal', JSON.stringify({ trace_ids: batch.traceIds })));
    // Slice after slice: if one fails, the batch fails (no 2xx) even though earlier slices are
    // stored; the re-sent rows duplicate raw rows only, which readers de-duplicate, as after
    // any failure below.
    await timed('raw', async () => {
      for (const slice of batch.slices) await storage.insertJsonLines(table, slice);
    });
    try {
      if (batch.factLines !== '') await timed('facts', () => storage.insertJsonLines('session_spans', batch.factLines));
      await timed('rollup', () => rollUp(batch.traceIds));
    } catch (err) {
      // The rows are stored already: whatever failed after them must be retried (503), never
      // refused (400), or the client would drop rows it believes were not stored. A retry
      // duplicates nothing that counts, and the journal repairs the rest at the next start.
      throw new Error(`${table === 'otel_traces' ? 'spans' : 'log records'} stored, session roll-up failed: ${(err as Error).message}`, { cause: err });
    }
  };

  return {
    stageSeconds,
    storeBatch: (batch) => storeRaw('otel_traces', batch),
    storeLogBatch: (batch) => storeRaw('otel_logs', batch),
    rollUp,
    async sweepAbandoned(nowNs = nowNanos()) {
      const stale = await storage.select<{ trace_id: string }>(
        `SELECT trace_id FROM ${db}.agent_sessions FINAL
         WHERE session_status = 'active' AND toUnixTimestamp64Nano(last_span_at) < {cutoff:Int64}`,
        { cutoff: (nowNs - abandonAfterNs).toString() },
      );
      await rollUp(stale.map((r) => r.trace_id), nowNs);
      return stale.length;
    },
    async recoverInFlight() {
      const recent = await storage.select<{ trace_id: string }>(
        `SELECT DISTINCT arrayJoin(trace_ids) AS trace_id FROM ${db}.ingest_journal
         WHERE written_at >= (SELECT max(written_at) FROM ${db}.ingest_journal) - INTERVAL 60 SECOND`,
      );
      const traceIds = recent.map((r) => r.trace_id);
      for (let i = 0; i < traceIds.length; i += 500) {
        const chunk = traceIds.slice(i, i + 500);
        const rows = await storage.select<SpanRow>(
          `SELECT ${RAW_SPAN_COLUMNS} FROM ${db}.otel_traces WHERE TraceId IN {ids:Array(String)} ORDER BY TraceId, SpanId LIMIT 1 BY TraceId, SpanId`,
          { ids: chunk },
        );
        if (rows.length > 0) await storage.insertJsonLines('session_spans', rows.map((r) => factsInsertLine(toSpanFacts(r))).join('\n'));
        await rollUp(chunk);
      }
      return traceIds.length;
    },
  };
}

async function writeRollUps(storage: Storage, results: readonly TraceRollUp[]): Promise<void> {
  const write = async <T extends object>(table: string, rows: readonly T[], timeKeys: ReadonlyArray<keyof T>): Promise<void> => {
    if (rows.length > 0) await storage.insertJsonLines(table, rows.map((r) => recordInsertLine(r, timeKeys)).join('\n'));
  };
  await write('agent_sessions', results.map((r) => r.session), ['session_start', 'session_end', 'last_span_at']);
  await write('agent_definitions', results.flatMap((r) => (r.definition ? [r.definition] : [])), ['first_seen', 'last_seen']);
  await write('decisions', results.flatMap((r) => r.decisions), ['decided_at']);
  await write('graph_edges', results.flatMap((r) => r.edges), ['created_at']);
}
