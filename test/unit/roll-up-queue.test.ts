/**
 * The queue behind the ack: traces touched by many batches are rolled up once per pass, readers
 * waiting with settled() are woken only when what was acknowledged before them is reflected, a
 * failed pass keeps its traces, and the checkpoint never passes a batch still being written.
 */
import { describe, expect, it } from 'vitest';
import { RollUpQueue } from '../../src/ingest/roll-up-queue.ts';

function queueWith(
  work: (ids: string[]) => Promise<unknown>,
  maxTracesPerPass = 100,
  spans: (id: string) => number = () => 10,
) {
  const pass = async (ids: string[]) => {
    await work(ids);
    return new Map(ids.map((id) => [id, spans(id)]));
  };
  const lags: number[] = [];
  const errors: unknown[] = [];
  const stats = { passes: 0, failedPasses: 0, tracesRolledUp: 0, lags: { observe: (s: number) => void lags.push(s) } };
  const queue = new RollUpQueue(pass, stats, { maxTracesPerPass, onError: (e) => void errors.push(e) });
  return { queue, stats, lags, errors };
}

const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
};

describe('RollUpQueue', () => {
  it('coalesces a trace touched by batches acknowledged during a pass into the next pass', async () => {
    const passes: string[][] = [];
    const first = gate();
    const { queue, stats, lags } = queueWith(async (ids) => {
      passes.push(ids);
      if (passes.length === 1) await first.opened;
    });
    queue.commit(queue.begin(Date.now()), ['a', 'b']);
    // While pass 1 runs, three batches touch a again, and c.
    for (const ids of [['a'], ['a', 'c'], ['a']]) queue.commit(queue.begin(Date.now()), ids);
    expect(queue.backlog).toBe(2);
    first.open();
    expect(await queue.settled(1000)).toBe(true);
    expect(passes).toEqual([
      ['a', 'b'],
      ['a', 'c'],
    ]);
    expect(stats).toMatchObject({ passes: 2, tracesRolledUp: 4, failedPasses: 0 });
    expect(lags).toHaveLength(4);
  });

  it('settled() waits for batches acknowledged before it, not for later ones', async () => {
    const release = gate();
    const { queue } = queueWith(async () => release.opened);
    queue.commit(queue.begin(Date.now()), ['a']);
    const settled = queue.settled(5000);
    let done = false;
    void settled.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    release.open();
    expect(await settled).toBe(true);
    // Nothing waiting: settled at once.
    expect(await queue.settled(1)).toBe(true);
  });

  it('settled() gives up after its timeout while the roll-up cannot run', async () => {
    const { queue } = queueWith(() => new Promise<void>(() => {}));
    queue.commit(queue.begin(Date.now()), ['a']);
    expect(await queue.settled(30)).toBe(false);
  });

  it('a failed pass keeps its traces and is retried; the error is reported', async () => {
    let calls = 0;
    const { queue, stats, errors } = queueWith(async () => {
      calls++;
      if (calls === 1) throw new Error('storage down');
    });
    queue.commit(queue.begin(Date.now()), ['a', 'b']);
    expect(await queue.settled(3000)).toBe(true);
    expect(calls).toBe(2);
    expect(stats).toMatchObject({ passes: 1, failedPasses: 1, tracesRolledUp: 2 });
    expect(errors.map(String)).toEqual(['Error: storage down']);
  });

  it('takes at most maxTracesPerPass traces per pass', async () => {
    const passes: number[] = [];
    const { queue } = queueWith(async (ids) => void passes.push(ids.length), 2);
    queue.commit(queue.begin(Date.now()), ['a', 'b', 'c', 'd', 'e']);
    await queue.settled(1000);
    expect(passes).toEqual([2, 2, 1]);
  });

  it('a long trace waits 0.01 ms per span before its next roll-up; the batches meanwhile are one pass', async () => {
    const passes: Array<{ ids: string[]; at: number }> = [];
    const started = performance.now();
    const { queue } = queueWith(
      async (ids) => void passes.push({ ids, at: performance.now() - started }),
      100,
      (id) => (id === 'long' ? 30_000 : 10),
    );
    queue.commit(queue.begin(Date.now()), ['long']);
    await queue.settled(1000);
    // Ten batches touch the long trace (and a short one) within its 300 ms pace.
    for (let i = 0; i < 10; i++) {
      queue.commit(queue.begin(Date.now()), ['long', `short-${i}`]);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await queue.settled(2000)).toBe(true);
    const long = passes.filter((p) => p.ids.includes('long'));
    expect(long).toHaveLength(2);
    expect((long[1]?.at ?? 0) - (long[0]?.at ?? 0)).toBeGreaterThanOrEqual(290);
    // Short traces were not held back behind it.
    expect(
      passes.filter((p) => p.ids.some((id) => id.startsWith('short'))).every((p) => p.at < (long[1]?.at ?? 0)),
    ).toBe(true);
  });

  it('coveredUntil stops at the oldest batch still being written or waiting', async () => {
    const release = gate();
    const { queue } = queueWith(async () => release.opened);
    const writing = queue.begin(1000);
    queue.commit(queue.begin(2000), ['a']);
    expect(queue.coveredUntil()).toBe(1000);
    queue.commit(writing, ['b']);
    // a is in the running pass (taken), b waits for the next one: journaled at 1000.
    expect(queue.coveredUntil()).toBe(1000);
    release.open();
    await queue.settled(1000);
    expect(queue.coveredUntil()).toBeGreaterThan(2000);
  });
});
