/**
 * Typed errors, one per way a request can fail. They are mapped to HTTP once, in
 * `collector/app.ts` (permanent errors → 4xx never retried; retryable → 429/503 with
 * Retry-After), following the OpenTelemetry Collector's permanent/retryable split. A client
 * that leaves mid-request is ClientClosedError: counted as 499, never answered.
 */
export type ErrorKind =
  | 'bad-data'
  | 'too-large'
  | 'unsupported-media-type'
  | 'not-found'
  | 'unauthorized'
  | 'forbidden'
  | 'overloaded'
  | 'unavailable'
  | 'timeout';

/** Base class: `kind` decides the HTTP status; `message` is shown to the client. */
export class SessiongraphError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SessiongraphError';
  }
}

/** Malformed or invalid input: never retried (HTTP 400). */
export class BadDataError extends SessiongraphError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('bad-data', message, options);
  }
}

/** Body larger than the configured limit, before or after decompression (HTTP 413). */
export class TooLargeError extends SessiongraphError {
  constructor(message: string) {
    super('too-large', message);
  }
}

/** Content-Type or Content-Encoding the receiver does not speak (HTTP 415). */
export class UnsupportedMediaTypeError extends SessiongraphError {
  constructor(message: string) {
    super('unsupported-media-type', message);
  }
}

/** Unknown id or path (HTTP 404). */
export class NotFoundError extends SessiongraphError {
  constructor(message: string) {
    super('not-found', message);
  }
}

/** The collector has more queued than it may hold; retry later (HTTP 429 + Retry-After). */
export class OverloadedError extends SessiongraphError {
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
  ) {
    super('overloaded', message);
  }
}

/** Storage failed or is unreachable; retry later (HTTP 503 + Retry-After). */
export class UnavailableError extends SessiongraphError {
  constructor(
    message: string,
    readonly retryAfterSeconds = 5,
    options?: { cause?: unknown },
  ) {
    super('unavailable', message, options);
  }
}

/**
 * The client sent its request too slowly: no body bytes for the body timeout, or not all of it
 * within the request deadline (HTTP 408). Not retried by OTLP exporters: a client this slow is
 * broken or hostile, and cutting it off is what frees its connection and in-flight bytes.
 */
export class RequestTimeoutError extends SessiongraphError {
  constructor(message: string) {
    super('timeout', message);
  }
}

/**
 * The client closed the connection before its answer: counted as 499 (nginx's "client closed
 * request"), never as a 500. Not a SessiongraphError: no status can reach a client that left,
 * so it has no place in HTTP_STATUS, and nothing is logged for it.
 */
export class ClientClosedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClientClosedError';
  }
}

/** The status counted (never sent) for a request whose client left: nginx's 499. */
export const CLIENT_CLOSED_STATUS = 499;

/**
 * How each error kind is answered, the single place this mapping lives: the HTTP status, and the
 * `google.rpc.Code` of the OTLP `Status` body — the same numbers as gRPC status codes, so OTLP/HTTP
 * and OTLP/gRPC answer alike (OTLP spec, "Failures"). Retryable kinds (429, 503) carry their
 * `retryAfterSeconds` on the error itself.
 */
export const ERROR_STATUS: Record<
  ErrorKind,
  { http: 400 | 401 | 403 | 404 | 408 | 413 | 415 | 429 | 503; rpc: number }
> = {
  'bad-data': { http: 400, rpc: 3 }, // INVALID_ARGUMENT
  // RESOURCE_EXHAUSTED without retry information: final, as OTLP/gRPC says for a message too large.
  'too-large': { http: 413, rpc: 8 },
  'unsupported-media-type': { http: 415, rpc: 3 }, // INVALID_ARGUMENT
  'not-found': { http: 404, rpc: 5 }, // NOT_FOUND
  unauthorized: { http: 401, rpc: 16 }, // UNAUTHENTICATED
  forbidden: { http: 403, rpc: 7 }, // PERMISSION_DENIED
  overloaded: { http: 429, rpc: 8 }, // RESOURCE_EXHAUSTED
  unavailable: { http: 503, rpc: 14 }, // UNAVAILABLE
  timeout: { http: 408, rpc: 4 }, // DEADLINE_EXCEEDED
};

/** HTTP status for each error kind (from ERROR_STATUS). */
export const HTTP_STATUS = Object.fromEntries(Object.entries(ERROR_STATUS).map(([kind, s]) => [kind, s.http])) as {
  [K in ErrorKind]: (typeof ERROR_STATUS)[K]['http'];
};

/** Seconds a client should wait before retrying, for the retryable errors; undefined for final ones. */
export function retryAfterOf(err: SessiongraphError): number | undefined {
  return 'retryAfterSeconds' in err && typeof err.retryAfterSeconds === 'number' ? err.retryAfterSeconds : undefined;
}

/** No API key, or one that is not configured (HTTP 401). */
export class UnauthorizedError extends SessiongraphError {
  constructor(message: string) {
    super('unauthorized', message);
  }
}

/** A valid API key without the scope the route needs (HTTP 403). */
export class ForbiddenError extends SessiongraphError {
  constructor(message: string) {
    super('forbidden', message);
  }
}
