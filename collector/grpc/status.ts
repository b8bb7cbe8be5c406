/**
 * Typed errors → gRPC statuses (OTLP spec, "OTLP/gRPC Response" → Failures, and "Throttling"),
 * in one place as app.ts does for HTTP. Retryable refusals carry a `google.rpc.RetryInfo` in
 * `grpc-status-details-bin`: without it an exporter must treat RESOURCE_EXHAUSTED as final.
 */
import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { SessiongraphError, type ErrorKind } from '../../src/errors.ts';
import { encodeGrpcStatusDetails } from '../../src/otlp/response.ts';

const CODE_FOR_KIND: Record<ErrorKind, status> = {
  'bad-data': status.INVALID_ARGUMENT,
  // Over the message size limit: what grpc-js itself answers and OTLP/gRPC names; final without RetryInfo.
  'too-large': status.RESOURCE_EXHAUSTED,
  'unsupported-media-type': status.INVALID_ARGUMENT,
  'not-found': status.NOT_FOUND,
  unauthorized: status.UNAUTHENTICATED,
  forbidden: status.PERMISSION_DENIED,
  overloaded: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  timeout: status.DEADLINE_EXCEEDED,
};

/** The gRPC status for an error: typed errors by kind (retryable ones with RetryInfo), anything else INTERNAL. */
export function grpcStatusOf(err: unknown): StatusObject {
  if (!(err instanceof SessiongraphError)) {
    // A bug of ours: INTERNAL is final for exporters, so a request that triggers it cannot loop.
    return { code: status.INTERNAL, details: 'internal error while receiving the export', metadata: new Metadata() };
  }
  const code = CODE_FOR_KIND[err.kind];
  const metadata = new Metadata();
  const retryAfter = 'retryAfterSeconds' in err && typeof err.retryAfterSeconds === 'number' ? err.retryAfterSeconds : undefined;
  if (retryAfter !== undefined) {
    metadata.set('grpc-status-details-bin', Buffer.from(encodeGrpcStatusDetails(code, err.message, retryAfter)));
  }
  return { code, details: err.message, metadata };
}

/** The name of a status code as /metrics labels it (OK, INVALID_ARGUMENT, …). */
export function statusName(code: status): string {
  return status[code] ?? String(code);
}
