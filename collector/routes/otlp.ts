/**
 * OTLP/HTTP trace receiver (SPEC §6, OTLP spec "OTLP/HTTP"): receive → decompress → decode →
 * store → respond. A 2xx is sent only after the spans are stored; errors come back as
 * `google.rpc.Status` in the request's encoding with the status the OTLP spec prescribes.
 * The transport-independent part (capacity checks, decode, limits, store, counters) is the
 * TraceReceiver, which the OTLP/gRPC service (collector/grpc) shares.
 */
import { performance } from 'node:perf_hooks';
import type { HttpBindings } from '@hono/node-server';
import { Hono, type Context, type Handler } from 'hono';
import {
  CLIENT_CLOSED_STATUS,
  ClientClosedError,
  ERROR_STATUS,
  HTTP_STATUS,
  RequestTimeoutError,
  SessiongraphError,
  retryAfterOf,
} from '../../src/errors.ts';
import { applySpanLimits } from '../../src/otlp/limits.ts';
import { decodeTraceRequestJson } from '../../src/otlp/decode-json.ts';
import { decodeTraceRequestProtobuf } from '../../src/otlp/decode-protobuf.ts';
import { bodyTooLarge, decompressBody, formatFromContentType, readBody } from '../../src/otlp/request-body.ts';
import {
  RPC_CODE,
  encodeExportResponse,
  encodeStatus,
  type OtlpBody,
  type OtlpFormat,
} from '../../src/otlp/response.ts';
import type { ByteLease } from '../../src/storage/byte-budget.ts';
import type { AppDeps } from '../app.ts';
import { presentedKey } from '../../src/auth.ts';
import type { Redactor, Sender } from '../../src/redaction/redactor.ts';
import { expireOldSpanContent } from '../../src/retention/retention.ts';
import { dropErased, type ErasedTraces } from '../../src/erasure/erasure.ts';

/** Counters of the receiver, exposed on /metrics. */
export interface ReceiverStats {
  /** OTLP/HTTP requests by the HTTP status the client saw. */
  requests: Record<string, number>;
  /** OTLP/gRPC calls by status code name (OK, INVALID_ARGUMENT, …); set once a gRPC server counts into it. */
  grpcRequests?: Record<string, number>;
  spansAccepted: number;
  spansRejected: number;
  truncatedValues: number;
  droppedAttributes: number;
  /** Seconds spent decoding request bodies (the first stage of the ingest profile on /metrics). */
  decodeSeconds: number;
}

/** What receiving traces needs, whatever the transport. */
export type ReceiverDeps = Pick<AppDeps, 'writer' | 'config'> & {
  redactor?: Redactor | undefined;
  erased?: ErasedTraces;
};

/** What a stored export request answers: spans refused in a partial success, and why. */
export interface ExportOutcome {
  rejectedSpans: number;
  errorMessage: string;
}

/**
 * Trace receiving without a transport: the checks made before a body is read, the in-flight
 * byte budget, decode → limits → store, and the span counters. A resolved store() means stored.
 */
export interface TraceReceiver {
  readonly stats: ReceiverStats;
  /** Throws UnavailableError (storage down) or OverloadedError (queue or budget full) for a request of `bytes` not yet read. */
  checkCapacity(bytes?: number): void;
  /** A request's share of the in-flight byte budget; release() it when answered. */
  lease(): ByteLease;
  /** Decodes, limits and stores one request's (decompressed) bytes; resolves once they are stored. */
  store(body: Uint8Array, format: OtlpFormat, sender?: Sender): Promise<ExportOutcome>;
}

