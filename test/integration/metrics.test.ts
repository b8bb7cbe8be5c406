/**
 * `/metrics` as Prometheus scrapes it: text the format's parser accepts, every family with HELP
 * and TYPE, names by the conventions (`_total` counters, `_seconds` durations), and histograms
 * that move with traffic — request duration by route pattern and status, rows per batch, insert
 * latency, roll-up lag — beside the queue, storage and process gauges.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { startTestCollector, tempDir } from '../helpers/collector.ts';
import { histogramSeries, parsePrometheusText, type Family } from '../helpers/prometheus-text.ts';

let collector: RunningCollector;
beforeAll(async () => {
  collector = await startTestCollector(tempDir());
});
afterAll(async () => {
  await collector?.close();
});

async function scrape(): Promise<Map<string, Family>> {
  const res = await fetch(`${collector.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

function exportBody(traceId: string, spans: number): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'metrics-test' } }] },
        scopeSpans: [
          {
            spans: Array.from({ length: spans }, (_, i) => ({
              traceId,
              spanId: (i + 1).toString(16).padStart(16, '0'),
              name: i === 0 ? 'invoke_agent triage' : 'chat gpt-4o',
              ...(i === 0 ? {} : { parentSpanId: '0000000000000001' }),
              startTimeUnixNano: `${1767225600000000000n + BigInt(i) * 1000000n}`,
              endTimeUnixNano: `${1767225600500000000n + BigInt(i) * 1000000n}`,
            })),
          },
        ],
      },
    ],
  });
}

describe('GET /metrics', () => {
  it('parses as Prometheus text, with conventional names and the process metrics', async () => {
    const families = await scrape();
    for (const [name, family] of families) {
      if (family.type === 'counter') expect(name, name).toMatch(/_total$/);
      if (/duration|lag|latency/.test(name) && family.type === 'histogram') expect(name, name).toMatch(/_seconds$/);
    }
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(families.has(name), name).toBe(true);
    }
    expect(families.get('sessiongraph_storage_available')?.samples[0]?.value).toBe(1);
    expect(families.get('sessiongraph_queue_spans')?.type).toBe('gauge');
  });

  it('its histograms move with traffic: request duration by route and status, rows per batch, insert latency, roll-up lag', async () => {
    const before = await scrape();
    const sends = 3;
    for (let i = 0; i < sends; i++) {
      const traceId = `${i + 1}`.padStart(32, 'a');
      const res = await fetch(`${collector.url}/v1/traces`, {
        method: 'POST',
        body: exportBody(traceId, 5),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(200);
    }
    const bad = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      body: '{',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    const session = await fetch(
      `${collector.url}/api/sessions/${'1'.padStart(32, 'a').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-')}`,
    );
    expect(session.status).toBe(200);
    expect((await fetch(`${collector.url}/api/sessions/not-a-uuid`)).status).toBe(404);
    expect(await collector.graph.settled()).toBe(true);
    const after = await scrape();

    const moved = (name: string, labels: Record<string, string>): { count: number; sum: number } => {
      expect(after.get(name)?.type, name).toBe('histogram');
      const a = histogramSeries(after, name, labels);
      const b = histogramSeries(before, name, labels);
      return { count: a.count - b.count, sum: a.sum - b.sum };
    };
    const ok = moved('sessiongraph_http_request_duration_seconds', {
      route: '/v1/traces',
      method: 'POST',
      code: '200',
    });
    expect(ok.count).toBe(sends);
    expect(ok.sum).toBeGreaterThan(0);
    expect(
      moved('sessiongraph_http_request_duration_seconds', { route: '/v1/traces', method: 'POST', code: '400' }).count,
    ).toBe(1);
    // Routes are patterns, never paths: one series for every session id.
    expect(
      moved('sessiongraph_http_request_duration_seconds', { route: '/api/sessions/:id', method: 'GET', code: '200' })
        .count,
    ).toBe(1);
    expect(
      moved('sessiongraph_http_request_duration_seconds', { route: '/api/sessions/:id', method: 'GET', code: '404' })
        .count,
    ).toBe(1);
    const routes = new Set(after.get('sessiongraph_http_request_duration_seconds')?.samples.map((s) => s.labels.route));
    expect([...routes].some((r) => r?.includes('aaaa'))).toBe(false);

    const batches = moved('sessiongraph_batch_rows', { signal: 'traces' });
    expect(batches.count).toBeGreaterThanOrEqual(1);
    expect(batches.count).toBeLessThanOrEqual(sends);
    expect(batches.sum).toBe(sends * 5);
    const inserts = moved('sessiongraph_storage_insert_duration_seconds', { signal: 'traces', outcome: 'ok' });
    expect(inserts.count).toBe(batches.count);
    expect(inserts.sum).toBeGreaterThan(0);
    expect(moved('sessiongraph_rollup_lag_seconds', {}).count).toBeGreaterThanOrEqual(sends);
  });
});
