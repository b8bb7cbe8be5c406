/**
 * STORE for one group-committed batch: the raw spans into `otel_traces` and, at the same time on a
 * connection of its own, their facts into `session_spans`; then the batch is acknowledged. Behind
 * the ack (roll-up-queue.ts), the touched traces are rolled up again from ALL their de-duplicated
 * facts in ClickHouse (never from increments held in memory), so every collector sharing the
 * store converges on the same rows whatever the order, duplication or split of deliveries.
 * Everything a roll-up needs is in ClickHouse before the ack, and the facts' `inserted_at` is the
 * journal: checkpoints say from when on a restart must roll traces up again (recoverInFlight).
 */
import { performance } from 'node:perf_hooks';
import { rollUpTrace, type RollUpContext, type TraceRollUp } from '../mapping/roll-up.ts';
import type { SpanFacts } from '../mapping/span-facts.ts';
import type { SpanRow } from '../otlp/span-row.ts';
import { nsToInsertTime, recordInsertLine } from './insert-rows.ts';
import { factLinesOf } from './span-writer.ts';
import { RAW_SPAN_COLUMNS } from '../storage/raw-span-columns.ts';
import type { Pricer } from '../pricing/pricer.ts';
import type { WrittenBatch } from '../storage/batch-writer.ts';
import { RollUpQueue, type RollUpQueueStats } from './roll-up-queue.ts';
import type { Storage } from '../storage/storage.ts';

/** Roll-up settings. */
export interface GraphOptions {
  pricer: Pricer;
  /** A session without its root is abandoned this long after its newest span ended. */
  sessionTimeoutMs: number;
  /** Keep each ended session's calls in session_calls: only when spans expire before the graph (--retain-*). */
  keepSessionCalls?: boolean;
  /** Receives each roll-up lag (seconds from a span's ack to its session reflecting it), for /metrics. */
  observeLag?: (seconds: number) => void;
  /** Reports a failed roll-up pass (retried a second later). */
  onRollUpError?: (err: unknown) => void;
}

/** Seconds spent in each statement kind of a stored batch, for /metrics and the bench's per-stage profile. */
export interface StageSeconds {
  raw: number;
  facts: number;
  rollup: number;
}

/** Writes batches and keeps the graph tables rolled up. */
export interface GraphWriter {
  readonly stageSeconds: StageSeconds;
  readonly rollUps: Pick<RollUpQueueStats, 'passes' | 'failedPasses' | 'tracesRolledUp'> & { readonly backlog: number };
  /** Stores a batch of spans (`otel_traces`) and their facts; the traces it touches are rolled up behind. */
  storeBatch(batch: WrittenBatch): Promise<void>;
  /** Stores a batch of log records (`otel_logs`), and the facts of the Claude Code events among them, rolled up behind. */
  storeLogBatch(batch: WrittenBatch): Promise<void>;
  /**
   * Resolves true once every batch stored before the call is reflected in its sessions (false
   * after `timeoutMs`): what a reader waits for to see its own writes.
   */
  settled(timeoutMs?: number): Promise<boolean>;
  /** Rolls up everything stored so far, then stops retrying (shutdown). */
  drain(): Promise<void>;
  /** Recomputes the given traces from their stored facts. */
  rollUp(traceIds: readonly string[], nowNs?: bigint): Promise<TraceRollUp[]>;
  /** Re-rolls sessions still active whose newest span is older than the timeout; returns how many. */
  sweepAbandoned(nowNs?: bigint): Promise<number>;
  /**
   * After a crash: re-derives the facts and sessions of the traces whose facts were stored after
   * the newest checkpoint (any batch not yet rolled up when the process died). Returns how many
   * traces were recomputed.
   */
  recoverInFlight(): Promise<number>;
}

/** Every field of SpanFacts, in the order the roll-up selects them (the compiler checks it is complete). */
const FACT_FIELDS = Object.keys({
  trace_id: 1,
  span_id: 1,
  parent_span_id: 1,
  span_name: 1,
  start_time: 1,
  end_time: 1,
  service_name: 1,
  environment: 1,
  status_code: 1,
  is_llm: 1,
  is_embedding: 1,
  is_tool: 1,
  is_agent: 1,
  is_aggregate: 1,
  agent_name: 1,
  agent_id: 1,
  agent_version: 1,
  agent_description: 1,
  conversation_id: 1,
  user_id: 1,
  tags: 1,
  model: 1,
  provider: 1,
  reports_usage: 1,
  input_tokens: 1,
  output_tokens: 1,
  cache_read_tokens: 1,
  cache_write_tokens: 1,
  reasoning_tokens: 1,
  total_tokens: 1,
  precomputed_cost: 1,
  tool_name: 1,
  tool_call_id: 1,
  requested_tools: 1,
  has_error: 1,
  input_text: 1,
  output_text: 1,
  turns: 1,
  decisions: 1,
  origin: 1,
} satisfies Record<keyof SpanFacts, 1>) as Array<keyof SpanFacts>;