/** Builds a trace receiver over the writer, with counters of its own. */
export function createTraceReceiver(deps: ReceiverDeps): TraceReceiver {
  const stats: ReceiverStats = {
    requests: {},
    spansAccepted: 0,
    spansRejected: 0,
    truncatedValues: 0,
    droppedAttributes: 0,
    decodeSeconds: 0,
  };
  return {
    stats,
    checkCapacity: (bytes = 0) => deps.writer.admit(bytes),
    lease: () => deps.writer.lease(),
    async store(body, format, sender) {
      const started = performance.now();
      const decoded = format === 'protobuf' ? decodeTraceRequestProtobuf(body) : decodeTraceRequestJson(body);
      stats.decodeSeconds += (performance.now() - started) / 1000;
      // Before the limits: a value cut in two would no longer match its pattern.
      dropErased(decoded.spans, (s) => s.TraceId, deps.erased);
      deps.redactor?.redactSpans(decoded.spans, sender);
      const { contentSeconds } = deps.config.retention;
      if (contentSeconds !== undefined) expireOldSpanContent(decoded.spans, contentSeconds);
      const limited = applySpanLimits(decoded.spans, deps.config);
      stats.truncatedValues += limited.truncatedValues;
      stats.droppedAttributes += limited.droppedAttributes;
      await deps.writer.write(decoded.spans);
      stats.spansAccepted += decoded.spans.length;
      stats.spansRejected += decoded.rejectedSpans;
      return { rejectedSpans: decoded.rejectedSpans, errorMessage: decoded.rejectReasons.join('; ') };
    },
  };
}

/** Served by @hono/node-server, the request's Node objects are at hand; under `app.request()` they are not. */
export type ReceiverEnv = { Bindings: Partial<HttpBindings> | undefined };

/**
 * One OTLP signal's export path behind the shared HTTP handling: traces here (over the
 * TraceReceiver), logs in otlp-logs.ts (over the LogsReceiver).
 */
export interface OtlpExport {
  /** What the signal carries, for messages ("spans", "log records"). */
  items: string;
  /** Responses by HTTP status (499: the client left first), for /metrics. */
  requests: Record<string, number>;
  /** Throws UnavailableError (503) or OverloadedError (429) for a request of `bytes` not yet read. */
  checkCapacity(bytes: number): void;
  /** A request's share of the signal's in-flight byte budget. */
  lease(): ByteLease;
  /** Decodes and stores a decompressed body; resolves to the success body once stored. */
  receive(body: Uint8Array, format: OtlpFormat, sender: Sender): Promise<OtlpBody>;
}

/** Builds the `/v1/traces` route over `receiver` (the one the gRPC trace service shares). */
export function otlpRoutes(deps: AppDeps, receiver: TraceReceiver): Hono<ReceiverEnv> {
  const app = new Hono<ReceiverEnv>();
  const { stats } = receiver;
  app.post(
    '/v1/traces',
    otlpExportHandler(deps, {
      items: 'spans',
      requests: stats.requests,
      checkCapacity: (bytes) => receiver.checkCapacity(bytes),
      lease: () => receiver.lease(),
      async receive(body, format, sender) {
        const outcome = await receiver.store(body, format, sender);
        return encodeExportResponse(format, outcome.rejectedSpans, outcome.errorMessage);
      },
    }),
  );
  return app;
}

/**
 * The OTLP/HTTP handling every signal shares (OTLP spec "OTLP/HTTP"): body limit before and after
 * decompression (413), Content-Type (415), storage state (503) and capacity (429) checked before
 * the body is read, bytes counted against the in-flight budget as they arrive, the body timeout
 * (408), 499 for clients that leave, errors as `google.rpc.Status` in the request's encoding.
 */
