/**
 * Group commit, for spans and log records alike: concurrent requests are gathered into one batch
 * (stored, with the session roll-up of what it touches, by the insert function), and each
 * request's promise settles when the batch holding its rows is stored (a 2xx means stored). The
 * queue is bounded in rows and bytes; beyond it, writes fail fast with OverloadedError. A batch
 * whose rows fall on many days is stored with one raw-table insert per DAYS_PER_INSERT days (a
 * backfill) rather than with one insert the engine would refuse.
 */
import { performance } from 'node:perf_hooks';
import { classifyInsertError, isEngineError } from './clickhouse-error.ts';
import { OverloadedError, UnavailableError } from '../errors.ts';
import { createByteBudget, type ByteBudget, type ByteLease } from './byte-budget.ts';

/** Limits of a writer; see the matching options in `config.ts` (`--batch-max-spans` counts log records too). */
export interface BatchWriterLimits {
  batchMaxSpans: number;
  batchLingerMs: number;
  queueMaxSpans: number;
  queueMaxBytes: number;
}

/** Counters for /metrics and the bench (rows accepted are counted by the receivers). */
export interface BatchWriterStats {
  inserts: number;
  insertFailures: number;
  rejectedOverload: number;
  /** Seconds spent preparing requests (facts and serialisation, on the event loop), and storing batches. */
  prepareSeconds: number;
  storeSeconds: number;
}

/** One request's rows, serialized once when it is queued. */
export interface PreparedRows {
  /** Raw-table lines by UTC day (see utcDayOf): usually a single entry. */
  days: Map<number, string>;
  /** `session_spans` lines of the facts these rows contribute ('' when none). */
  factLines: string;
  /** Traces whose sessions these rows change. */
  traceIds: ReadonlySet<string>;
  count: number;
  bytes: number;
}

/** A request's rows as PreparedRows; its size in bytes is that of all its lines. */
export function preparedRows(
  days: Map<number, string>,
  factLines: string,
  traceIds: ReadonlySet<string>,
  count: number,
): PreparedRows {
  let bytes = factLines.length;
  for (const lines of days.values()) bytes += lines.length;
  return { days, factLines, traceIds, count, bytes };
}

/** A batch ready to store: raw-table insert bodies, the facts, and the traces to roll up. */
export interface WrittenBatch {
  /**
   * Raw-table rows as insert bodies, one statement each: a single one unless the batch's rows
   * fall on more days than one insert may touch (see DAYS_PER_INSERT).
   */
  slices: string[];
  factLines: string;
  traceIds: string[];
}

interface Pending extends PreparedRows {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Batches writes of `Row`s into few inserts; see the file comment. */
export class BatchWriter<Row> {
  readonly stats: BatchWriterStats = {
    inserts: 0,
    insertFailures: 0,
    rejectedOverload: 0,
    prepareSeconds: 0,
    storeSeconds: 0,
  };
  private queue: Pending[] = [];
  private queuedCount = 0;
  private queuedBytes = 0;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private unavailable: string | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly inflight: ByteBudget;
  /** Called after each batch's store with its rows, seconds and whether it was stored (for /metrics histograms). */
  onStored: ((rows: number, seconds: number, ok: boolean) => void) | undefined;

  /**
   * `probe` answers whether storage works again; after a failed insert it is asked every
   * second, and until it says yes every write is refused at once (503) instead of queueing
   * up behind a dead server.
   */
  constructor(
    private readonly prepare: (rows: readonly Row[]) => PreparedRows,
    private readonly insert: (batch: WrittenBatch) => Promise<void>,
    private readonly limits: BatchWriterLimits,
    private readonly probe?: () => Promise<boolean>,
    /** What the rows are, for messages: "spans", "log records". */
    private readonly noun = 'rows',
  ) {
    this.inflight = createByteBudget(limits.queueMaxBytes);
  }

  /** Why writes are refused right now, or undefined when storage is available. */
  get unavailableReason(): string | undefined {
    return this.unavailable;
  }

