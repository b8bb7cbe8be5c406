/**
 * GET /api/sessions filters and keyset pagination, and the API's JSON errors (SPEC §6): nine
 * small hand-made OTLP/JSON sessions spread over days, agents, services and statuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { startTestCollector, tempDir } from '../helpers/collector.ts';
import { sessionIdOf } from '../../src/mapping/ids.ts';

type Json = Record<string, any>; // API bodies under test

let collector: RunningCollector;

const ns = (ms: number): string => (BigInt(ms) * 1_000_000n).toString();
const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

interface Run {
  traceId: string;
  start: number; // ms since the epoch
  agent?: string; // root invoke_agent span with this name; absent → one rootless chat span
  service?: string;
  failed?: boolean;
  conversation?: string;
}

const NOW = Date.now();
const day = (d: string): number => Date.parse(`2026-11-${d}Z`);
// Newest first, as the API must list them. S4b and S4a start at the same instant: the tie is
// broken by id, descending ('bbbb…' before 'aaaa…').
const S7 = { traceId: '70000000000000000000000000000007', start: NOW - 120_000 }; // rootless, last span 1 min ago → active
const S6 = {
  traceId: '60000000000000000000000000000006',
  start: day('23T08:00:00'),
  agent: 'digest-writer',
  service: 'marketing',
};
const S4b = { traceId: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', start: day('22T08:00:00'), agent: 'ticket-router' };
const S4a = { traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', start: day('22T08:00:00'), agent: 'digest-writer' };
const S3 = {
  traceId: '30000000000000000000000000000003',
  start: day('21T08:00:00'),
  agent: 'digest-writer',
  conversation: 'conv-42',
};
const S5 = { traceId: '50000000000000000000000000000005', start: day('20T12:00:00'), agent: 'ticket-router' };
const S2 = {
  traceId: '20000000000000000000000000000002',
  start: day('19T08:00:00'),
  agent: 'digest-writer',
  failed: true,
};
const S1 = { traceId: '10000000000000000000000000000001', start: day('18T08:00:00'), agent: 'digest-writer' };
const S8 = { traceId: '80000000000000000000000000000008', start: day('17T08:00:00') }; // rootless, days old → abandoned
const ALL: Run[] = [S7, S6, S4b, S4a, S3, S5, S2, S1, S8];

const ids = (...runs: Run[]): string[] => runs.map((r) => sessionIdOf(r.traceId));

function exportBody(run: Run): string {
  const span = run.agent
    ? {
        spanId: '00000000000000a1',
        name: `invoke_agent ${run.agent}`,
        attributes: [
          str('gen_ai.operation.name', 'invoke_agent'),
          str('gen_ai.agent.name', run.agent),
          ...(run.conversation ? [str('gen_ai.conversation.id', run.conversation)] : []),
        ],
        ...(run.failed ? { status: { code: 2, message: 'model refused' } } : {}),
      }
    : {
        spanId: '00000000000000b1',
        parentSpanId: '00000000000000ff',
        name: 'chat orphan',
        attributes: [str('gen_ai.operation.name', 'chat')],
      };
  const resource = { attributes: [str('service.name', run.service ?? 'product-ops')] };
  const full = {
    traceId: run.traceId,
    kind: 1,
    startTimeUnixNano: ns(run.start),
    endTimeUnixNano: ns(run.start + 60_000),
    ...span,
  };
  return JSON.stringify({ resourceSpans: [{ resource, scopeSpans: [{ spans: [full] }] }] });
}

async function getJson(path: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${collector.url}${path}`);
  return { status: res.status, body: (await res.json()) as Json };
}

/** Session ids of one page of GET /api/sessions?query (asserts 200). */
async function listed(query: string): Promise<string[]> {
  const { status, body } = await getJson(`/api/sessions?${query}`);
  expect(status, query).toBe(200);
  return (body.sessions as Json[]).map((s) => s.id as string);
}

beforeAll(async () => {
  collector = await startTestCollector(tempDir());
  for (const run of ALL) {
    const res = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      body: exportBody(run),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
  }
});
afterAll(async () => {
  await collector?.close();
});

