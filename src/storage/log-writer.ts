/**
 * Group commit for log records, as SpanWriter does it for spans but without a journal or a
 * roll-up (nothing is derived from logs yet): concurrent requests share `otel_logs` inserts, each
 * request's promise settles once the insert holding its records is stored (a 2xx means stored),
 * the queue is bounded in records and bytes (beyond it: OverloadedError, 429), and a failed
 * insert that says storage is down refuses every write (503) until a probe sees it back.
 */
import { isEngineError, type EngineError } from './clickhouse-error.ts';
import { BadDataError, OverloadedError, UnavailableError } from '../errors.ts';
import type { LogRow } from '../otlp/decode-logs-row.ts';
import { nsToInsertTime, utcDayOf } from './insert-rows.ts';

/** Limits, from the same options as the span writer's (`--batch-max-spans` counts records here). */
export interface LogWriterLimits {
  batchMaxSpans: number;
  batchLingerMs: number;
  queueMaxSpans: number;
  queueMaxBytes: number;
}

/** Counters for /metrics. */
export interface LogWriterStats {
  inserts: number;
  insertFailures: number;
  rejectedOverload: number;
}

interface Pending {
  /** The request's `otel_logs` lines by UTC day (see utcDayOf): usually a single entry. */
  days: Map<number, string>;
  records: number;
  bytes: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/*
 * otel_logs is PARTITION BY toDate(Timestamp) in the server's time zone, and an insert touching
 * more than 100 partitions is refused (code 252). One UTC day overlaps at most 3 server-local
 * dates, so a slice of 33 UTC days touches at most 99 partitions (span-writer.ts explains it).
 */
const DAYS_PER_INSERT = 33;

/** Batches log writes into few inserts; see the file comment. */
export class LogWriter {
  readonly stats: LogWriterStats = { inserts: 0, insertFailures: 0, rejectedOverload: 0 };
  private queue: Pending[] = [];
  private queuedRecords = 0;
  private queuedBytes = 0;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private unavailable: string | undefined;
  private probeTimer: NodeJS.Timeout | undefined;

  /** `insert` stores JSONEachRow lines in `otel_logs`; `probe` answers whether storage works again. */
  constructor(
    private readonly insert: (jsonLines: string) => Promise<void>,
    private readonly limits: LogWriterLimits,
    private readonly probe?: () => Promise<boolean>,
  ) {}

  /** Why writes are refused right now, or undefined when storage is available. */
  get unavailableReason(): string | undefined {
    return this.unavailable;
  }

  /** Records accepted but not yet stored (including the insert in flight). */
  get backlogRecords(): number {
    return this.queuedRecords;
  }

  /** Refuses writes (503), queued ones too, until the probe succeeds. */
  markUnavailable(reason: string): void {
    this.unavailable = reason;
    for (const p of this.queue.splice(0)) {
      this.queuedRecords -= p.records;
      this.queuedBytes -= p.bytes;
      p.reject(new UnavailableError(`storage is unavailable (${reason}); retry later`));
    }
    if (this.probe && !this.probeTimer) {
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
    this.stop();
  }

  /** Stops the probe (shutdown). */
  stop(): void {
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  /** True when a request of `bytes` more would not fit the queue: answer 429 before reading it. */
  isFull(bytes = 0): boolean {
    // An empty writer takes any one request, however large (the body limit bounds it).
    return this.queuedRecords > 0 && (this.queuedRecords >= this.limits.queueMaxSpans || this.queuedBytes + bytes > this.limits.queueMaxBytes);
  }

  /** Queues the rows and resolves when they are stored; rejects with a typed error otherwise. */
  write(rows: readonly LogRow[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    if (this.unavailable !== undefined) return Promise.reject(new UnavailableError(`storage is unavailable (${this.unavailable}); retry later`));
    if (this.queuedRecords > 0 && this.queuedRecords + rows.length > this.limits.queueMaxSpans) return this.refuseFull();
    const days = linesByDay(rows);
    let bytes = 0;
    for (const lines of days.values()) bytes += lines.length;
    if (this.isFull(bytes)) return this.refuseFull();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ days, records: rows.length, bytes, resolve, reject });
      this.queuedRecords += rows.length;
      this.queuedBytes += bytes;
      this.schedule();
    });
  }

