/**
 * The OTLP/JSON value rules shared by the trace and the log decoder (decode-json.ts,
 * decode-logs-json.ts), in one place so that the two encodings of one value cannot drift apart:
 * lowerCamelCase or snake_case keys, hex ids in any case, 64-bit integers as strings or numbers,
 * enums as numbers or names, AnyValue nesting bounded by MAX_ANY_VALUE_DEPTH. Every error is a
 * BadDataError naming the JSON path, worded the same for spans and for log records.
 */
import { BadDataError } from '../errors.ts';
import { MAX_ANY_VALUE_DEPTH, tooDeepError } from './limits.ts';
import { quoteBigIntegers } from './quote-big-integers.ts';
import { formatAttributeValue, setKey, type PlainValue } from './span-row.ts';

/** A parsed JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A parsed JSON object. */
export type JsonObject = { [key: string]: Json };

/** Parses a request body exactly: big integers quoted first, lone surrogates replaced by U+FFFD. */
export function parseOtlpJson(body: Uint8Array): Json {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(body);
  try {
    const quoted = quoteBigIntegers(text);
    // `\ud800`-style escapes can make lone surrogates, which no storage encodes: they become
    // U+FFFD as invalid UTF-8 does on the protobuf path. Only bodies with such an escape pay for the reviver.
    return (/\\u[dD][89a-fA-F]/.test(quoted) ? JSON.parse(quoted, wellFormed) : JSON.parse(quoted)) as Json;
  } catch (err) {
    throw new BadDataError(`request body is not valid JSON: ${(err as Error).message}`);
  }
}

// ES2024 string methods, present in Node 20 (V8 11.3) though not in this project's ES2022 lib.
type Es2024String = string & { isWellFormed(): boolean; toWellFormed(): string };

function wellFormed(_key: string, value: unknown): unknown {
  return typeof value === 'string' && !(value as Es2024String).isWellFormed()
    ? (value as Es2024String).toWellFormed()
    : value;
}

/** `obj[camel]`, else `obj[snake]` (the Go collector accepts both spellings). */
export function field(obj: JsonObject, camel: string, snake?: string): Json | undefined {
  const v = obj[camel];
  return v !== undefined || snake === undefined ? v : obj[snake];
}

function typeName(v: Json | undefined): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** The value as an object, or a 400 naming `path`. */
export function asObject(v: Json | undefined, path: string): JsonObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new BadDataError(`${path}: expected an object, got ${typeName(v)}`);
  }
  return v;
}

/** The value as an object; undefined when absent or null. */
export function optObject(v: Json | undefined, path: string): JsonObject | undefined {
  return v === undefined || v === null ? undefined : asObject(v, path);
}

/** The value as an array; [] when absent or null. */
export function asArray(v: Json | undefined, path: string): Json[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new BadDataError(`${path}: expected an array, got ${typeName(v)}`);
  return v;
}

/** The value as a string; '' when absent or null. */
export function optString(v: Json | undefined, path: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new BadDataError(`${path}: expected a string, got ${typeName(v)}`);
  return v;
}

/** Hex id → lowercase hex; '' when absent; null when not hex (the span or record is then rejected). */
export function hexId(v: Json | undefined, path: string): string | null {
  const s = optString(v, path);
  return /^(?:[0-9a-fA-F]{2})*$/.test(s) ? s.toLowerCase() : null;
}

const U64_MAX = 0xffffffffffffffffn;
const NANOS = 'unsigned 64-bit nanoseconds';

/** A fixed64 nanosecond time given as a string or number → exact bigint; 0 when absent. */
export function nanos(v: Json | undefined, path: string): bigint {
  return unsigned(v, path, U64_MAX, NANOS);
}

/**
 * A span's fixed64 nanosecond time → exact decimal string: as `nanos`, but an array whose text is
 * a number (`[5]`, which String() makes "5") is taken too, as the span decoder always has and the
 * log decoder never did; sharing the code was not to change what either accepts.
 */
export function spanNanos(v: Json | undefined, path: string): string {
  return unsigned(v, path, U64_MAX, NANOS, Array.isArray(v)).toString();
}

/** An unsigned integer up to `max` given as a number or a decimal string (proto3 JSON). */
export function unsigned(v: Json | undefined, path: string, max: bigint, what: string, arrayText = false): bigint {
  if (v === undefined || v === null) return 0n;
  const s = typeof v === 'number' ? (Number.isInteger(v) && v >= 0 ? BigInt(v).toString() : '') : String(v);
  // An object's text is never digits, so only an array can get past the regex: `arrayText` says whether it may.
  if ((typeof v === 'object' && !arrayText) || !/^\d{1,20}$/.test(s) || BigInt(s) > max) {
    throw new BadDataError(`${path}: expected ${what}, got ${JSON.stringify(v)}`);
  }
  return BigInt(s);
}