describe('GET /api/sessions filters', () => {
  it('no filter: every session, newest first', async () => {
    expect(await listed('')).toEqual(ids(...ALL));
  });

  it('agent: by name across services, by definition id for one service', async () => {
    expect(await listed('agent=digest-writer')).toEqual(ids(S6, S4a, S3, S2, S1));
    expect(await listed('agent=ticket-router')).toEqual(ids(S4b, S5));
    expect(await listed('agent=nobody')).toEqual([]);

    const { body } = await getJson('/api/agents');
    const defs = (body.agents as Json[]).filter((a) => a.title === 'digest-writer');
    expect(defs.map((d) => [d.service_name, d.session_count, d.failed_sessions]).sort()).toEqual([
      ['marketing', 1, 0],
      ['product-ops', 4, 1], // S1, S2 (failed), S3, S4a
    ]);
    const productOps = defs.find((d) => d.service_name === 'product-ops')!;
    expect(await listed(`agent=${productOps.id}`)).toEqual(ids(S4a, S3, S2, S1));
    expect(await listed(`agent=${String(productOps.id).toUpperCase()}`)).toEqual(ids(S4a, S3, S2, S1));
  });

  it('status: completed, failed, active, abandoned', async () => {
    expect(await listed('status=failed')).toEqual(ids(S2));
    expect(await listed('status=active')).toEqual(ids(S7));
    expect(await listed('status=abandoned')).toEqual(ids(S8));
    expect(await listed('status=completed')).toEqual(ids(S6, S4b, S4a, S3, S5, S1));
    expect(await listed('agent=digest-writer&status=failed')).toEqual(ids(S2));
  });

  it('from (inclusive) and to bound session_start', async () => {
    expect(await listed('from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z')).toEqual(ids(S5));
    // from at exactly S2's start includes it.
    expect(await listed('from=2026-11-19T08:00:00.000Z&to=2026-11-21T00:00:00Z')).toEqual(ids(S5, S2));
    // An offset is honoured: 13:00+01:00 = 12:00Z = S5's start.
    expect(await listed('from=2026-11-20T13:00:00%2B01:00&to=2026-11-21T00:00:00Z')).toEqual(ids(S5));
    expect(await listed('from=2026-11-22T08:00:00Z')).toEqual(ids(S7, S6, S4b, S4a));
    expect(await listed('to=2026-11-19T00:00:00Z')).toEqual(ids(S1, S8));
  });

  it('trace_id (any case) and conversation_id', async () => {
    expect(await listed(`trace_id=${S3.traceId.toUpperCase()}`)).toEqual(ids(S3));
    expect(await listed(`trace_id=${'f'.repeat(32)}`)).toEqual([]);
    expect(await listed('conversation_id=conv-42')).toEqual(ids(S3));
    expect(await listed('conversation_id=conv-none')).toEqual([]);
  });

  it('limit + cursor: pages do not overlap, cover all, newest first, across a tie', async () => {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const { status, body }: { status: number; body: Json } = await getJson(
        `/api/sessions?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(status).toBe(200);
      pages.push((body.sessions as Json[]).map((s) => s.id as string));
      cursor = body.next_cursor as string | null;
    } while (cursor && pages.length < 10);
    // 9 sessions / 3 = 3 full pages, the third without a next cursor; S4b | S4a straddle pages 1 and 2.
    expect(pages).toEqual([ids(S7, S6, S4b), ids(S4a, S3, S5), ids(S2, S1, S8)]);

    // With a filter: digest-writer by 2.
    const first = await getJson('/api/sessions?agent=digest-writer&limit=2');
    expect(first.body.sessions.map((s: Json) => s.id)).toEqual(ids(S6, S4a));
    const second = await getJson(`/api/sessions?agent=digest-writer&limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.sessions.map((s: Json) => s.id)).toEqual(ids(S3, S2));
    const third = await getJson(`/api/sessions?agent=digest-writer&limit=2&cursor=${second.body.next_cursor}`);
    expect(third.body).toMatchObject({ next_cursor: null });
    expect(third.body.sessions.map((s: Json) => s.id)).toEqual(ids(S1));
  });

  it('a session whose start moved when its root arrived is listed by its final start only', async () => {
    // P: a tool span at 10:00 first (provisional session starting 10:00), then its root at 09:00.
    // Q: one agent span at 09:45. Run last: it adds sessions the tests above do not expect.
    const t = (hhmm: string): number => Date.parse(`2026-10-10T${hhmm}:00Z`);
    const P = '0e000000000000000000000000000001';
    const Q = '0e000000000000000000000000000002';
    const span = (traceId: string, spanId: string, parent: string, start: number, name: string) => ({
      traceId,
      spanId,
      ...(parent ? { parentSpanId: parent } : {}),
      name,
      kind: 1,
      startTimeUnixNano: ns(start),
      endTimeUnixNano: ns(start + 60_000),
      attributes: [
        str('gen_ai.operation.name', parent ? 'execute_tool' : 'invoke_agent'),
        str('gen_ai.agent.name', 'mover'),
      ],
    });
    const post = async (spans: unknown[]): Promise<void> => {
      const body = JSON.stringify({
        resourceSpans: [{ resource: { attributes: [str('service.name', 'moving')] }, scopeSpans: [{ spans }] }],
      });
      expect(
        (
          await fetch(`${collector.url}/v1/traces`, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json' },
          })
        ).status,
      ).toBe(200);
    };
    await post([span(P, '00000000000000c2', '00000000000000c1', t('10:00'), 'execute_tool lookup')]);
    await post([span(Q, '00000000000000d1', '', t('09:45'), 'invoke_agent mover')]);
    const later = `from=${encodeURIComponent('2026-10-10T09:30:00Z')}&to=${encodeURIComponent('2026-10-11T00:00:00Z')}`;
    // Provisional P (no agent known yet) starts at 10:00.
    expect(await listed(later)).toEqual(ids({ traceId: P, start: 0 }, { traceId: Q, start: 0 }));
    await post([span(P, '00000000000000c1', '', t('09:00'), 'invoke_agent mover')]);
    const day = `from=${encodeURIComponent('2026-10-10T00:00:00Z')}&to=${encodeURIComponent('2026-10-11T00:00:00Z')}`;
    expect(await listed(`${day}&agent=mover`)).toEqual(ids({ traceId: Q, start: 0 }, { traceId: P, start: 0 }));
    expect(await listed(later)).toEqual(ids({ traceId: Q, start: 0 }));
    expect(
      await listed(
        `agent=mover&to=${encodeURIComponent('2026-10-10T09:30:00Z')}&from=${encodeURIComponent('2026-10-01T00:00:00Z')}`,
      ),
    ).toEqual(ids({ traceId: P, start: 0 }));
    const first = await getJson(`/api/sessions?${day}&limit=1`);
    expect(first.body.sessions.map((s: Json) => s.id)).toEqual(ids({ traceId: Q, start: 0 }));
    const second = await getJson(`/api/sessions?${day}&limit=1&cursor=${first.body.next_cursor}`);
    expect(second.body.sessions.map((s: Json) => s.id)).toEqual(ids({ traceId: P, start: 0 }));
  });
});