  /**
   * Refuses writes (503) until markAvailable, or until the probe succeeds when `probe` is true.
   * Requests already queued are refused too: their inserts would fail the same way.
   */
  markUnavailable(reason: string, probe = true): void {
    this.unavailable = reason;
    for (const p of this.queue.splice(0)) {
      this.queuedCount -= p.count;
      this.queuedBytes -= p.bytes;
      p.reject(new UnavailableError(`storage is unavailable (${reason}); retry later`));
    }
    if (probe && this.probe && !this.probeTimer) {
      this.probeTimer = setInterval(() => {
        void this.probe?.().then((ok) => {
          if (ok) this.markAvailable();
        });
      }, 1000);
      this.probeTimer.unref();
    }
  }

  /** Accepts writes again. */
  markAvailable(): void {
    this.unavailable = undefined;
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  /**
   * The checks made before a request's body is read: throws UnavailableError (storage down, 503)
   * or OverloadedError (the queue, or the bodies in flight, at their bound: 429) for a request of
   * `bytes`. Refusing here, before the body is read, decoded and serialized, is what keeps a flood
   * of refused requests cheap.
   */
  admit(bytes = 0): void {
    if (this.unavailable !== undefined)
      throw new UnavailableError(`storage is unavailable (${this.unavailable}); retry later`);
    if (this.isFull(bytes) || this.inflight.isFull()) {
      throw new OverloadedError(
        `collector is at capacity (${this.inflight.used} bytes of ${this.noun} request bodies in flight, queue near its limit); retry later`,
      );
    }
  }

  /** A request's share of the in-flight body budget, taken as its bytes arrive; release() it when answered. */
  lease(): ByteLease {
    return this.inflight.lease();
  }

  /** True when a request of `bytes` more would not fit the queue: answer 429 before reading it. */
  isFull(bytes = 0): boolean {
    // Counts the insert in flight too: refusing here, before the body is read, decoded and
    // serialized, is what keeps a flood of refused requests cheap. An empty writer takes any
    // one request, however large (the body limit bounds it).
    return (
      this.queuedCount > 0 &&
      (this.queuedCount >= this.limits.queueMaxSpans || this.queuedBytes + bytes > this.limits.queueMaxBytes)
    );
  }

  /** Stops the probe (shutdown). */
  stop(): void {
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  /** Rows accepted but not yet stored (including the insert in flight). */
  get backlog(): number {
    return this.queuedCount;
  }

  /** Queues the rows and resolves when they are stored; rejects with a typed error otherwise. */
  write(rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    if (this.unavailable !== undefined) {
      return Promise.reject(new UnavailableError(`storage is unavailable (${this.unavailable}); retry later`));
    }
    if (this.queuedCount > 0 && this.queuedCount + rows.length > this.limits.queueMaxSpans) return this.refuseFull();
    const started = performance.now();
    const prepared = this.prepare(rows);
    this.stats.prepareSeconds += (performance.now() - started) / 1000;
    if (this.isFull(prepared.bytes)) return this.refuseFull();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ...prepared, resolve, reject });
      this.queuedCount += prepared.count;
      this.queuedBytes += prepared.bytes;
      this.schedule();
    });
  }

  private refuseFull(): Promise<never> {
    this.stats.rejectedOverload++;
    return Promise.reject(
      new OverloadedError(
        `collector queue is full (${this.queuedCount} ${this.noun}, ${this.queuedBytes} bytes waiting for storage); retry later`,
      ),
    );
  }

  /** Writes everything queued now and waits for it (shutdown). */
  async drain(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0 || this.running) {
      await (this.running ?? this.start());
    }
  }

  private schedule(): void {
    if (this.running) return; // the running loop picks new requests up when its insert ends
    if (this.queuedCount >= this.limits.batchMaxSpans || this.limits.batchLingerMs === 0) {
      void this.start();
    } else {
      this.timer ??= setTimeout(() => void this.start(), this.limits.batchLingerMs);
    }
  }

  private start(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      try {
        await this.insertBatch(batch);
      } finally {
        for (const p of batch) {
          this.queuedCount -= p.count;
          this.queuedBytes -= p.bytes;
        }
      }
    }
  }

  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    let count = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0];
      if (!next || (batch.length > 0 && count + next.count > this.limits.batchMaxSpans)) break;
      batch.push(next);
      count += next.count;
      this.queue.shift();
    }
    return batch;
  }

  private async insertBatch(batch: Pending[]): Promise<void> {
    try {
      await this.insertCounted(batch);
      for (const p of batch) p.resolve();
    } catch (err) {
      if (batch.length > 1 && isEngineError(err)) {
        // The engine refused the data itself: store each request alone so one bad request
        // cannot take the others down with it.
        for (const p of batch) await this.insertBatch([p]);
        return;
      }
      const error = classifyInsertError(err, this.noun);
      if (error instanceof UnavailableError)
        this.markUnavailable(error.message.replace(/^storage is unavailable: /, ''));
      for (const p of batch) p.reject(error);
    }
  }

  private async insertCounted(batch: Pending[]): Promise<void> {
    const started = performance.now();
    let ok = false;
    try {
      await this.insert({
        slices: sliceByDays(batch.map((p) => p.days)),
        factLines: batch.map((p) => p.factLines).join('\n'),
        traceIds: [...new Set(batch.flatMap((p) => [...p.traceIds]))],
      });
      ok = true;
    } catch (err) {
      this.stats.insertFailures++;
      throw err;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      this.stats.storeSeconds += seconds;
      this.onStored?.(
        batch.reduce((n, p) => n + p.count, 0),
        seconds,
        ok,
      );
    }
    this.stats.inserts++;
  }
}