export function otlpExportHandler(deps: Pick<AppDeps, 'config' | 'logger'>, signal: OtlpExport): Handler<ReceiverEnv> {
  const { maxBodyBytes, bodyTimeoutMs } = deps.config;
  const tally = (status: number): void => {
    signal.requests[status] = (signal.requests[status] ?? 0) + 1;
  };
  return async (c) => {
    // Counts what the client saw: a client gone before its answer is a 499, whatever we decided.
    const count = (status: number): void => tally(c.req.raw.signal.aborted ? CLIENT_CLOSED_STATUS : status);
    let format: OtlpFormat = guessFormat(c);
    const held = signal.lease();
    // Set while an answer would leave body bytes on the wire: the connection must close after it.
    let closeOnError = false;
    try {
      const declared = declaredLength(c);
      if (declared !== undefined && declared > maxBodyBytes) {
        closeOnError = true;
        throw bodyTooLarge(maxBodyBytes);
      }
      format = formatFromContentType(c.req.header('content-type'));
      // Refused before reading, so a flood of refused requests stays cheap.
      signal.checkCapacity(declared ?? 0);
      closeOnError = true;
      const raw = await readBodyInTime(
        c,
        declared,
        { maxBytes: maxBodyBytes, onBytes: (n) => held.add(n) },
        bodyTimeoutMs,
      );
      closeOnError = false;
      const body = await decompressBody(raw, c.req.header('content-encoding'), maxBodyBytes);
      held.resize(body.length);
      const answer = await signal.receive(body, format, {
        apiKey: presentedKey(c.req.header('authorization'), c.req.header('x-api-key')),
      });
      count(200);
      return send(c, 200, answer);
    } catch (err) {
      if (err instanceof ClientClosedError) {
        // Neither our failure nor an alert: counted, never logged; the answer reaches no one.
        tally(timedOutByNode(c) ? HTTP_STATUS.timeout : CLIENT_CLOSED_STATUS);
        return send(c, 400, encodeStatus(format, RPC_CODE.INVALID_ARGUMENT, err.message));
      }
      if (!(err instanceof SessiongraphError)) {
        // A bug of ours, not the client's data or storage: 500 is not retried, so a request
        // that triggers it cannot loop forever.
        deps.logger.error('unexpected receiver error', { error: String(err) });
        count(500);
        return send(c, 500, encodeStatus(format, RPC_CODE.INTERNAL, `internal error while receiving ${signal.items}`));
      }
      count(HTTP_STATUS[err.kind]);
      // The rest of the body is never read: close the connection so it is not parsed as the next request.
      if (closeOnError) c.header('connection', 'close');
      return otlpError(c, format, err);
    } finally {
      held.release();
    }
  };
}

/** Content-Length when the body is framed by it (not chunked); what the client promised, not what it sent. */
function declaredLength(c: Context): number | undefined {
  if (c.req.header('transfer-encoding') !== undefined) return undefined;
  const header = c.req.header('content-length');
  return header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
}

/**
 * Reads the body, answering 408 when no bytes arrive for `timeoutMs`. Node's socket inactivity
 * timer does the watching (the request's 'timeout' event, emitted while its body is incomplete);
 * server.ts keeps server.timeout at 0, which is what the socket goes back to afterwards.
 */
async function readBodyInTime(
  c: Context<ReceiverEnv>,
  declared: number | undefined,
  reading: { maxBytes: number; onBytes: (n: number) => void },
  timeoutMs: number,
): Promise<Uint8Array> {
  const incoming = c.env?.incoming;
  const timeout = new AbortController();
  const onTimeout = (): void =>
    timeout.abort(
      new RequestTimeoutError(
        `no body bytes for ${timeoutMs / 1000} s (--body-timeout): the request was not received in time`,
      ),
    );
  incoming?.setTimeout(timeoutMs, onTimeout);
  try {
    return await readBody(c.req.raw.body, declared, { ...reading, signal: timeout.signal });
  } finally {
    incoming?.off('timeout', onTimeout);
    incoming?.setTimeout(0);
  }
}

/** True when Node cut the request at server.requestTimeout (it answered 408 itself and closed the socket). */
function timedOutByNode(c: Context<ReceiverEnv>): boolean {
  const errored = c.env?.incoming?.socket?.errored as NodeJS.ErrnoException | null | undefined;
  return errored?.code === 'ERR_HTTP_REQUEST_TIMEOUT';
}

/** Best guess of the client's encoding for error bodies when Content-Type is unusable. */
export function guessFormat(c: Context): OtlpFormat {
  return /protobuf/i.test(c.req.header('content-type') ?? '') ? 'protobuf' : 'json';
}

/** An OTLP error response: Status body, mapped HTTP status, Retry-After on retryable ones. */
export function otlpError(c: Context, format: OtlpFormat, err: SessiongraphError): Response {
  const retryAfter = retryAfterOf(err);
  const headers: Record<string, string> = retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) };
  const { http, rpc } = ERROR_STATUS[err.kind];
  return send(c, http, encodeStatus(format, rpc, err.message), headers);
}

function send(c: Context, status: number, body: OtlpBody, headers: Record<string, string> = {}): Response {
  return new Response(body.body, {
    status,
    headers: { ...Object.fromEntries(c.res.headers), ...headers, 'content-type': body.contentType },
  });
}