/**
 * The SELECT list of FACT_FIELDS, times as ns strings. total_tokens is stored only where it
 * exceeds input + output (factsInsertLine); rows written before migration 18 hold it always.
 */
const FACT_COLUMNS = FACT_FIELDS.map((f) =>
  f === 'start_time' || f === 'end_time'
    ? `toString(toUnixTimestamp64Nano(${f})) AS ${f}`
    : f === 'total_tokens'
      ? 'greatest(total_tokens, input_tokens + output_tokens) AS total_tokens'
      : f,
).join(', ');

/**
 * A row of FACT_COLUMNS (JSONCompactEachRow) as SpanFacts. Generated once as one object literal
 * (`{ trace_id: v[0], … }`): assigning the fields one by one under computed names would build a
 * slow dictionary-mode object per span, and a long session has 100,000 of them per roll-up.
 */
const toFacts = new Function('v', `return { ${FACT_FIELDS.map((f, i) => `${f}: v[${i}]`).join(', ')} };`) as (
  values: unknown[],
) => SpanFacts;

/** Current time in ns since the epoch. */
export function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Creates the writer over a storage. */
export function createGraphWriter(storage: Storage, options: GraphOptions): GraphWriter {
  const db = storage.database;
  const abandonAfterNs = BigInt(options.sessionTimeoutMs) * 1_000_000n;

  /** Recomputes `traceIds` from their facts, reading and writing through `via`. */
  const rollUpWith = async (via: Storage, traceIds: readonly string[], nowNs = nowNanos()): Promise<TraceRollUp[]> => {
    if (traceIds.length === 0) return [];
    // Tuples, not objects: a long session's facts read back without 40 column names per row.
    // De-duplicated per span, then in start order, the order rollUpTrace sorts into: the engine
    // sorts, and the sort in JavaScript finds the rows sorted already (one pass).
    const facts = await via.selectTuples(
      `SELECT * FROM (
         SELECT ${FACT_COLUMNS} FROM ${db}.session_spans WHERE trace_id IN {ids:Array(String)}
         ORDER BY trace_id, span_id, end_time DESC, span_name LIMIT 1 BY trace_id, span_id)
       ORDER BY trace_id, length(start_time), start_time, span_id`,
      { ids: [...traceIds] },
      toFacts,
    );
    const byTrace = new Map<string, SpanFacts[]>();
    for (const f of facts) {
      const list = byTrace.get(f.trace_id);
      if (list) list.push(f);
      else byTrace.set(f.trace_id, [f]);
    }
    const ctx: RollUpContext = {
      nowNs,
      abandonAfterNs,
      pricer: options.pricer,
      keepCalls: options.keepSessionCalls ?? false,
    };
    const results = [...byTrace.values()].map((spans) => rollUpTrace(spans, ctx));
    await writeRollUps(via, results);
    return results;
  };

  const stageSeconds: StageSeconds = { raw: 0, facts: 0, rollup: 0 };
  const timed = async <T>(stage: keyof StageSeconds, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      stageSeconds[stage] += (performance.now() - started) / 1000;
    }
  };

  // Roll-ups and checkpoints run on a connection of their own, beside the inserts.
  const behind = storage.beside('rollup');
  let lastCheckpoint = 0;
  const checkpoint = async (force = false): Promise<void> => {
    if (!force && Date.now() - lastCheckpoint < CHECKPOINT_EVERY_MS) return;
    lastCheckpoint = Date.now();
    await behind.insertJsonLines(
      'rollup_checkpoints',
      JSON.stringify({ covered_until: isoMillis(queue.coveredUntil()) }),
    );
  };
  const queue: RollUpQueue = new RollUpQueue(
    async (traceIds) => {
      const results = await timed('rollup', () => rollUpWith(behind, traceIds));
      await checkpoint();
      return new Map(results.map((r) => [r.session.trace_id, r.session.span_count]));
    },
    { passes: 0, failedPasses: 0, tracesRolledUp: 0, lags: { observe: options.observeLag ?? (() => {}) } },
    { maxTracesPerPass: MAX_TRACES_PER_PASS, onError: options.onRollUpError ?? (() => {}) },
  );

  const facts = storage.beside('facts');
  const store = async (table: 'otel_traces' | 'otel_logs', batch: WrittenBatch): Promise<void> => {
    // Slice after slice (see DAYS_PER_INSERT): if one fails, the batch fails.
    const insertRaw = (): Promise<void> =>
      timed('raw', async () => {
        for (const slice of batch.slices) await storage.insertJsonLines(table, slice);
      });
    // Nothing to roll up (log records other than agent events): the raw rows are all there is.
    if (batch.traceIds.length === 0) return insertRaw();
    // Checkpoints stay below this batch until it is rolled up.
    const seq = queue.begin(Date.now());
    try {
      // Raw rows and facts at once, each on its connection; both are stored before the ack. If
      // either fails the batch fails (no 2xx) and its re-sent rows duplicate rows that readers
      // and the roll-up de-duplicate.
      await Promise.all([
        insertRaw(),
        batch.factLines !== ''
          ? timed('facts', () => facts.insertJsonLines('session_spans', batch.factLines))
          : undefined,
      ]);
    } finally {
      // Even after a failure part of the batch may be stored: rolling its traces up is harmless.
      queue.commit(seq, batch.traceIds);
    }
  };

  return {
    stageSeconds,
    rollUps: {
      get passes() {
        return queue.stats.passes;
      },
      get failedPasses() {
        return queue.stats.failedPasses;
      },
      get tracesRolledUp() {
        return queue.stats.tracesRolledUp;
      },
      get backlog() {
        return queue.backlog;
      },
    },
    storeBatch: (batch) => store('otel_traces', batch),
    storeLogBatch: (batch) => store('otel_logs', batch),
    settled: (timeoutMs) => queue.settled(timeoutMs),
    async drain() {
      await queue.drain();
      queue.stop();
      if (queue.backlog === 0) await checkpoint(true).catch(() => {});
    },
    rollUp: (traceIds, nowNs) => rollUpWith(storage, traceIds, nowNs),
    async sweepAbandoned(nowNs = nowNanos()) {
      // Beside the inserts, like the roll-ups behind the ack.
      const stale = await behind.select<{ trace_id: string }>(
        `SELECT trace_id FROM ${db}.agent_sessions FINAL
         WHERE session_status = 'active' AND toUnixTimestamp64Nano(last_span_at) < {cutoff:Int64}`,
        { cutoff: (nowNs - abandonAfterNs).toString() },
      );
      await rollUpWith(
        behind,
        stale.map((r) => r.trace_id),
        nowNs,
      );
      return stale.length;
    },
    async recoverInFlight() {
      // Facts stored after the newest checkpoint (less a minute, for the clocks of collectors
      // sharing a server) may not be rolled up; without a checkpoint, the minute before the
      // newest fact (what was in flight when ingest acknowledged only after the roll-up).
      const recent = await storage.select<{ trace_id: string }>(
        `WITH (SELECT max(covered_until) FROM ${db}.rollup_checkpoints) AS covered,
              (SELECT max(inserted_at) FROM ${db}.session_spans) AS newest
         SELECT DISTINCT trace_id FROM ${db}.session_spans
         WHERE inserted_at >= if(covered > toDateTime64(0, 3), covered, newest) - INTERVAL 60 SECOND`,
      );
      const traceIds = recent.map((r) => r.trace_id);
      for (let i = 0; i < traceIds.length; i += 500) {
        const chunk = traceIds.slice(i, i + 500);
        const rows = await storage.select<SpanRow>(
          `SELECT ${RAW_SPAN_COLUMNS} FROM ${db}.otel_traces WHERE TraceId IN {ids:Array(String)} ORDER BY TraceId, SpanId LIMIT 1 BY TraceId, SpanId`,
          { ids: chunk },
        );
        if (rows.length > 0) await storage.insertJsonLines('session_spans', factLinesOf(rows));
        await rollUpWith(storage, chunk);
      }
      await checkpoint(true);
      return traceIds.length;
    },
  };
}