describe('API errors are JSON { error: { code, message } }', () => {
  it.each([
    ['status=bogus', /status/],
    ['from=yesterday', /from/],
    ['to=not-a-time', /to/],
    ['limit=0', /limit/],
    ['limit=501', /limit/],
    ['limit=x', /limit/],
    ['limit=2.5', /limit/],
    ['trace_id=xyz', /trace_id/],
    [`trace_id=${'a'.repeat(31)}`, /trace_id/],
    ['cursor=garbage', /cursor/],
    [`cursor=${Buffer.from('123|not-a-uuid').toString('base64url')}`, /cursor/],
  ])('GET /api/sessions?%s → 400', async (query, message) => {
    const { status, body } = await getJson(`/api/sessions?${query}`);
    expect(status).toBe(400);
    expect(body).toEqual({ error: { code: 'bad-data', message: expect.stringMatching(message) } });
  });

  it.each([
    ['/api/sessions/', 'session'],
    ['/api/decisions/', 'decision'],
    ['/api/agents/', 'agent definition'],
  ])('%s<unknown> → 404, for a well-formed UUID and for a non-UUID', async (base, what) => {
    for (const id of ['0f0f0f0f-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const { status, body } = await getJson(`${base}${id}`);
      expect(status, `${base}${id}`).toBe(404);
      expect(body).toEqual({ error: { code: 'not-found', message: expect.stringContaining(`no ${what} with id`) } });
      expect(body.error.message).toContain(id);
    }
  });
});