/*
 * Why the split happens here, once, and not in graph-writer: only this writer still has the rows
 * (their timestamps) before they become JSON text, and it is the one place that assembles a
 * batch from many requests — a batch of 40 one-day requests can span 40 days as well as one
 * 40-day request can. So the writer groups each request's lines by day when it serializes them
 * and cuts the batch into slices when it builds it; graph-writer only inserts the slices in
 * order, and nothing splits again further down (no retry-by-halving on code 252).
 *
 * ClickHouse refuses an insert block touching more than `max_partitions_per_insert_block`
 * (default 100) partitions (code 252), and otel_traces and otel_logs are PARTITION BY toDate(Timestamp): a
 * date in the *server's* time zone, which the collector does not know. One UTC day overlaps at
 * most 3 server-local dates (2 at any fixed offset, 3 when a 23-hour DST day falls inside it),
 * so 33 UTC days touch at most 99 partitions whatever the server's zone. A normal batch (one or
 * a few days) stays a single insert.
 */
const DAYS_PER_INSERT = 33;

const NS_PER_DAY = 86_400_000_000_000n;

/** Days since the epoch (UTC) of a nanosecond timestamp: the day an `otel_traces` row belongs to. */
function utcDayOf(ns: string): number {
  return Number(BigInt(ns) / NS_PER_DAY);
}

/** A request's raw-table lines, joined per UTC day of `timestampOf` (nanoseconds). */
export function linesByDay<Row>(
  rows: readonly Row[],
  timestampOf: (row: Row) => string,
  line: (row: Row) => string,
): Map<number, string> {
  const byDay = new Map<number, string[]>();
  for (const row of rows) {
    const day = utcDayOf(timestampOf(row));
    const lines = byDay.get(day);
    if (lines) lines.push(line(row));
    else byDay.set(day, [line(row)]);
  }
  return new Map([...byDay].map(([day, lines]) => [day, lines.join('\n')]));
}

/** The batch's raw-table lines as insert bodies, each holding at most DAYS_PER_INSERT days. */
function sliceByDays(requests: ReadonlyArray<ReadonlyMap<number, string>>): string[] {
  const byDay = new Map<number, string[]>();
  for (const days of requests) {
    for (const [day, lines] of days) {
      const all = byDay.get(day);
      if (all) all.push(lines);
      else byDay.set(day, [lines]);
    }
  }
  const slices: string[] = [];
  let slice: string[] = [];
  let daysInSlice = 0;
  for (const lines of byDay.values()) {
    if (daysInSlice === DAYS_PER_INSERT) {
      slices.push(slice.join('\n'));
      slice = [];
      daysInSlice = 0;
    }
    slice.push(...lines);
    daysInSlice++;
  }
  if (slice.length > 0) slices.push(slice.join('\n'));
  return slices;
}