/** Traces one roll-up pass takes at most (one IN list, one read of their facts). */
const MAX_TRACES_PER_PASS = 250;
/** How often a checkpoint is written while roll-ups run. */
const CHECKPOINT_EVERY_MS = 1000;

/** ms since the epoch → the ISO text DateTime64(3) columns read exactly (best_effort). */
function isoMillis(ms: number): string {
  return new Date(ms).toISOString();
}

async function writeRollUps(storage: Storage, results: readonly TraceRollUp[]): Promise<void> {
  const write = async <T extends object>(
    table: string,
    rows: readonly T[],
    timeKeys: ReadonlyArray<keyof T>,
  ): Promise<void> => {
    if (rows.length > 0)
      await storage.insertJsonLines(table, rows.map((r) => recordInsertLine(r, timeKeys)).join('\n'));
  };
  await write(
    'agent_sessions',
    results.map((r) => r.session),
    ['session_start', 'session_end', 'last_span_at'],
  );
  // latest_version: max of (last seen, version) is the version of the newest session seen.
  const definitions = results.flatMap((r) =>
    r.definition
      ? [{ ...r.definition, latest_version: [nsToInsertTime(r.definition.last_seen), r.definition.version] }]
      : [],
  );
  await write('agent_definitions', definitions, ['first_seen', 'last_seen']);
  await write(
    'decisions',
    results.flatMap((r) => r.decisions),
    ['decided_at'],
  );
  await write(
    'graph_edges',
    results.flatMap((r) => r.edges),
    ['created_at'],
  );
  await write(
    'session_calls',
    results.flatMap((r) => (r.calls ? [{ session_id: r.session.id, calls: r.calls }] : [])),
    [],
  );
}
