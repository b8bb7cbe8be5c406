/**
 * Reads an OTLP/HTTP answer in either encoding: a google.rpc.Status (code, message) on
 * failure, an ExportTraceServiceResponse (partial success) on 200. The protobuf is read with a
 * few lines of wire-format parsing, independent of the collector's own code.
 */

/** What the collector said. */
export interface OtlpAnswer {
  code?: number;
  message?: string;
  rejected?: number;
}

/** Reads the answer's body (consumes it). */
export async function readOtlpAnswer(res: Response): Promise<OtlpAnswer> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length === 0) return {};
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    const j = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
      code?: number;
      message?: string;
      partialSuccess?: { rejectedSpans: string; errorMessage: string };
    };
    return j.partialSuccess
      ? { rejected: Number(j.partialSuccess.rejectedSpans), message: j.partialSuccess.errorMessage }
      : { code: j.code, message: j.message };
  }
  const top = pbFields(bytes); // Status {1 code, 2 message} | ExportTraceServiceResponse {1 partial_success}
  const text = (v: number | Uint8Array | undefined): string =>
    Buffer.from(v instanceof Uint8Array ? v : []).toString('utf8');
  if (res.status !== 200) return { code: top.get(1) as number, message: text(top.get(2)) };
  const partial = pbFields((top.get(1) as Uint8Array | undefined) ?? new Uint8Array(0)); // {1 rejected_spans, 2 error_message}
  return { rejected: (partial.get(1) as number | undefined) ?? 0, message: text(partial.get(2)) };
}

/** Last value of each top-level field (varint and length-delimited only). */
function pbFields(b: Uint8Array): Map<number, number | Uint8Array> {
  return new Map([...protobufFields(b)].map(([field, values]) => [field, values.at(-1) ?? 0]));
}

/** Every field of a protobuf message (varint and length-delimited only), in order, by number. */
export function protobufFields(b: Uint8Array): Map<number, Array<number | Uint8Array>> {
  const out = new Map<number, Array<number | Uint8Array>>();
  let p = 0;
  const varint = (): number => {
    let n = 0;
    let shift = 0;
    let c: number;
    do {
      c = b[p++] ?? 0;
      n += (c & 0x7f) * 2 ** shift;
      shift += 7;
    } while (c & 0x80);
    return n;
  };
  while (p < b.length) {
    const tag = varint();
    const values = out.get(tag >> 3) ?? [];
    if ((tag & 7) === 0) values.push(varint());
    else {
      const len = varint();
      values.push(b.subarray(p, p + len));
      p += len;
    }
    out.set(tag >> 3, values);
  }
  return out;
}
