/**
 * Size limits applied to every decoded span before it is stored: an attribute value longer
 * than the limit is cut and marked, attributes beyond the count limit are dropped and counted
 * on the span — never silently (issue: "Oversized attribute values are truncated with a marker").
 * The AnyValue nesting limit, enforced while decoding, is here too: one constant for both
 * encodings, so that they cannot drift apart again.
 */
import { BadDataError } from '../errors.ts';
import type { SpanRow } from './span-row.ts';

/**
 * Deepest AnyValue nesting accepted in one attribute value, by both the OTLP/JSON and the
 * OTLP/protobuf decoder; it bounds their recursion on hostile input.
 *
 * Levels count AnyValues: an attribute's own value is level 1, and each element of an
 * `arrayValue` or entry of a `kvlistValue` found at level n is at level n + 1 — counted even
 * when it carries no value, because an empty AnyValue on the wire and a JSON `null` or `{}`
 * element must be judged alike. So `"x"` has 1 level, `["x"]` 2 and `[[]]` 2; a request with
 * anything at level 65 is refused whole (400).
 */
export const MAX_ANY_VALUE_DEPTH = 64;

/** The error for a value nested beyond MAX_ANY_VALUE_DEPTH, worded the same in both encodings. */
export function tooDeepError(): BadDataError {
  // No location: the protobuf decoder does not track one, and the message must not differ by encoding.
  return new BadDataError(
    `AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels (arrays or kvlists within one attribute value)`,
  );
}

/** Limits, from the collector's configuration. */
export interface SpanLimits {
  maxAttributeValueBytes: number;
  maxAttributesPerSpan: number;
}

/** Attribute recording how many attributes a span lost to the count limit. */
export const DROPPED_ATTRIBUTES_KEY = 'sessiongraph.dropped_attributes_count';

/** Counters of what the limits changed, for /metrics. */
export interface LimitStats {
  truncatedValues: number;
  droppedAttributes: number;
}

/** The attribute maps the limits apply to: a span row has them, and a log row lends its own maps under these names. */
export type AttributeMaps = Pick<
  SpanRow,
  'SpanAttributes' | 'ResourceAttributes' | 'Events.Attributes' | 'Links.Attributes'
>;

/** Applies the limits in place to every attribute map of the rows; returns what changed. */
export function applySpanLimits(rows: readonly AttributeMaps[], limits: SpanLimits): LimitStats {
  const stats: LimitStats = { truncatedValues: 0, droppedAttributes: 0 };
  const done = new Map<Record<string, string>, Record<string, string>>(); // resource maps are shared between rows
  const limit = (attrs: Record<string, string>): Record<string, string> => {
    const already = done.get(attrs);
    if (already) return already;
    const keys = Object.keys(attrs);
    let out = attrs;
    if (keys.length > limits.maxAttributesPerSpan) {
      const kept = keys.slice(0, limits.maxAttributesPerSpan - 1);
      out = Object.fromEntries(kept.map((k) => [k, attrs[k] ?? '']));
      const dropped = keys.length - kept.length;
      out[DROPPED_ATTRIBUTES_KEY] = String(dropped);
      stats.droppedAttributes += dropped;
    }
    for (const [key, value] of Object.entries(out)) {
      // Characters bound bytes from below (UTF-8 ≥ 1 byte each), so short strings skip the byte count.
      if (value.length * 3 <= limits.maxAttributeValueBytes) continue;
      const bytes = Buffer.from(value, 'utf8');
      if (bytes.length <= limits.maxAttributeValueBytes) continue;
      const kept = bytes
        .subarray(0, limits.maxAttributeValueBytes)
        .toString('utf8')
        .replace(/\uFFFD$/, '');
      out[key] = `${kept}…[truncated ${bytes.length - Buffer.byteLength(kept)} bytes]`;
      stats.truncatedValues++;
    }
    done.set(attrs, out);
    return out;
  };
  for (const row of rows) {
    row.SpanAttributes = limit(row.SpanAttributes);
    row.ResourceAttributes = limit(row.ResourceAttributes);
    row['Events.Attributes'] = row['Events.Attributes'].map(limit);
    row['Links.Attributes'] = row['Links.Attributes'].map(limit);
  }
  return stats;
}
