/**
 * OTLP response bodies (OTLP spec, "OTLP/HTTP Response", "OTLP/gRPC Response"):
 * `ExportTraceServiceResponse` with `partial_success` on success, `google.rpc.Status` on failure
 * (over HTTP in the request's encoding; over gRPC in the `grpc-status-details-bin` trailer).
 */
export type OtlpFormat = 'protobuf' | 'json';

/** A ready response body and its content type. */
export interface OtlpBody {
  contentType: string;
  body: Uint8Array<ArrayBuffer> | string;
}

const CONTENT_TYPE: Record<OtlpFormat, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

/** Success body; `partial_success` is set only when spans were rejected. */
export function encodeExportResponse(format: OtlpFormat, rejectedSpans: number, errorMessage: string): OtlpBody {
  if (format === 'json') {
    const body = rejectedSpans > 0 ? { partialSuccess: { rejectedSpans: String(rejectedSpans), errorMessage } } : {};
    return { contentType: CONTENT_TYPE.json, body: JSON.stringify(body) };
  }
  return { contentType: CONTENT_TYPE.protobuf, body: exportResponseProtobuf(rejectedSpans, errorMessage) };
}

/** `ExportTraceServiceResponse` as protobuf bytes; empty (no `partial_success`) when nothing was rejected. */
export function exportResponseProtobuf(rejectedSpans: number, errorMessage: string): Uint8Array<ArrayBuffer> {
  if (rejectedSpans === 0) return new Uint8Array(0);
  // ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }
  const partial = [...tag(1, 0), ...varint(rejectedSpans), ...lengthDelimited(2, utf8(errorMessage))];
  return Uint8Array.from(lengthDelimited(1, Uint8Array.from(partial)));
}

/** gRPC status codes used in `google.rpc.Status` bodies, chosen to match the HTTP status. */
export const RPC_CODE = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNAUTHENTICATED: 16,
  PERMISSION_DENIED: 7,
  UNAVAILABLE: 14,
  INTERNAL: 13,
} as const;

/** Failure body: `google.rpc.Status { int32 code = 1; string message = 2; }`. */
export function encodeStatus(format: OtlpFormat, code: number, message: string): OtlpBody {
  if (format === 'json') return { contentType: CONTENT_TYPE.json, body: JSON.stringify({ code, message }) };
  return {
    contentType: CONTENT_TYPE.protobuf,
    body: Uint8Array.from([...tag(1, 0), ...varint(code), ...lengthDelimited(2, utf8(message))]),
  };
}

const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/**
 * `google.rpc.Status { code = 1; message = 2; repeated Any details = 3 }`, with a
 * `google.rpc.RetryInfo { Duration retry_delay = 1 }` detail when `retryDelaySeconds` is given:
 * the value of gRPC's `grpc-status-details-bin` trailer, which is how OTLP/gRPC says "retry
 * after" (OTLP spec, "OTLP/gRPC Throttling"; RESOURCE_EXHAUSTED is retryable only with it).
 */
export function encodeGrpcStatusDetails(
  code: number,
  message: string,
  retryDelaySeconds?: number,
): Uint8Array<ArrayBuffer> {
  const fields = [...tag(1, 0), ...varint(code), ...lengthDelimited(2, utf8(message))];
  if (retryDelaySeconds !== undefined) {
    const duration = Uint8Array.from([...tag(1, 0), ...varint(Math.floor(retryDelaySeconds))]); // Duration { int64 seconds = 1 }
    const retryInfo = Uint8Array.from(lengthDelimited(1, duration));
    const any = Uint8Array.from([...lengthDelimited(1, utf8(RETRY_INFO_TYPE_URL)), ...lengthDelimited(2, retryInfo)]);
    fields.push(...lengthDelimited(3, any));
  }
  return Uint8Array.from(fields);
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function tag(field: number, wireType: number): number[] {
  return varint(field * 8 + wireType);
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

function lengthDelimited(field: number, bytes: Uint8Array): number[] {
  return [...tag(field, 2), ...varint(bytes.length), ...bytes];
}
