/**
 * A minimal protobuf wire-format reader (https://protobuf.dev/programming-guides/encoding/),
 * written for the OTLP decoder: no schema, no allocation per field beyond the values read,
 * and a bounds check on every read so hostile input fails with a ProtobufDecodeError.
 */
import { BadDataError } from '../errors.ts';

/** Any malformed protobuf input; a BadDataError, so the HTTP layer answers 400 without storing anything. */
export class ProtobufDecodeError extends BadDataError {
  constructor(message: string) {
    super(`malformed protobuf: ${message}`);
    this.name = 'ProtobufDecodeError';
  }
}

/** Wire types that carry a value (3 and 4, the deprecated groups, are refused). */
export const WireType = { VARINT: 0, FIXED64: 1, LEN: 2, FIXED32: 5 } as const;

// fatal:false turns invalid UTF-8 into U+FFFD instead of throwing; ignoreBOM keeps a leading
// U+FEFF as a character, as Go (and the Collector) does, rather than silently dropping it.
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

const HEX_DIGITS: readonly number[] = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const HEX_SCRATCH_BYTES = 32; // ids are 8 or 16 bytes; longer (invalid) ones take a slower path
const hexScratch = new Uint8Array(2 * HEX_SCRATCH_BYTES);

/** Strings up to this length go through the cache in `readString`. */
const SHORT_STRING = 32;
const STRING_CACHE_SIZE = 1024; // a power of two; slots are overwritten, so hostile input only costs misses
const cacheLengths = new Uint8Array(STRING_CACHE_SIZE); // 0 = empty (empty strings are not cached)
const cacheBytes = new Uint8Array(STRING_CACHE_SIZE * SHORT_STRING);
const cacheStrings: string[] = new Array<string>(STRING_CACHE_SIZE).fill('');

/**
 * Sequential reader over one buffer. `end` is the limit of the message being read: `enter()`
 * narrows it to a length-delimited field and `leave()` restores it, so no read can run past
 * the enclosing message into its siblings.
 */
