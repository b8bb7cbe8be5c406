/**
 * Liveness, readiness and Prometheus metrics (SPEC §6). `/healthz` answers while the process
 * runs; `/readyz` only while storage answers, so a load balancer stops sending spans during
 * a storage outage.
 */
import { Hono } from 'hono';
import type { AppDeps } from '../app.ts';
import type { Receivers } from '../app.ts';
import type { LogsReceiver } from './otlp-logs.ts';

interface Metric {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  /** One value, or values by label set (`code="200"` → n). */
  value: number | Record<string, number>;
}

function renderMetrics(metrics: readonly Metric[]): string {
  return metrics
    .flatMap((m) => [
      `# HELP ${m.name} ${m.help}`,
      `# TYPE ${m.name} ${m.type}`,
      ...(typeof m.value === 'number' ? [`${m.name} ${m.value}`] : Object.entries(m.value).map(([labels, n]) => `${m.name}{${labels}} ${n}`)),
    ])
    .join('\n');
}

/** The logs receiver's counters (`/v1/logs`, `otel_logs`), apart from the spans' so neither hides the other. */
function logMetrics(logs: LogsReceiver): Metric[] {
  const { stats, writer } = logs;
  const byCode = Object.fromEntries(Object.entries(stats.requests).map(([code, n]) => [`code="${code}"`, n]));
  return [
    { name: 'sessiongraph_otlp_log_requests_total', type: 'counter', help: 'OTLP/HTTP log export requests by response status (499: client left first, 408: body too slow).', value: byCode },
    { name: 'sessiongraph_log_records_accepted_total', type: 'counter', help: 'Log records stored after a successful export.', value: stats.recordsAccepted },
    { name: 'sessiongraph_log_records_rejected_total', type: 'counter', help: 'Log records refused in partial successes (invalid ids or times).', value: stats.recordsRejected },
    { name: 'sessiongraph_log_attribute_values_truncated_total', type: 'counter', help: 'Log attribute values cut to --max-attribute-value-size.', value: stats.truncatedValues },
    { name: 'sessiongraph_log_attributes_dropped_total', type: 'counter', help: 'Log attributes dropped beyond --max-attributes-per-span.', value: stats.droppedAttributes },
    { name: 'sessiongraph_log_storage_inserts_total', type: 'counter', help: 'Group-committed otel_logs inserts.', value: writer.stats.inserts },
    { name: 'sessiongraph_log_storage_insert_failures_total', type: 'counter', help: 'otel_logs inserts that failed.', value: writer.stats.insertFailures },
    { name: 'sessiongraph_log_queue_rejections_total', type: 'counter', help: 'Log writes refused because the log queue was full (429).', value: writer.stats.rejectedOverload },
    { name: 'sessiongraph_log_queue_records', type: 'gauge', help: 'Log records accepted and waiting for storage.', value: writer.backlogRecords },
  ];
}

/** gRPC calls by service and status, for one labelled counter. */
function grpcByCode(traces: Record<string, number> | undefined, logs: Record<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [service, counts] of [['traces', traces], ['logs', logs]] as const) {
    for (const [code, n] of Object.entries(counts ?? {})) out[`service="${service}",code="${code}"`] = n;
  }
  return out;
}

/** Builds `/healthz`, `/readyz` and `/metrics`. */
export function healthRoutes(deps: AppDeps, receivers: Receivers): Hono {
  const receiver = receivers.traces.stats;
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
    const byCode = Object.fromEntries(Object.entries(receiver.requests).map(([code, n]) => [`code="${code}"`, n]));
    const text = renderMetrics([
      { name: 'sessiongraph_otlp_requests_total', type: 'counter', help: 'OTLP/HTTP export requests by response status; 499: the client closed the connection before its answer, 408: it sent its body too slowly.', value: byCode },
      { name: 'sessiongraph_spans_accepted_total', type: 'counter', help: 'Spans stored after a successful export.', value: receiver.spansAccepted },
      { name: 'sessiongraph_spans_rejected_total', type: 'counter', help: 'Spans refused in partial successes (invalid ids or times).', value: receiver.spansRejected },
      { name: 'sessiongraph_attribute_values_truncated_total', type: 'counter', help: 'Attribute values cut to --max-attribute-value-size.', value: receiver.truncatedValues },
      { name: 'sessiongraph_attributes_dropped_total', type: 'counter', help: 'Attributes dropped beyond --max-attributes-per-span.', value: receiver.droppedAttributes },
      { name: 'sessiongraph_storage_inserts_total', type: 'counter', help: 'Group-committed batches stored.', value: w.inserts },
      { name: 'sessiongraph_storage_insert_failures_total', type: 'counter', help: 'Batches whose storage failed.', value: w.insertFailures },
      { name: 'sessiongraph_queue_rejections_total', type: 'counter', help: 'Writes refused because the queue was full (429).', value: w.rejectedOverload },
      { name: 'sessiongraph_storage_available', type: 'gauge', help: '1 while storage accepts writes, 0 during an outage.', value: deps.writer.unavailableReason === undefined ? 1 : 0 },
      { name: 'sessiongraph_queue_spans', type: 'gauge', help: 'Spans accepted and waiting for storage.', value: deps.writer.backlogSpans },
      {
        name: 'sessiongraph_otlp_grpc_requests_total',
        type: 'counter',
        help: 'OTLP/gRPC Export calls by status; CANCELLED: ended before an answer (the client left, or grpc-js refused the message itself).',
        value: grpcByCode(receiver.grpcRequests, receivers.logs.stats.grpcRequests),
      },
      {
        name: 'sessiongraph_ingest_stage_seconds_total',
        type: 'counter',
        help: 'Seconds spent in each stage of ingest: decode (spans), prepare (facts and serialisation), then the statements of stored batches (journal, raw rows, facts, session roll-up).',
        value: {
          'stage="decode"': receiver.decodeSeconds,
          'stage="prepare"': w.prepareSeconds + receivers.logs.writer.stats.prepareSeconds,
          ...Object.fromEntries(Object.entries(deps.graph.stageSeconds).map(([stage, seconds]) => [`stage="${stage}"`, seconds])),
        },
      },
      ...logMetrics(receivers.logs),
    ]);
    return c.text(`${text}\n`, 200, { 'content-type': 'text/plain; version=0.0.4' });
  });
  return app;
}