/** Decimal strings the span decoder takes as enum numbers: unsigned only (log severities also take "-1"). */
export const UNSIGNED_NUMERAL = /^\d+$/;
const SIGNED_NUMERAL = /^-?\d+$/;

/**
 * An enum given as a number or as its proto name (`SEVERITY_NUMBER_INFO`); unknown numbers pass
 * through. `numeral` is which decimal strings count as numbers: it differs between spans and logs
 * (UNSIGNED_NUMERAL), and sharing the code was not to change what either accepts.
 */
export function enumValue(
  v: Json | undefined,
  prefix: string,
  names: readonly string[],
  path: string,
  numeral = SIGNED_NUMERAL,
): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    if (numeral.test(v)) return Number(v);
    const wanted = v.toUpperCase();
    const i = names.findIndex((n) => `${prefix}${n.toUpperCase()}` === wanted);
    if (i >= 0) return i;
  }
  throw new BadDataError(
    `${path}: expected an enum number or name like ${prefix}${(names[1] ?? '').toUpperCase()}, got ${JSON.stringify(v)}`,
  );
}

/** A KeyValue list → key → value rendered as the Collector stores it (a duplicate key's last value wins). */
export function attributes(v: Json | undefined, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  asArray(v, path).forEach((kvJson, i) => {
    const kv = asObject(kvJson, `${path}[${i}]`);
    const key = optString(field(kv, 'key'), `${path}[${i}].key`);
    setKey(out, key, formatAttributeValue(anyValue(field(kv, 'value'), `${path}[${i}].value`, 1)));
  });
  return out;
}

/**
 * OTLP AnyValue (JSON form) at nesting level `depth` → plain value. Elements and entries one
 * level down are counted before they are read, whatever they hold, as the protobuf side
 * (any-value-protobuf.ts) counts them (see MAX_ANY_VALUE_DEPTH); this also bounds the recursion on hostile input.
 */
export function anyValue(v: Json | undefined, path: string, depth: number): PlainValue {
  if (v === undefined || v === null) return null;
  const o = asObject(v, path);
  const s = field(o, 'stringValue', 'string_value');
  if (s !== undefined && s !== null) return optString(s, `${path}.stringValue`);
  const b = field(o, 'boolValue', 'bool_value');
  if (b !== undefined && b !== null) {
    if (typeof b !== 'boolean') throw new BadDataError(`${path}.boolValue: expected a boolean, got ${typeName(b)}`);
    return b;
  }
  const n = field(o, 'intValue', 'int_value');
  if (n !== undefined && n !== null) {
    const text = typeof n === 'number' && Number.isInteger(n) ? BigInt(n).toString() : String(n);
    const value = typeof n !== 'object' && /^-?\d{1,20}$/.test(text) ? BigInt(text) : undefined;
    if (value === undefined || value < -(2n ** 63n) || value >= 2n ** 63n) {
      throw new BadDataError(`${path}.intValue: expected a 64-bit integer, got ${JSON.stringify(n)}`);
    }
    return value;
  }
  const d = field(o, 'doubleValue', 'double_value');
  if (d !== undefined && d !== null) {
    const num = typeof d === 'number' ? d : typeof d === 'string' && d.trim() !== '' ? Number(d) : NaN;
    if (Number.isNaN(num) && d !== 'NaN')
      throw new BadDataError(`${path}.doubleValue: expected a number, got ${JSON.stringify(d)}`);
    return num;
  }
  const arr = field(o, 'arrayValue', 'array_value');
  if (arr !== undefined && arr !== null) {
    const values = asArray(field(asObject(arr, `${path}.arrayValue`), 'values'), `${path}.arrayValue.values`);
    if (values.length > 0 && depth >= MAX_ANY_VALUE_DEPTH) throw tooDeepError();
    return values.map((item, i) => anyValue(item, `${path}.arrayValue.values[${i}]`, depth + 1));
  }
  const kvl = field(o, 'kvlistValue', 'kvlist_value');
  if (kvl !== undefined && kvl !== null) {
    const out: { [key: string]: PlainValue } = {};
    const entries = asArray(field(asObject(kvl, `${path}.kvlistValue`), 'values'), `${path}.kvlistValue.values`);
    if (entries.length > 0 && depth >= MAX_ANY_VALUE_DEPTH) throw tooDeepError();
    entries.forEach((kvJson, i) => {
      const kv = asObject(kvJson, `${path}.kvlistValue.values[${i}]`);
      setKey(
        out,
        optString(field(kv, 'key'), `${path}.kvlistValue.values[${i}].key`),
        anyValue(field(kv, 'value'), `${path}.kvlistValue.values[${i}].value`, depth + 1),
      );
    });
    return out;
  }
  const bytes = field(o, 'bytesValue', 'bytes_value');
  if (bytes !== undefined && bytes !== null) {
    const text = optString(bytes, `${path}.bytesValue`);
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) throw new BadDataError(`${path}.bytesValue: expected base64`);
    return new Uint8Array(Buffer.from(text, 'base64'));
  }
  return null;
}
