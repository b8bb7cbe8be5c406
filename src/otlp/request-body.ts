/**
 * Turns the raw bytes of an OTLP/HTTP request into the bytes to decode: picks the format from
 * Content-Type and undoes Content-Encoding, enforcing the body limit after decompression too
 * (a 100 KB gzip bomb must stop at the limit, not at the end of memory).
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { BadDataError, TooLargeError, UnsupportedMediaTypeError } from '../errors.ts';
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

/** Decompresses a body per Content-Encoding (identity, gzip, deflate), at most `maxBytes` out. */
export async function decompressBody(body: Uint8Array, contentEncoding: string | undefined, maxBytes: number): Promise<Uint8Array> {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (body.byteLength > maxBytes) throw tooLarge(maxBytes);
  if (encoding === '' || encoding === 'identity') return body;
  const inflateWith = encoding === 'gzip' || encoding === 'x-gzip' ? gunzip : encoding === 'deflate' ? inflate : undefined;
  if (!inflateWith) {
    throw new UnsupportedMediaTypeError(`unsupported Content-Encoding ${JSON.stringify(contentEncoding)}: send gzip, deflate or none`);
  }
  try {
    return await inflateWith(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(maxBytes, 'after decompression');
    throw new BadDataError(`request body is not valid ${encoding} data: ${(err as Error).message}`);
  }
}

function tooLarge(maxBytes: number, when = ''): TooLargeError {
  return new TooLargeError(`request body exceeds the ${maxBytes}-byte limit${when ? ` ${when}` : ''} (--max-body-size)`);
}
