/**
 * Liveness, readiness and Prometheus metrics (SPEC §6). `/healthz` answers while the process
 * runs; `/readyz` only while storage answers, so a load balancer stops sending spans during
 * a storage outage.
 */
import { Hono } from 'hono';
import type { AppDeps } from '../app.ts';
import type { ReceiverStats } from './otlp.ts';

/** Builds `/healthz`, `/readyz` and `/metrics`. */
export function healthRoutes(deps: AppDeps, receiver: ReceiverStats): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const reason = deps.writer.unavailableReason ?? ((await deps.storage.ping()) ? undefined : 'storage does not answer');
    return c.json(
      { status: reason === undefined ? 'ready' : 'not ready', storage: deps.storage.engine, ...(reason !== undefined ? { reason } : {}) },
      reason === undefined ? 200 : 503,
    );
  });
  app.get('/metrics', (c) => {
    const w = deps.writer.stats;
    const lines = [
      '# HELP sessiongraph_otlp_requests_total OTLP/HTTP export requests by response status.',
      '# TYPE sessiongraph_otlp_requests_total counter',
      ...Object.entries(receiver.requests).map(([code, n]) => `sessiongraph_otlp_requests_total{code="${code}"} ${n}`),
      '# HELP sessiongraph_spans_accepted_total Spans stored after a successful export.',
      '# TYPE sessiongraph_spans_accepted_total counter',
      `sessiongraph_spans_accepted_total ${receiver.spansAccepted}`,
      '# HELP sessiongraph_spans_rejected_total Spans refused in partial successes (invalid ids).',
      '# TYPE sessiongraph_spans_rejected_total counter',
      `sessiongraph_spans_rejected_total ${receiver.spansRejected}`,
      '# HELP sessiongraph_attribute_values_truncated_total Attribute values cut to --max-attribute-value-size.',
      '# TYPE sessiongraph_attribute_values_truncated_total counter',
      `sessiongraph_attribute_values_truncated_total ${receiver.truncatedValues}`,
      '# HELP sessiongraph_attributes_dropped_total Attributes dropped beyond --max-attributes-per-span.',
      '# TYPE sessiongraph_attributes_dropped_total counter',
      `sessiongraph_attributes_dropped_total ${receiver.droppedAttributes}`,
      '# HELP sessiongraph_storage_inserts_total Inserts into otel_traces (one per group-committed batch).',
      '# TYPE sessiongraph_storage_inserts_total counter',
      `sessiongraph_storage_inserts_total ${w.inserts}`,
      '# HELP sessiongraph_storage_insert_failures_total Failed inserts into otel_traces.',
      '# TYPE sessiongraph_storage_insert_failures_total counter',
      `sessiongraph_storage_insert_failures_total ${w.insertFailures}`,
      '# HELP sessiongraph_storage_available 1 while storage accepts writes, 0 during an outage.',
      '# TYPE sessiongraph_storage_available gauge',
      `sessiongraph_storage_available ${deps.writer.unavailableReason === undefined ? 1 : 0}`,
      '# HELP sessiongraph_queue_spans Spans accepted and waiting for storage.',
      '# TYPE sessiongraph_queue_spans gauge',
      `sessiongraph_queue_spans ${deps.writer.backlogSpans}`,
    ];
    return c.text(`${lines.join('\n')}\n`, 200, { 'content-type': 'text/plain; version=0.0.4' });
  });
  return app;
}
