/**
 * Liveness, readiness and Prometheus metrics (SPEC §6). `/healthz` answers while the process
 * runs; `/readyz` only while storage answers, so a load balancer stops sending spans during
 * a storage outage.
 */
import { Hono } from 'hono';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { AppDeps } from '../app.ts';
import type { CollectorHistograms } from '../histograms.ts';
import type { Receivers } from '../app.ts';
import type { LogsReceiver } from './otlp-logs.ts';

/** One value, or values by label set. */
type Reading = number | Array<[Record<string, string>, number]>;

/**
 * A metric whose value is read from the collector's own counters when scraped (prom-client's
 * `collect`), so the hot path keeps plain number increments.
 */
function readMetric(
  registry: Registry,
  kind: 'counter' | 'gauge',
  name: string,
  help: string,
  read: () => Reading,
  labelNames: string[] = [],
): void {
  const collect = function (this: Counter | Gauge): void {
    this.reset();
    const value = read();
    if (typeof value === 'number') {
      if (this instanceof Counter) this.inc(value);
      else this.set(value);
      return;
    }
    for (const [labels, n] of value) {
      if (this instanceof Counter) this.inc(labels, n);
      else this.set(labels, n);
    }
  };
  const config = { name, help, labelNames, registers: [registry], collect };
  if (kind === 'counter') new Counter(config);
  else new Gauge(config);
}

const byLabel = (label: string, counts: Record<string, number>): Array<[Record<string, string>, number]> =>
  Object.entries(counts).map(([value, n]) => [{ [label]: value }, n]);

/** The logs receiver's counters (`/v1/logs`, `otel_logs`), apart from the spans' so neither hides the other. */
function logMetrics(registry: Registry, logs: LogsReceiver): void {
  const { stats, writer } = logs;
  readMetric(
    registry,
    'counter',
    'sessiongraph_otlp_log_requests_total',
    'OTLP/HTTP log export requests by response status (499: client left first, 408: body too slow).',
    () => byLabel('code', stats.requests),
    ['code'],
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_log_records_accepted_total',
    'Log records stored after a successful export.',
    () => stats.recordsAccepted,
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_log_records_rejected_total',
    'Log records refused in partial successes (invalid ids or times).',
    () => stats.recordsRejected,
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_log_attribute_values_truncated_total',
    'Log attribute values cut to --max-attribute-value-size.',
    () => stats.truncatedValues,
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_log_attributes_dropped_total',
    'Log attributes dropped beyond --max-attributes-per-span.',
    () => stats.droppedAttributes,
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_log_storage_inserts_total',
    'Group-committed otel_logs inserts.',
    () => writer.stats.inserts,
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_log_storage_insert_failures_total',
    'otel_logs inserts that failed.',
    () => writer.stats.insertFailures,
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_log_queue_rejections_total',
    'Log writes refused because the log queue was full (429).',
    () => writer.stats.rejectedOverload,
  );
  readMetric(
    registry,
    'gauge',
    'sessiongraph_log_queue_records',
    'Log records accepted and waiting for storage.',
    () => writer.backlogRecords,
  );
}

/** gRPC calls by service and status, for one labelled counter. */
function grpcByCode(
  traces: Record<string, number> | undefined,
  logs: Record<string, number> | undefined,
): Array<[Record<string, string>, number]> {
  return [
    ...Object.entries(traces ?? {}).map(([code, n]): [Record<string, string>, number] => [
      { service: 'traces', code },
      n,
    ]),
    ...Object.entries(logs ?? {}).map(([code, n]): [Record<string, string>, number] => [{ service: 'logs', code }, n]),
  ];
}