export class ProtoReader {
  readonly buf: Uint8Array;
  pos: number;
  end: number;
  private view: DataView | undefined;
  // The halves of the last multi-byte varint, kept in fields so reading one allocates nothing.
  private lo = 0;
  private hi = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.pos = 0;
    this.end = buf.length;
  }

  /** Reads a field tag; field number 0 or a tag beyond 32 bits is an error. */
  readTag(): number {
    const at = this.pos;
    const tag = this.readVarint();
    if (tag < 8 || tag > 0xffffffff)
      throw new ProtobufDecodeError(`invalid field number in tag ${tag} at offset ${at}`);
    return tag;
  }

  /** Reads a varint as a number: exact up to 2^53, approximate above (fine for lengths, counts, bools). */
  readVarint(): number {
    const pos = this.pos;
    if (pos < this.end) {
      const b = this.buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    this.readVarintParts();
    return this.hi * 4294967296 + this.lo;
  }

  /** Reads a varint as an unsigned 64-bit bigint. */
  readVarint64(): bigint {
    this.readVarintParts();
    const { hi, lo } = this;
    return hi < 0x200000 ? BigInt(hi * 4294967296 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Reads an int64 varint (two's complement) as an exact signed bigint. */
  readInt64(): bigint {
    this.readVarintParts();
    const hi = this.hi | 0;
    // Within ±2^53 the double arithmetic is exact and avoids three bigint operations.
    if (hi >= -0x200000 && hi < 0x200000) return BigInt(hi * 4294967296 + this.lo);
    return (BigInt(hi) << 32n) + BigInt(this.lo);
  }

  /** Reads an int32/enum varint, truncated to 32 bits as protobuf specifies for int32. */
  readInt32(): number {
    this.readVarintParts();
    return this.lo | 0;
  }

  /** Reads a fixed64 as an unsigned bigint. */
  readFixed64(): bigint {
    const p = this.need(8, 'fixed64');
    const b = this.buf;
    const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    const hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
    return hi < 0x200000 ? BigInt(hi * 4294967296 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Reads a little-endian IEEE 754 double. */
  readDouble(): number {
    const p = this.need(8, 'double');
    this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return this.view.getFloat64(p, true);
  }

  /** Reads a fixed32 as an unsigned number. */
  readFixed32(): number {
    const p = this.need(4, 'fixed32');
    const b = this.buf;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  /** Reads a length-delimited field as a view into the buffer (no copy). */
  readBytes(): Uint8Array {
    const len = this.readLength();
    const start = this.pos;
    this.pos = start + len;
    return this.buf.subarray(start, start + len);
  }

  /** Reads a length-delimited field as lowercase hex (trace and span ids). */
  readHex(): string {
    const len = this.readLength();
    const b = this.buf;
    const start = this.pos;
    this.pos = start + len;
    if (len > HEX_SCRATCH_BYTES) return Buffer.from(b.buffer, b.byteOffset + start, len).toString('hex');
    // Hex digits are ASCII: writing them to a scratch buffer and decoding once yields a flat
    // string, cheaper than concatenating 16 pairs and flattening the result later.
    for (let i = 0; i < len; i++) {
      const x = b[start + i]!;
      hexScratch[2 * i] = HEX_DIGITS[x >> 4]!;
      hexScratch[2 * i + 1] = HEX_DIGITS[x & 15]!;
    }
    return utf8.decode(hexScratch.subarray(0, 2 * len));
  }

  /** Reads a length-delimited UTF-8 string; invalid sequences become U+FFFD, never an error. */
  readString(): string {
    const len = this.readLength();
    const b = this.buf;
    const start = this.pos;
    const stop = start + len;
    this.pos = stop;
    if (len === 0) return '';
    if (len > SHORT_STRING) return utf8.decode(b.subarray(start, stop));
    // Short strings are mostly attribute keys and values that repeat span after span. Reusing
    // the previous string object skips the decode, and (for keys) lets V8 reuse the already
    // internalized property name. The slot hashes four bytes; a hit compares all the bytes.
    let h = Math.imul(len ^ b[start]!, 0x9e3779b1);
    h = Math.imul(h ^ b[stop - 1]!, 0x9e3779b1);
    h = Math.imul(h ^ b[start + (len >> 1)]!, 0x9e3779b1);
    h = Math.imul(h ^ b[start + (len >> 2)]!, 0x9e3779b1);
    const slot = (h ^ (h >>> 16)) & (STRING_CACHE_SIZE - 1);
    const base = slot * SHORT_STRING;
    if (cacheLengths[slot] === len) {
      let i = 0;
      while (i < len && cacheBytes[base + i] === b[start + i]) i++;
      if (i === len) return cacheStrings[slot]!;
    }
    const bytes = b.subarray(start, stop);
    const s = utf8.decode(bytes);
    cacheLengths[slot] = len;
    cacheBytes.set(bytes, base);
    cacheStrings[slot] = s;
    return s;
  }

  /** Enters a length-delimited sub-message: returns the outer limit to hand back to `leave()`. */
  enter(): number {
    const len = this.readLength();
    const outer = this.end;
    this.end = this.pos + len;
    return outer;
  }

  /** Leaves the sub-message entered by `enter()`, which must have been read to its end. */
  leave(outer: number): void {
    if (this.pos !== this.end) throw new ProtobufDecodeError(`sub-message not consumed at offset ${this.pos}`);
    this.end = outer;
  }

  /** Skips one field's value of the given wire type (unknown or unneeded fields). */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.VARINT:
        this.readVarintParts();
        return;
      case WireType.FIXED64:
        this.need(8, 'fixed64');
        return;
      case WireType.LEN: {
        const len = this.readLength(); // not `this.pos += this.readLength()`: that adds to the pos before the length
        this.pos += len;
        return;
      }
      case WireType.FIXED32:
        this.need(4, 'fixed32');
        return;
      case 3:
      case 4:
        throw new ProtobufDecodeError(`group (wire type ${wireType}) at offset ${this.pos} is not supported`);
      default:
        throw new ProtobufDecodeError(`invalid wire type ${wireType} before offset ${this.pos}`);
    }
  }

  /** Reserves `n` bytes of the current message: returns their start and advances past them. */
  private need(n: number, what: string): number {
    const p = this.pos;
    if (this.end - p < n)
      throw new ProtobufDecodeError(`truncated ${what} at offset ${p}: need ${n} bytes, ${this.end - p} left`);
    this.pos = p + n;
    return p;
  }

  private readLength(): number {
    const at = this.pos;
    const len = this.readVarint();
    if (len > this.end - this.pos) {
      throw new ProtobufDecodeError(
        `length ${len} at offset ${at} runs past the enclosing message (${this.end - this.pos} bytes left)`,
      );
    }
    return len;
  }

  /** Decodes a varint of up to 10 bytes into `lo`/`hi` (unsigned 32-bit halves). */
  private readVarintParts(): void {
    const b = this.buf;
    const end = this.end;
    const start = this.pos;
    let pos = start;
    let lo = 0;
    let hi: number;
    let c: number;
    // Bytes 1–4 carry bits 0–27, all in `lo`.
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) throw truncatedVarint(start);
      c = b[pos++]!;
      lo |= (c & 0x7f) << shift;
      if (c < 0x80) return this.setParts(pos, lo, 0);
    }
    // Byte 5 straddles the halves: bits 28–31 to `lo`, 32–34 to `hi`.
    if (pos >= end) throw truncatedVarint(start);
    c = b[pos++]!;
    lo |= (c & 0x7f) << 28;
    hi = (c & 0x7f) >>> 4;
    if (c < 0x80) return this.setParts(pos, lo, hi);
    // Bytes 6–10 carry bits 35–69 of which only up to bit 63 may be set.
    for (let shift = 3; shift < 38; shift += 7) {
      if (pos >= end) throw truncatedVarint(start);
      c = b[pos++]!;
      if (shift === 31 && c > 1) {
        throw new ProtobufDecodeError(
          c >= 0x80 ? `varint longer than 10 bytes at offset ${start}` : `varint overflows 64 bits at offset ${start}`,
        );
      }
      hi |= (c & 0x7f) << shift;
      if (c < 0x80) return this.setParts(pos, lo, hi);
    }
    throw new ProtobufDecodeError(`varint longer than 10 bytes at offset ${start}`); // unreachable
  }

  private setParts(pos: number, lo: number, hi: number): void {
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }
}

function truncatedVarint(at: number): ProtobufDecodeError {
  return new ProtobufDecodeError(`truncated varint at offset ${at}`);
}
