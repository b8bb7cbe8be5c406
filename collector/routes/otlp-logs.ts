/**
 * OTLP logs (SPEC §6): `POST /v1/logs` through the same OTLP/HTTP handling as `/v1/traces` (body
 * limits, in-flight budget, body timeout, 413/415/429/503/499), over a LogsReceiver, the
 * transport-independent half a gRPC `LogsService/Export` can share. Records are stored in
 * `otel_logs` as the Collector's ClickHouse exporter stores them; a 2xx means they are stored.
 */
import { Hono } from 'hono';
import { UnavailableError } from '../../src/errors.ts';
import { decodeLogsRequestJson } from '../../src/otlp/decode-logs-json.ts';
import { decodeLogsRequestProtobuf } from '../../src/otlp/decode-logs-protobuf.ts';
import { applyLogLimits, encodeLogsExportResponse } from '../../src/otlp/decode-logs-row.ts';
import type { OtlpBody, OtlpFormat } from '../../src/otlp/response.ts';
import { LogWriter } from '../../src/ingest/log-writer.ts';
import type { AppDeps } from '../app.ts';
import type { Redactor, Sender } from '../../src/redaction/redactor.ts';
import { expireOldLogContent } from '../../src/retention/retention.ts';
import { dropErased, type ErasedTraces } from '../../src/erasure/erasure.ts';
import type { ByteLease } from '../../src/storage/byte-budget.ts';
import { otlpExportHandler, type ReceiverEnv } from './otlp.ts';

/** Counters of the logs receiver, exposed on /metrics. */
export interface LogReceiverStats {
  /** OTLP/HTTP requests by the HTTP status the client saw (499: it left first). */
  requests: Record<string, number>;
  /** OTLP/gRPC calls by status code name; set once a gRPC service counts into it. */
  grpcRequests?: Record<string, number>;
  recordsAccepted: number;
  recordsRejected: number;
  truncatedValues: number;
  droppedAttributes: number;
}

/** What a stored export request answers: records refused in a partial success, and why. */
export interface LogsExportOutcome {
  rejectedLogRecords: number;
  errorMessage: string;
}

/**
 * Log receiving without a transport, shaped as the TraceReceiver (otlp.ts) so a gRPC
 * `LogsService/Export` plugs in as `TraceService/Export` does: the checks made before a body is
 * read, an in-flight byte budget of its own, decode → limits → store, and the counters.
 */
export interface LogsReceiver {
  readonly stats: LogReceiverStats;
  readonly writer: LogWriter;
  /** Throws UnavailableError (storage down) or OverloadedError (queue or budget full) for a request of `bytes` not yet read. */
  checkCapacity(bytes?: number): void;
  /** A request's share of the in-flight byte budget; release() it when answered. */
  lease(): ByteLease;
  /**
   * Decodes, limits and stores one request's (decompressed) bytes; resolves once they are stored.
   * Throws a SessiongraphError: BadDataError (malformed: 400 / INVALID_ARGUMENT), OverloadedError
   * (429 / RESOURCE_EXHAUSTED), UnavailableError (503 / UNAVAILABLE). Invalid records are no
   * error: they are left out and counted in the outcome (partial success).
   */
  store(body: Uint8Array, format: OtlpFormat, sender?: Sender): Promise<LogsExportOutcome>;
  /** The whole export for a transport holding the body already: capacity, budget, store, and the `ExportLogsServiceResponse`. */
  receive(body: Uint8Array, format: OtlpFormat, sender?: Sender): Promise<OtlpBody>;
}

/** What receiving logs needs, whatever the transport. */
export type LogsReceiverDeps = Pick<AppDeps, 'storage' | 'config' | 'writer' | 'graph'> & {
  redactor?: Redactor | undefined;
  erased?: ErasedTraces;
};

/** Builds a logs receiver and its group-committing writer over `otel_logs`. */
export function createLogsReceiver(deps: LogsReceiverDeps): LogsReceiver {
  const { storage, config } = deps;
  const writer = new LogWriter(
    (batch) => deps.graph.storeLogBatch(batch),
    config,
    () => storage.ping(),
  );
  const stats: LogReceiverStats = {
    requests: {},
    recordsAccepted: 0,
    recordsRejected: 0,
    truncatedValues: 0,
    droppedAttributes: 0,
  };
  const receiver: LogsReceiver = {
    stats,
    writer,
    checkCapacity(bytes = 0) {
      // The span writer knows when storage was unreachable at start (schema not yet created).
      const unavailable = deps.writer.unavailableReason;
      if (unavailable !== undefined) throw new UnavailableError(`storage is unavailable (${unavailable}); retry later`);
      // Its own queue and budget: a slow upload of logs holds log bytes only, never the span path's.
      writer.admit(bytes);
    },
    lease: () => writer.lease(),
    async store(body, format, sender) {
      const decoded = format === 'protobuf' ? decodeLogsRequestProtobuf(body) : decodeLogsRequestJson(body);
      dropErased(decoded.records, (r) => r.TraceId, deps.erased);
      deps.redactor?.redactLogs(decoded.records, sender);
      const { contentSeconds } = config.retention;
      if (contentSeconds !== undefined) expireOldLogContent(decoded.records, contentSeconds);
      const limited = applyLogLimits(decoded.records, config);
      stats.truncatedValues += limited.truncatedValues;
      stats.droppedAttributes += limited.droppedAttributes;
      await writer.write(decoded.records);
      stats.recordsAccepted += decoded.records.length;
      stats.recordsRejected += decoded.rejectedLogRecords;
      return { rejectedLogRecords: decoded.rejectedLogRecords, errorMessage: decoded.rejectReasons.join('; ') };
    },
    async receive(body, format, sender) {
      receiver.checkCapacity(body.length);
      const held = writer.lease();
      try {
        held.add(body.length);
        const outcome = await receiver.store(body, format, sender);
        return encodeLogsExportResponse(format, outcome.rejectedLogRecords, outcome.errorMessage);
      } finally {
        held.release();
      }
    },
  };
  return receiver;
}

/** Builds the `/v1/logs` route over `logs` (the receiver the gRPC logs service shares). */
export function otlpLogsRoutes(deps: AppDeps, logs: LogsReceiver): Hono<ReceiverEnv> {
  const app = new Hono<ReceiverEnv>();
  app.post(
    '/v1/logs',
    otlpExportHandler(deps, {
      items: 'log records',
      requests: logs.stats.requests,
      checkCapacity: (bytes) => logs.checkCapacity(bytes),
      lease: () => logs.lease(),
      async receive(body, format, sender) {
        const outcome = await logs.store(body, format, sender);
        return encodeLogsExportResponse(format, outcome.rejectedLogRecords, outcome.errorMessage);
      },
    }),
  );
  return app;
}
