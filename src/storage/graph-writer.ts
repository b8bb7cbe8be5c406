/**
 * STORE for one group-committed batch: raw spans into `otel_traces`, their facts into
 * `session_spans`, then the touched traces are rolled up again from ALL their de-duplicated
 * facts in ClickHouse (never from increments held in memory), so every collector sharing the
 * store converges on the same rows whatever the order, duplication or split of deliveries.
 */
import { rollUpTrace, type RollUpContext, type TraceRollUp } from '../mapping/roll-up.ts';
import type { SpanFacts } from '../mapping/span-facts.ts';
import type { Pricer } from '../pricing/pricer.ts';
import type { Storage } from './storage.ts';

/** A batch ready to store: serialized rows of both tables and the traces they touch. */
export interface SpanBatch {
  spanLines: string;
  factLines: string;
  traceIds: string[];
}

/** Roll-up settings. */
export interface GraphOptions {
  pricer: Pricer;
  /** A session without its root is abandoned this long after its newest span ended. */
  sessionTimeoutMs: number;
}

/** Writes batches and keeps the graph tables rolled up. */
export interface GraphWriter {
  storeBatch(batch: SpanBatch): Promise<void>;
  /** Recomputes the given traces from their stored facts. */
  rollUp(traceIds: readonly string[], nowNs?: bigint): Promise<TraceRollUp[]>;
  /** Re-rolls sessions still active whose newest span is older than the timeout; returns how many. */
  sweepAbandoned(nowNs?: bigint): Promise<number>;
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

  return {
    async storeBatch(batch) {
      await storage.insertJsonLines('otel_traces', batch.spanLines);
      await storage.insertJsonLines('session_spans', batch.factLines);
      await rollUp(batch.traceIds);
    },
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
  };
}

async function writeRollUps(storage: Storage, results: readonly TraceRollUp[]): Promise<void> {
  const lines = <T>(rows: readonly T[]): string => rows.map((r) => JSON.stringify(r)).join('\n');
  const sessions = results.map((r) => r.session);
  const definitions = results.flatMap((r) => (r.definition ? [r.definition] : []));
  const decisions = results.flatMap((r) => r.decisions);
  const edges = results.flatMap((r) => r.edges);
  if (sessions.length > 0) await storage.insertJsonLines('agent_sessions', lines(sessions));
  if (definitions.length > 0) await storage.insertJsonLines('agent_definitions', lines(definitions));
  if (decisions.length > 0) await storage.insertJsonLines('decisions', lines(decisions));
  if (edges.length > 0) await storage.insertJsonLines('graph_edges', lines(edges));
}
