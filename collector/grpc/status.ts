/**
 * Typed errors → gRPC statuses (OTLP spec, "OTLP/gRPC Response" → Failures, and "Throttling"),
 * from the one table in errors.ts that HTTP answers use too. Retryable refusals carry a `google.rpc.RetryInfo` in
 * `grpc-status-details-bin`: without it an exporter must treat RESOURCE_EXHAUSTED as final.
 */
import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { ERROR_STATUS, SessiongraphError, retryAfterOf } from '../../src/errors.ts';
import { encodeGrpcStatusDetails } from '../../src/otlp/response.ts';

/** The gRPC status for an error: typed errors by kind (retryable ones with RetryInfo), anything else INTERNAL. */
export function grpcStatusOf(err: unknown): StatusObject {
  if (!(err instanceof SessiongraphError)) {
    // A bug of ours: INTERNAL is final for exporters, so a request that triggers it cannot loop.
    return { code: status.INTERNAL, details: 'internal error while receiving the export', metadata: new Metadata() };
  }
  // google.rpc.Code numbers are gRPC's status codes: the one table in errors.ts serves both transports.
  const code = ERROR_STATUS[err.kind].rpc as status;
  const metadata = new Metadata();
  const retryAfter = retryAfterOf(err);
  if (retryAfter !== undefined) {
    metadata.set('grpc-status-details-bin', Buffer.from(encodeGrpcStatusDetails(code, err.message, retryAfter)));
  }
  return { code, details: err.message, metadata };
}

/** The name of a status code as /metrics labels it (OK, INVALID_ARGUMENT, …). */
export function statusName(code: status): string {
  return status[code] ?? String(code);
}
