/**
 * Sessions are rolled up behind the ack. A stored batch hands its traces to this queue; one pass
 * at a time takes every trace waiting (a trace touched by many batches is rolled up once per
 * pass) and recomputes its session from ClickHouse. Nothing here is the truth: the facts are in
 * ClickHouse before the ack, and `coveredUntil` tells the checkpoint which batches no longer need
 * recomputing after a crash (graph-writer's recoverInFlight).
 */
import { performance } from 'node:perf_hooks';

/**
 * What a pass does with its traces; resolves with how many spans each trace has (the facts it
 * read), throws when storage fails (the traces are retried).
 */
export type RollUpPass = (traceIds: string[]) => Promise<ReadonlyMap<string, number>>;

/** Counters for /metrics and the bench. */
export interface RollUpQueueStats {
  passes: number;
  failedPasses: number;
  tracesRolledUp: number;
  /** Seconds from each trace's oldest ack not yet rolled up to the end of the pass that reflected it. */
  lags: { observe(seconds: number): void };
}

interface Waiting {
  /** When the oldest batch that touched the trace and is not yet reflected started to be written (ms since the epoch; its facts are inserted after). */
  startedAt: number;
  /** performance.now() of that batch's ack. */
  ackedAt: number;
  /** Sequence number of that batch. */
  seq: number;
}

/** How long a failed pass waits before its traces are tried again. */
const RETRY_MS = 1000;

/**
 * A trace's roll-up reads and recomputes all its spans, so a long session touched by every batch
 * would cost O(its size) per batch. After each roll-up a trace waits PACE_MS_PER_SPAN per span
 * before the next one: batches arriving meanwhile are coalesced into it, which bounds the share
 * of the machine one long session takes (a 100,000-span session: at most one roll-up a second)
 * while sessions of ordinary size (< 1,000 spans: under 10 ms) are not held back at all.
 */
const PACE_MS_PER_SPAN = 0.01;
const PACE_FROM_SPANS = 1000;

