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

/** HTTP status for each error kind: the single place this mapping lives. */
export const HTTP_STATUS: Record<ErrorKind, 400 | 401 | 403 | 404 | 408 | 413 | 415 | 429 | 503> = {
  'bad-data': 400,
  'too-large': 413,
  'unsupported-media-type': 415,
  'not-found': 404,
  unauthorized: 401,
  forbidden: 403,
  overloaded: 429,
  unavailable: 503,
  timeout: 408,
};

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
