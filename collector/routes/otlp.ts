/**
 * OTLP/HTTP trace receiver (SPEC §6, OTLP spec "OTLP/HTTP"): receive → decompress → decode →
 * store → respond. A 2xx is sent only after the spans are stored; errors come back as
 * `google.rpc.Status` in the request's encoding with the status the OTLP spec prescribes.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTP_STATUS, SessiongraphError, TooLargeError, UnavailableError } from '../../src/errors.ts';
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
}

/** Builds the `/v1/traces` route. */
export function otlpRoutes(deps: AppDeps, stats: ReceiverStats): Hono {
  const app = new Hono();
  const count = (status: number): void => {
    stats.requests[status] = (stats.requests[status] ?? 0) + 1;
  };

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
      try {
        format = formatFromContentType(c.req.header('content-type'));
        const raw = new Uint8Array(await c.req.arrayBuffer());
        const body = await decompressBody(raw, c.req.header('content-encoding'), deps.config.maxBodyBytes);
        const decoded = format === 'protobuf' ? decodeTraceRequestProtobuf(body) : decodeTraceRequestJson(body);
        await deps.writer.write(decoded.spans);
        stats.spansAccepted += decoded.spans.length;
        stats.spansRejected += decoded.rejectedSpans;
        count(200);
        const message = decoded.rejectReasons.join('; ');
        return send(c, 200, encodeExportResponse(format, decoded.rejectedSpans, message));
      } catch (err) {
        const known = err instanceof SessiongraphError ? err : new UnavailableError('internal error while storing spans', 5, { cause: err });
        if (!(err instanceof SessiongraphError)) deps.logger.error('unexpected receiver error', { error: String(err) });
        count(HTTP_STATUS[known.kind]);
        return otlpError(c, format, known);
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
