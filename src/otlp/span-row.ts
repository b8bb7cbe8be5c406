/**
 * The decoded form of one OTLP span, shaped as a row of the `otel_traces` table
 * (the OpenTelemetry Collector ClickHouse exporter's schema, SPEC §2). Both decoders
 * (protobuf and JSON) produce exactly this, so the same request stores identical rows.
 */
export interface SpanRow {
  /** Span start, nanoseconds since the Unix epoch, as a decimal string (exact to the ns). */
  Timestamp: string;
  TraceId: string;
  SpanId: string;
  ParentSpanId: string;
  TraceState: string;
  SpanName: string;
  SpanKind: SpanKindName;
  ServiceName: string;
  ResourceAttributes: Record<string, string>;
  ScopeName: string;
  ScopeVersion: string;
  SpanAttributes: Record<string, string>;
  /** end − start in nanoseconds, decimal string; 0 when the end precedes the start. */
  Duration: string;
  StatusCode: StatusCodeName;
  StatusMessage: string;
  'Events.Timestamp': string[];
  'Events.Name': string[];
  'Events.Attributes': Array<Record<string, string>>;
  'Links.TraceId': string[];
  'Links.SpanId': string[];
  'Links.TraceState': string[];
  'Links.Attributes': Array<Record<string, string>>;
}

export const SPAN_KIND_NAMES = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'] as const;
export type SpanKindName = (typeof SPAN_KIND_NAMES)[number];

export const STATUS_CODE_NAMES = ['Unset', 'Ok', 'Error'] as const;
export type StatusCodeName = (typeof STATUS_CODE_NAMES)[number];

/** What a decoder returns: the spans it accepted and why it refused the others (OTLP partial success). */
export interface DecodedTraces {
  spans: SpanRow[];
  rejectedSpans: number;
  /** One line per distinct reason, e.g. "span 3 of scope 0: trace id must be 16 bytes, got 15". */
  rejectReasons: string[];
}

/**
 * An OTLP AnyValue reduced to a plain JS value, the form used to render attributes
 * as the Collector's `Value.AsString()` does. int64 stays a bigint so it is exact.
 */
export type PlainValue =
  string | bigint | number | boolean | Uint8Array | null | PlainValue[] | { [key: string]: PlainValue };

/**
 * Renders an attribute value as the Collector ClickHouse exporter stores it: strings as-is,
 * integers in decimal, doubles in shortest non-exponent decimal, booleans `true`/`false`,
 * bytes as base64, arrays and maps as JSON.
 */
export function formatAttributeValue(value: PlainValue): string {
  if (typeof value === 'string') return value;
  if (value === null) return '';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return formatDouble(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return toJson(value);
}

function formatDouble(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (Object.is(n, -0)) return '-0'; // Go keeps the sign of negative zero
  const s = String(n);
  const e = s.indexOf('e');
  if (e < 0) return s;
  // Go's strconv.FormatFloat(v, 'f', -1, 64): the same shortest digits JS chose, written as
  // a plain decimal. Shift the point in the digit string; never use toFixed/BigInt, which
  // print the binary value's exact expansion (1e-7 → 0.0000000999…95) instead.
  const sign = n < 0 ? '-' : '';
  const digits = s.slice(sign.length, e).replace('.', '');
  const point = 1 + Number(s.slice(e + 1)); // mantissa is d[.ddd], so the point follows 1 digit
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * Go's `json.Marshal` of the value's `AsRaw()` form, as the Collector's `AsString()` does for
 * arrays and maps: map keys sorted, int64 as bare exact numbers, bytes as base64, `<>&` and
 * U+2028/U+2029 escaped. Non-finite doubles (which make Go's Marshal fail) become strings.
 */
function toJson(value: PlainValue): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return jsonString(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return jsonString(String(value));
    return Object.is(value, -0) ? '-0' : String(value); // JS and Go agree on exponent thresholds
  }
  if (value instanceof Uint8Array) return jsonString(Buffer.from(value).toString('base64'));
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  const keys = Object.keys(value).sort(compareCodePoints);
  return `{${keys.map((k) => `${jsonString(k)}:${toJson(value[k] ?? null)}`).join(',')}}`;
}

function jsonString(s: string): string {
  const json = JSON.stringify(s);
  return /[<>&\u2028\u2029]/.test(json)
    ? json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : json;
}

/** Go sorts map keys by UTF-8 bytes, i.e. by code point; JS's default sort uses UTF-16 units. */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800–DFFF, i.e. code points ≥ U+10000) must sort after U+E000–FFFF.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Nanosecond difference `end − start` of two decimal ns strings, clamped at 0. */
export function durationNanos(startNs: string, endNs: string): string {
  const d = BigInt(endNs) - BigInt(startNs);
  return d > 0n ? d.toString() : '0';
}

/**
 * Why a span's ids make it unstorable, or null when they are valid: OTLP requires a
 * 16-byte non-zero trace id, an 8-byte non-zero span id and an empty or 8-byte parent id.
 * Ids are given as lowercase hex.
 */
export function checkSpanIds(traceId: string, spanId: string, parentSpanId: string): string | null {
  if (traceId.length !== 32) return `trace id must be 16 bytes, got ${traceId.length / 2}`;
  if (/^0+$/.test(traceId)) return 'trace id must not be all zeros';
  if (spanId.length !== 16) return `span id must be 8 bytes, got ${spanId.length / 2}`;
  if (/^0+$/.test(spanId)) return 'span id must not be all zeros';
  if (parentSpanId.length !== 0 && parentSpanId.length !== 16) {
    return `parent span id must be empty or 8 bytes, got ${parentSpanId.length / 2}`;
  }
  return null;
}

/** Sets `obj[key]`; a `__proto__` key becomes an own property instead of replacing the prototype. */
export function setKey<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** Latest time ClickHouse's DateTime64(9) holds: 2262-04-11T23:47:16.854775807Z. */
export const MAX_TIME_NS = 2n ** 63n - 1n;

/** Why a span's times cannot be stored (beyond DateTime64(9)), or null when they can. */
export function checkSpanTimes(startNs: string, endNs: string, eventTimesNs: readonly string[]): string | null {
  if (BigInt(startNs) > MAX_TIME_NS) return 'start time is after 2262-04-11, beyond what can be stored';
  if (BigInt(endNs) > MAX_TIME_NS) return 'end time is after 2262-04-11, beyond what can be stored';
  if (eventTimesNs.some((t) => BigInt(t) > MAX_TIME_NS))
    return 'an event time is after 2262-04-11, beyond what can be stored';
  return null;
}