  /** Writes everything queued now and waits for it (shutdown). */
  async drain(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0 || this.running) await (this.running ?? this.start());
  }

  private refuseFull(): Promise<never> {
    this.stats.rejectedOverload++;
    return Promise.reject(
      new OverloadedError(`collector log queue is full (${this.queuedRecords} records, ${this.queuedBytes} bytes waiting for storage); retry later`),
    );
  }

  private schedule(): void {
    if (this.running) return; // the running loop picks new requests up when its insert ends
    if (this.queuedRecords >= this.limits.batchMaxSpans || this.limits.batchLingerMs === 0) void this.start();
    else this.timer ??= setTimeout(() => void this.start(), this.limits.batchLingerMs);
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
          this.queuedRecords -= p.records;
          this.queuedBytes -= p.bytes;
        }
      }
    }
  }

  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    let records = 0;
    for (let next = this.queue[0]; next; next = this.queue[0]) {
      if (batch.length > 0 && records + next.records > this.limits.batchMaxSpans) break;
      batch.push(next);
      records += next.records;
      this.queue.shift();
    }
    return batch;
  }

  private async insertBatch(batch: Pending[]): Promise<void> {
    try {
      // Slice after slice: if one fails, the batch fails (no 2xx) though earlier slices are
      // stored; the retried request then stores those records twice, as the exporter would.
      for (const slice of sliceByDays(batch.map((p) => p.days))) await this.insertCounted(slice);
      for (const p of batch) p.resolve();
    } catch (err) {
      if (batch.length > 1 && isEngineError(err)) {
        // The engine refused the data itself: store each request alone so one bad request
        // cannot take the others down with it.
        for (const p of batch) await this.insertBatch([p]);
        return;
      }
      const error = classifyInsertError(err);
      if (error instanceof UnavailableError) this.markUnavailable(error.message.replace(/^storage is unavailable: /, ''));
      for (const p of batch) p.reject(error);
    }
  }

  private async insertCounted(lines: string): Promise<void> {
    try {
      await this.insert(lines);
    } catch (err) {
      this.stats.insertFailures++;
      throw err;
    }
    this.stats.inserts++;
  }
}

/** One `otel_logs` JSONEachRow line; the time travels as exact ISO text (see insert-rows.ts). */
export function logInsertLine(row: LogRow): string {
  return JSON.stringify({ ...row, Timestamp: nsToInsertTime(row.Timestamp) });
}

/** A request's lines, joined per UTC day. */
function linesByDay(rows: readonly LogRow[]): Map<number, string> {
  const byDay = new Map<number, string[]>();
  for (const row of rows) {
    const day = utcDayOf(row.Timestamp);
    const lines = byDay.get(day);
    if (lines) lines.push(logInsertLine(row));
    else byDay.set(day, [logInsertLine(row)]);
  }
  return new Map([...byDay].map(([day, lines]) => [day, lines.join('\n')]));
}

/** The batch's lines as insert bodies, each holding at most DAYS_PER_INSERT days. */
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
  for (const lines of byDay.values()) {
    if (slice.length === DAYS_PER_INSERT) {
      slices.push(slice.join('\n'));
      slice = [];
    }
    slice.push(lines.join('\n'));
  }
  if (slice.length > 0) slices.push(slice.join('\n'));
  return slices;
}

/**
 * The engine refusing the rows is the request's fault (400, never retried: no poison message);
 * transport failures and the engine's own trouble are storage being unavailable (503, retried).
 * The same split as span-writer.ts's classifyInsertError, which is private to that file.
 */
function classifyInsertError(err: unknown): Error {
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
  if (isEngineError(err) && !isServerTrouble(err)) return new BadDataError(`storage refused the log records: ${message}`, { cause: err });
  return new UnavailableError(`storage is unavailable: ${message}`, 5, { cause: err });
}

function isServerTrouble(err: EngineError): boolean {
  // 252 is both TOO_MANY_PARTS (retry later) and "too many partitions for one insert" (the
  // request's fault forever); only the message tells them apart.
  if (err.code === '252' && /too many partitions|max_partitions_per_insert_block/i.test(err.message)) return false;
  return UNAVAILABLE_CODES.has(err.code);
}

// As in span-writer.ts: missing table/database while a schema is created, timeouts, too many
// queries, network, memory, read-only, disk, too many parts, cancelled, system, access, keeper.
const UNAVAILABLE_CODES = new Set(['60', '81', '159', '164', '202', '209', '210', '241', '242', '243', '252', '279', '394', '425', '497', '516', '999']);