/** Every metric of `/metrics`, read from the app's receivers, writers and roll-up. */
function collectorMetrics(deps: AppDeps, receivers: Receivers, histograms: CollectorHistograms): Registry {
  const registry = new Registry();
  const receiver = receivers.traces.stats;
  const w = deps.writer.stats;
  readMetric(
    registry,
    'counter',
    'sessiongraph_otlp_requests_total',
    'OTLP/HTTP export requests by response status; 499: the client closed the connection before its answer, 408: it sent its body too slowly.',
    () => byLabel('code', receiver.requests),
    ['code'],
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_spans_accepted_total',
    'Spans stored after a successful export.',
    () => receiver.spansAccepted,
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_spans_rejected_total',
    'Spans refused in partial successes (invalid ids or times).',
    () => receiver.spansRejected,
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_attribute_values_truncated_total',
    'Attribute values cut to --max-attribute-value-size.',
    () => receiver.truncatedValues,
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_attributes_dropped_total',
    'Attributes dropped beyond --max-attributes-per-span.',
    () => receiver.droppedAttributes,
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_storage_inserts_total',
    'Group-committed batches stored.',
    () => w.inserts,
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_storage_insert_failures_total',
    'Batches whose storage failed.',
    () => w.insertFailures,
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_queue_rejections_total',
    'Writes refused because the queue was full (429).',
    () => w.rejectedOverload,
  );
  readMetric(
    registry,
    'gauge',
    'sessiongraph_storage_available',
    '1 while storage accepts writes, 0 during an outage.',
    () => (deps.writer.unavailableReason === undefined ? 1 : 0),
  );
  readMetric(
    registry,
    'gauge',
    'sessiongraph_queue_spans',
    'Spans accepted and waiting for storage.',
    () => deps.writer.backlogSpans,
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_otlp_grpc_requests_total',
    'OTLP/gRPC Export calls by status; CANCELLED: ended before an answer (the client left, or grpc-js refused the message itself).',
    () => grpcByCode(receiver.grpcRequests, receivers.logs.stats.grpcRequests),
    ['service', 'code'],
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_ingest_stage_seconds_total',
    'Seconds spent in each stage of ingest: decode (spans), prepare (facts and serialisation), the statements of stored batches (raw rows and facts, at once), and the session roll-up behind the ack.',
    () => [
      [{ stage: 'decode' }, receiver.decodeSeconds],
      [{ stage: 'prepare' }, w.prepareSeconds + receivers.logs.writer.stats.prepareSeconds],
      ...Object.entries(deps.graph.stageSeconds).map(([stage, seconds]): [Record<string, string>, number] => [
        { stage },
        seconds,
      ]),
    ],
    ['stage'],
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_redactions_total',
    "Values masked and attributes dropped before storage (--redact, --redact-defaults), by rule: email, api-key, bearer-token, card-number, content, a custom pattern's name, or key:<pattern>.",
    () => byLabel('rule', receivers.redactor?.counts ?? {}),
    ['rule'],
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_erased_rows_dropped_total',
    'Spans and log records of erased traces re-sent after their erasure, acknowledged and dropped.',
    () => receivers.erased.dropped,
  );
  const rollUps = deps.graph.rollUps;
  readMetric(
    registry,
    'counter',
    'sessiongraph_rollup_passes_total',
    'Roll-up passes (each recomputes every trace waiting, once).',
    () => rollUps.passes,
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_rollup_failures_total',
    'Roll-up passes that failed (their traces are retried a second later).',
    () => rollUps.failedPasses,
  );
  readMetric(
    registry,
    'counter',
    'sessiongraph_rollup_traces_total',
    'Traces recomputed by roll-up passes.',
    () => rollUps.tracesRolledUp,
  );
  readMetric(
    registry,
    'gauge',
    'sessiongraph_rollup_backlog_traces',
    'Traces acknowledged and waiting for their session roll-up.',
    () => rollUps.backlog,
  );
  for (const histogram of Object.values(histograms)) registry.registerMetric(histogram);
  // The process's own: CPU, resident memory, open files, event-loop lag, heap and GC (prom-client's defaults).
  collectDefaultMetrics({ register: registry });
  logMetrics(registry, receivers.logs);
  return registry;
}

/** Builds `/healthz`, `/readyz` and `/metrics`. */
export function healthRoutes(deps: AppDeps, receivers: Receivers, histograms: CollectorHistograms): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const reason =
      deps.writer.unavailableReason ?? ((await deps.storage.ping()) ? undefined : 'storage does not answer');
    return c.json(
      {
        status: reason === undefined ? 'ready' : 'not ready',
        storage: deps.storage.engine,
        ...(reason !== undefined ? { reason } : {}),
      },
      reason === undefined ? 200 : 503,
    );
  });
  const registry = collectorMetrics(deps, receivers, histograms);
  app.get('/metrics', async (c) => c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }));
  return app;
}