/** Rolls up the traces of acknowledged batches; see the file comment. */
export class RollUpQueue {
  private readonly waiting = new Map<string, Waiting>();
  /** Batches being written, not yet handed over: seq → when they started. */
  private readonly inFlight = new Map<number, number>();
  private nextSeq = 1;
  /** Every batch with a lower sequence number is reflected in its sessions. */
  private doneBelow = 1;
  private running: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly settledWaiters: Array<{ seq: number; resolve: () => void }> = [];
  private stopped = false;
  /** Long traces (PACE_FROM_SPANS and more) → performance.now() before which they are not rolled up again. */
  private readonly notBefore = new Map<string, number>();
  private paceTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pass: RollUpPass,
    readonly stats: RollUpQueueStats,
    private readonly options: { maxTracesPerPass: number; onError: (err: unknown) => void },
  ) {}

  /** A batch starts to be written at `startedAt`; returns its sequence number. */
  begin(startedAt: number): number {
    const seq = this.nextSeq++;
    this.inFlight.set(seq, startedAt);
    return seq;
  }

  /** The batch `seq` is written (or failed part-way): its traces wait for the next pass. */
  commit(seq: number, traceIds: readonly string[]): void {
    const startedAt = this.inFlight.get(seq);
    this.inFlight.delete(seq);
    if (startedAt === undefined) return;
    const ackedAt = performance.now();
    for (const id of traceIds) {
      if (!this.waiting.has(id)) this.waiting.set(id, { startedAt, ackedAt, seq });
    }
    this.advance();
    void this.start(); // the loop handles its own failures (retry after RETRY_MS)
  }

  /** Traces waiting for a pass. */
  get backlog(): number {
    return this.waiting.size;
  }

  /**
   * Time before which every batch started is reflected in its sessions (ms since the epoch): the
   * oldest batch still being written or waiting, else now.
   */
  coveredUntil(): number {
    let oldest = Date.now();
    for (const at of this.inFlight.values()) oldest = Math.min(oldest, at);
    for (const w of this.waiting.values()) oldest = Math.min(oldest, w.startedAt);
    return oldest;
  }

  /**
   * Resolves true once every batch handed over before the call is reflected in its sessions, or
   * false after `timeoutMs` (storage failing, or the roll-up that far behind).
   */
  settled(timeoutMs = 10_000): Promise<boolean> {
    const seq = this.nextSeq - 1;
    if (this.doneBelow > seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.settledWaiters.indexOf(waiter);
        if (i >= 0) this.settledWaiters.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      const waiter = {
        seq,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      this.settledWaiters.push(waiter);
    });
  }

  /** Rolls up everything waiting and resolves when done (shutdown); gives up on a pass that fails. */
  async drain(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    while (this.running || this.waiting.size > 0) {
      await (this.running ?? this.start(true));
      if (!this.running && this.waiting.size > 0 && this.stopped) return;
    }
  }

  /** Stops retrying after failures (shutdown, after drain). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    clearTimeout(this.paceTimer);
    this.paceTimer = undefined;
  }

  private start(draining = false): Promise<void> | undefined {
    if (this.running || this.waiting.size === 0 || (this.retryTimer && !draining)) return this.running;
    this.running = this.loop(draining).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async loop(draining: boolean): Promise<void> {
    for (;;) {
      const taken = this.take(draining);
      if (taken.length === 0) return;
      let sizes: ReadonlyMap<string, number>;
      try {
        sizes = await this.pass(taken.map(([id]) => id));
      } catch (err) {
        // Put them back (a newer wait of the same trace keeps the older ack time) and retry later.
        for (const [id, w] of taken) {
          const newer = this.waiting.get(id);
          if (!newer || newer.seq > w.seq) this.waiting.set(id, w);
        }
        this.stats.failedPasses++;
        this.options.onError(err);
        if (draining) this.stopped = true;
        else
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            void this.start();
          }, RETRY_MS);
        return;
      }
      const now = performance.now();
      this.stats.passes++;
      this.stats.tracesRolledUp += taken.length;
      for (const [id, w] of taken) {
        this.stats.lags.observe((now - w.ackedAt) / 1000);
        const spans = sizes.get(id) ?? 0;
        if (spans >= PACE_FROM_SPANS) this.notBefore.set(id, now + spans * PACE_MS_PER_SPAN);
        else this.notBefore.delete(id);
      }
      this.advance();
    }
  }

  /**
   * Up to maxTracesPerPass waiting traces, leaving the long ones whose pace has not come (a timer
   * starts the pass that takes them); when draining, everything.
   */
  private take(draining: boolean): Array<[string, Waiting]> {
    const now = performance.now();
    const taken: Array<[string, Waiting]> = [];
    let nextDue = Infinity;
    for (const entry of this.waiting) {
      const due = this.notBefore.get(entry[0]) ?? 0;
      if (due > now && !draining) {
        nextDue = Math.min(nextDue, due);
        continue;
      }
      taken.push(entry);
      if (taken.length >= this.options.maxTracesPerPass) break;
    }
    for (const [id] of taken) this.waiting.delete(id);
    if (nextDue !== Infinity && !this.paceTimer) {
      this.paceTimer = setTimeout(() => {
        this.paceTimer = undefined;
        void this.start();
      }, nextDue - now);
    }
    return taken;
  }

  /** Moves `doneBelow` to the oldest batch still in flight or waiting, and wakes settled() callers. */
  private advance(): void {
    let oldest = this.nextSeq;
    for (const seq of this.inFlight.keys()) oldest = Math.min(oldest, seq);
    for (const w of this.waiting.values()) oldest = Math.min(oldest, w.seq);
    this.doneBelow = oldest;
    for (let i = this.settledWaiters.length - 1; i >= 0; i--) {
      const waiter = this.settledWaiters[i];
      if (waiter && waiter.seq < this.doneBelow) {
        this.settledWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }
}
