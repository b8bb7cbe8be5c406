/**
 * The collector's Prometheus histograms (prom-client): observed where things happen — HTTP
 * requests in app.ts, stored batches in the writers (server.ts wires them), roll-up lags in the
 * graph writer — and shown on `/metrics` beside the counters read at scrape time (routes/health.ts).
 */
import { Histogram } from 'prom-client';

export interface CollectorHistograms {
  /** Seconds from an acknowledged batch to its sessions reflecting it. */
  rollUpLag: Histogram;
  /** Seconds to answer an HTTP request, by route pattern, method and status. */
  requestDuration: Histogram<'route' | 'method' | 'code'>;
  /** Rows (spans or log records) per stored batch, by signal. */
  batchRows: Histogram<'signal'>;
  /** Seconds to store one batch (its statements, before the ack), by signal and outcome. */
  insertDuration: Histogram<'signal' | 'outcome'>;
}

/** Fresh histograms, in no registry: `/metrics` registers them in its own. */
export function createHistograms(): CollectorHistograms {
  return {
    rollUpLag: new Histogram({
      name: 'sessiongraph_rollup_lag_seconds',
      help: 'Seconds from an acknowledged batch to its sessions reflecting it (sessions are rolled up behind the ack), one observation per trace and pass.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [],
    }),
    requestDuration: new Histogram({
      name: 'sessiongraph_http_request_duration_seconds',
      help: 'Seconds to answer an HTTP request (OTLP exports, API, dashboard), by route pattern, method and status code.',
      labelNames: ['route', 'method', 'code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [],
    }),
    batchRows: new Histogram({
      name: 'sessiongraph_batch_rows',
      help: 'Rows per group-committed batch: spans (signal="traces") or log records (signal="logs").',
      labelNames: ['signal'],
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers: [],
    }),
    insertDuration: new Histogram({
      name: 'sessiongraph_storage_insert_duration_seconds',
      help: 'Seconds to store one batch in ClickHouse before its requests are acknowledged, by signal and outcome (ok, failed).',
      labelNames: ['signal', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [],
    }),
  };
}
