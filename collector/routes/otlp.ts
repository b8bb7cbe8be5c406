/**
 * OTLP/HTTP trace receiver (SPEC §6, OTLP spec "OTLP/HTTP"): receive → decompress → decode →
 * store → respond. A 2xx is sent only after the spans are stored; errors come back as
 * `google.rpc.Status` in the request's encoding with the status the OTLP spec prescribes.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTP_STATUS, OverloadedError, SessiongraphError, TooLargeError, UnavailableError } from '../../src/errors.ts';
import { applySpanLimits } from '../../src/otlp/limits.ts';
import { decodeTraceRequestJson } from '../../src/otlp/decode-json.ts';
import { decodeTraceRequestProtobuf } from '../../src/otlp/decode-protobuf.ts';
import { decompressBody, formatFromContentType } from '../../src/otlp/request-body.ts';
import { RPC_CODE, encodeExportResponse, encodeStatus, type OtlpBody, type OtlpFormat } from '../../src/otlp/response.ts';
import type { AppDeps } from '../app.ts';

/** Counters of the receiver, exposed on /metrics. */
export interface ReceiverStats {
  requests: Record<string, number>;
  spansAccepted: number;
  spansRejected: number;
  truncatedValues: number;
  droppedAttributes: number;
}

/** Builds the `/v1/traces` route. */
export function otlpRoutes(deps: AppDeps, stats: ReceiverStats): Hono {
  const app = new Hono();
  const count = (status: number): void => {
    stats.requests[status] = (stats.requests[status] ?? 0) + 1;
  };

  // Bytes of request bodies being read and decoded right now: bounded like the queue, so a
  // burst of large requests is refused (429) before it is read rather than after.
  let inflightBytes = 0;
  const budget = deps.config.queueMaxBytes;

  app.post(
    '/v1/traces',
    bodyLimit({
      maxSize: deps.config.maxBodyBytes,
      onError: (c) => {
        count(413);
        // The rest of the body is never read: close the connection so it is not parsed as the next request.
        c.header('connection', 'close');
        return otlpError(c, guessFormat(c), new TooLargeError(`request body exceeds the ${deps.config.maxBodyBytes}-byte limit (--max-body-size)`));
      },
    }),
    async (c) => {
      let format: OtlpFormat = guessFormat(c);
      let reserved = 0;
      try {
        format = formatFromContentType(c.req.header('content-type'));
        const unavailable = deps.writer.unavailableReason;
        if (unavailable !== undefined) throw new UnavailableError(`storage is unavailable (${unavailable}); retry later`);
        const declared = Number(c.req.header('content-length') ?? 0) || 0;
        if (deps.writer.isFull(declared) || (inflightBytes > 0 && inflightBytes + declared > budget)) {
          throw new OverloadedError(`collector is at capacity (${inflightBytes} bytes being decoded, queue near its limit); retry later`);
        }
        reserved = declared;
        inflightBytes += reserved;
        const raw = new Uint8Array(await c.req.arrayBuffer());
        const body = await decompressBody(raw, c.req.header('content-encoding'), deps.config.maxBodyBytes);
        inflightBytes += body.length - reserved;
        reserved = body.length;
        const decoded = format === 'protobuf' ? decodeTraceRequestProtobuf(body) : decodeTraceRequestJson(body);
        const limited = applySpanLimits(decoded.spans, deps.config);
        stats.truncatedValues += limited.truncatedValues;
        stats.droppedAttributes += limited.droppedAttributes;
        await deps.writer.write(decoded.spans);
        stats.spansAccepted += decoded.spans.length;
        stats.spansRejected += decoded.rejectedSpans;
        count(200);
        const message = decoded.rejectReasons.join('; ');
        return send(c, 200, encodeExportResponse(format, decoded.rejectedSpans, message));
      } catch (err) {
        if (!(err instanceof SessiongraphError)) {
          // A bug of ours, not the client's data or storage: 500 is not retried, so a request
          // that triggers it cannot loop forever.
          deps.logger.error('unexpected receiver error', { error: String(err) });
          count(500);
          return send(c, 500, encodeStatus(format, RPC_CODE.INTERNAL, 'internal error while receiving spans'));
        }
        count(HTTP_STATUS[err.kind]);
        return otlpError(c, format, err);
      } finally {
        inflightBytes -= reserved;
      }
    },
  );
  return app;
}

/** Best guess of the client's encoding for error bodies when Content-Type is unusable. */
export function guessFormat(c: Context): OtlpFormat {
  return /protobuf/i.test(c.req.header('content-type') ?? '') ? 'protobuf' : 'json';
}

const RPC_FOR_KIND: Record<SessiongraphError['kind'], number> = {
  'bad-data': RPC_CODE.INVALID_ARGUMENT,
  'too-large': RPC_CODE.INVALID_ARGUMENT,
  'unsupported-media-type': RPC_CODE.INVALID_ARGUMENT,
  'not-found': RPC_CODE.NOT_FOUND,
  unauthorized: RPC_CODE.UNAUTHENTICATED,
  forbidden: RPC_CODE.PERMISSION_DENIED,
  overloaded: RPC_CODE.RESOURCE_EXHAUSTED,
  unavailable: RPC_CODE.UNAVAILABLE,
};

/** An OTLP error response: Status body, mapped HTTP status, Retry-After on retryable ones. */
export function otlpError(c: Context, format: OtlpFormat, err: SessiongraphError): Response {
  const headers: Record<string, string> = {};
  if ('retryAfterSeconds' in err && typeof err.retryAfterSeconds === 'number') {
    headers['retry-after'] = String(err.retryAfterSeconds);
  }
  return send(c, HTTP_STATUS[err.kind], encodeStatus(format, RPC_FOR_KIND[err.kind], err.message), headers);
}

function send(c: Context, status: number, body: OtlpBody, headers: Record<string, string> = {}): Response {
  return new Response(body.body, { status, headers: { ...Object.fromEntries(c.res.headers), ...headers, 'content-type': body.contentType } });
}
