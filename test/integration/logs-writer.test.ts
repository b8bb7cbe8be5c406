/**
 * The log writer's group commit over a stand-in insert (no engine): concurrent writes share
 * inserts and each settles once its own insert did; a batch the engine refuses is retried request
 * by request so only the bad one fails (400); a transport failure refuses everything (503) until
 * the probe sees storage back; a full queue refuses at once (429); a backfill is cut into inserts
 * of at most 33 days.
 */
import { describe, expect, it } from 'vitest';
import { BadDataError, OverloadedError, UnavailableError } from '../../src/errors.ts';
import type { LogRow } from '../../src/otlp/decode-logs-row.ts';
import { LogWriter } from '../../src/ingest/log-writer.ts';

const LIMITS = { batchMaxSpans: 1000, batchLingerMs: 5, queueMaxSpans: 100, queueMaxBytes: 1 << 20 };
const DAY = 86_400_000_000_000n;

function row(body: string, ns = 1767225600000000000n): LogRow {
  return {
    Timestamp: ns.toString(),
    TraceId: '',
    SpanId: '',
    TraceFlags: 0,
    SeverityText: '',
    SeverityNumber: 0,
    ServiceName: 's',
    Body: body,
    ResourceSchemaUrl: '',
    ResourceAttributes: {},
    ScopeSchemaUrl: '',
    ScopeName: '',
    ScopeVersion: '',
    ScopeAttributes: {},
    LogAttributes: {},
    EventName: '',
  };
}

/** An engine error as chDB and the HTTP client raise them. */
function engineError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('LogWriter', () => {
  it('concurrent writes share inserts; each promise settles after the insert holding its rows', async () => {
    const inserts: string[] = [];
    const writer = new LogWriter(async (batch) => void inserts.push(...batch.slices), LIMITS);
    await Promise.all(Array.from({ length: 20 }, (_, i) => writer.write([row(`r${i}`)])));
    expect(inserts.length).toBeLessThan(5);
    expect(inserts.join('\n').split('\n')).toHaveLength(20);
    expect(JSON.parse(inserts[0]!.split('\n')[0]!)).toMatchObject({
      Timestamp: '2026-01-01T00:00:00.000000000Z',
      Body: 'r0',
    });
    expect(writer.stats).toMatchObject({ inserts: inserts.length, insertFailures: 0 });
  });

  it('rows the engine refuses fail only their own request (400); the others are stored', async () => {
    const stored: string[] = [];
    const writer = new LogWriter(async (batch) => {
      const lines = batch.slices.join('\n');
      if (lines.includes('poison')) throw engineError('27', 'Cannot parse input');
      stored.push(lines);
    }, LIMITS);
    const results = await Promise.allSettled([
      writer.write([row('ok-1')]),
      writer.write([row('poison')]),
      writer.write([row('ok-2')]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(BadDataError);
    expect(stored.join('\n')).toMatch(/ok-1[\s\S]*ok-2|ok-2[\s\S]*ok-1/);
  });

  it('a transport failure refuses writes with 503 until the probe sees storage again', async () => {
    let up = false;
    const writer = new LogWriter(
      async () => {
        if (!up) throw new Error('connect ECONNREFUSED');
      },
      LIMITS,
      async () => up,
    );
    await expect(writer.write([row('a')])).rejects.toBeInstanceOf(UnavailableError);
    expect(writer.unavailableReason).toMatch(/ECONNREFUSED/);
    await expect(writer.write([row('b')])).rejects.toBeInstanceOf(UnavailableError);
    up = true;
    await new Promise((resolve) => setTimeout(resolve, 1200)); // the probe runs every second
    expect(writer.unavailableReason).toBeUndefined();
    await expect(writer.write([row('c')])).resolves.toBeUndefined();
    writer.stop();
  });

  it('a full queue refuses at once with 429 (OverloadedError)', async () => {
    let release: () => void = () => {};
    const writer = new LogWriter(() => new Promise<void>((resolve) => (release = resolve)), {
      ...LIMITS,
      batchLingerMs: 0,
      queueMaxSpans: 3,
    });
    const first = writer.write([row('1'), row('2'), row('3')]);
    expect(writer.isFull()).toBe(true);
    await expect(writer.write([row('4')])).rejects.toBeInstanceOf(OverloadedError);
    expect(writer.stats.rejectedOverload).toBe(1);
    release();
    await first;
    await writer.drain();
    expect(writer.backlogRecords).toBe(0);
  });

  it('a request spanning 100 days is stored in inserts of at most 33 days each', async () => {
    const inserts: string[] = [];
    const writer = new LogWriter(async (batch) => void inserts.push(...batch.slices), LIMITS);
    await writer.write(Array.from({ length: 100 }, (_, i) => row(`d${i}`, 1767225600000000000n - BigInt(i) * DAY)));
    expect(inserts.map((lines) => lines.split('\n').length)).toEqual([33, 33, 33, 1]);
  });
});
