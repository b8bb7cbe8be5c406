/**
 * Turns the raw bytes of an OTLP/HTTP request into the bytes to decode: reads the body as it
 * arrives (counting what actually came, never what Content-Length promised), picks the format
 * from Content-Type and undoes Content-Encoding, enforcing the body limit after decompression too
 * (a 100 KB gzip bomb must stop at the limit, not at the end of memory).
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { BadDataError, ClientClosedError, TooLargeError, UnsupportedMediaTypeError } from '../errors.ts';
import type { OtlpFormat } from './response.ts';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);

/** OTLP format from a Content-Type header; throws UnsupportedMediaTypeError (415) otherwise. */
export function formatFromContentType(contentType: string | undefined): OtlpFormat {
  const mime = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (mime === 'application/x-protobuf' || mime === 'application/protobuf') return 'protobuf';
  if (mime === 'application/json') return 'json';
  throw new UnsupportedMediaTypeError(
    `unsupported Content-Type ${JSON.stringify(contentType ?? '')}: send application/x-protobuf or application/json`,
  );
}

/** How a body is read: its limit, who counts its bytes as they arrive, and what cuts it short. */
export interface BodyReading {
  /** More bytes than this is 413, as soon as they arrive. */
  maxBytes: number;
  /** Called with each chunk's size before the chunk is kept; throwing refuses the body. */
  onBytes?: (bytes: number) => void;
  /** Aborting stops the read at once with the signal's reason (the body timeout). */
  signal?: AbortSignal;
}

/**
 * Reads a request body chunk by chunk. A body that stops short of its Content-Length, or whose
 * stream fails, is ClientClosedError: on a server, a request body fails only with its connection.
 */
export async function readBody(
  stream: ReadableStream<Uint8Array> | null,
  declaredLength: number | undefined,
  reading: BodyReading,
): Promise<Uint8Array> {
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const { signal } = reading;
  const stop = (): void => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener('abort', stop, { once: true });
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const next = await reader.read().catch((err: unknown) => {
        throw signal?.aborted
          ? signal.reason
          : new ClientClosedError('the client closed the connection while sending the body', { cause: err });
      });
      // A cancelled read ends as if the body were complete: the signal says it was not.
      if (signal?.aborted) throw signal.reason;
      if (next.done) break;
      total += next.value.byteLength;
      if (total > reading.maxBytes) throw bodyTooLarge(reading.maxBytes);
      reading.onBytes?.(next.value.byteLength);
      chunks.push(next.value);
    }
  } catch (err) {
    stop();
    throw err;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
  if (declaredLength !== undefined && total !== declaredLength) {
    throw new ClientClosedError(`the client closed the connection after ${total} of ${declaredLength} body bytes`);
  }
  return concat(chunks, total);
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Decompresses a body per Content-Encoding (identity, gzip, deflate), at most `maxBytes` out. */
export async function decompressBody(
  body: Uint8Array,
  contentEncoding: string | undefined,
  maxBytes: number,
): Promise<Uint8Array> {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (body.byteLength > maxBytes) throw bodyTooLarge(maxBytes);
  if (encoding === '' || encoding === 'identity') return body;
  const inflateWith =
    encoding === 'gzip' || encoding === 'x-gzip' ? gunzip : encoding === 'deflate' ? inflate : undefined;
  if (!inflateWith) {
    throw new UnsupportedMediaTypeError(
      `unsupported Content-Encoding ${JSON.stringify(contentEncoding)}: send gzip, deflate or none`,
    );
  }
  try {
    return await inflateWith(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw bodyTooLarge(maxBytes, 'after decompression');
    throw new BadDataError(`request body is not valid ${encoding} data: ${(err as Error).message}`);
  }
}

/** The 413 for a body over `maxBytes` (--max-body-size), `when` saying at which stage. */
export function bodyTooLarge(maxBytes: number, when = ''): TooLargeError {
  return new TooLargeError(
    `request body exceeds the ${maxBytes}-byte limit${when ? ` ${when}` : ''} (--max-body-size)`,
  );
}
