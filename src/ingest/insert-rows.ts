/**
 * Rows → JSONEachRow lines for inserts. Times travel as ISO 8601 with nine fraction digits and
 * `Z`, read with `date_time_input_format = 'best_effort'`: exact to the nanosecond and
 * independent of the server's time zone. (A bare digit string is read by its length — 10
 * digits as seconds, 19 as nanoseconds — so `"5"` or `"1000000000"` would be misread.)
 */
import type { SpanFacts } from '../mapping/span-facts.ts';
import type { SpanRow } from '../otlp/span-row.ts';

/** The last second formatted (spans of a batch mostly share their seconds): `seconds` → `YYYY-MM-DDTHH:MM:SS`. */
let lastSecond = '';
let lastSecondText = '';

/** Nanoseconds since the epoch (decimal string) → `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`. */
export function nsToInsertTime(ns: string): string {
  // String slicing, not BigInt arithmetic: this runs for every span and event on the hot path.
  if (!/^[1-9]\d{9,}$/.test(ns)) {
    const n = BigInt(ns);
    return `${new Date(Number(n / 1_000_000_000n) * 1000).toISOString().slice(0, 19)}.${(n % 1_000_000_000n).toString().padStart(9, '0')}Z`;
  }
  const seconds = ns.slice(0, -9);
  if (seconds !== lastSecond) {
    lastSecond = seconds;
    lastSecondText = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  }
  return `${lastSecondText}.${ns.slice(-9)}Z`;
}

/** One `otel_traces` row. */
export function spanInsertLine(row: SpanRow): string {
  return JSON.stringify({
    ...row,
    Timestamp: nsToInsertTime(row.Timestamp),
    'Events.Timestamp': row['Events.Timestamp'].map(nsToInsertTime),
  });
}

/** Columns of `session_spans` where NULL means "not given" and 0 is a value (0 turns, free). */
const NULLABLE_FACTS = new Set<string>(['turns', 'precomputed_cost']);

/**
 * One `session_spans` row, without the fields holding their column's default ('' / 0 / [], or
 * NULL where nullable): most facts of most spans are empty, and the engine fills omitted fields
 * itself (input_format_defaults_for_omitted_fields, on by default), which halves the line.
 * Two facts are stored as what the others do not already tell (migrations 16–18, for bytes on
 * disk): the end as `duration_ns` after the start (`end_time` is an ALIAS), and total_tokens only
 * where it exceeds input + output (readers take the greater of the two, see FACT_COLUMNS).
 */
export function factsInsertLine(facts: SpanFacts): string {
  const duration = BigInt(facts.end_time) - BigInt(facts.start_time);
  let line = `{"start_time":"${nsToInsertTime(facts.start_time)}","duration_ns":${duration > 0n ? duration : 0n}`;
  for (const key in facts) {
    if (key === 'start_time' || key === 'end_time') continue;
    if (key === 'total_tokens' && facts.total_tokens === facts.input_tokens + facts.output_tokens) continue;
    const value = facts[key as keyof SpanFacts];
    const isDefault = NULLABLE_FACTS.has(key)
      ? value === null
      : value === '' || value === 0 || (Array.isArray(value) && value.length === 0);
    if (!isDefault) line += `,"${key}":${JSON.stringify(value)}`;
  }
  return `${line}}`;
}

/** A node or edge row whose `timeKeys` hold ns strings (or null). */
export function recordInsertLine<T extends object>(row: T, timeKeys: ReadonlyArray<keyof T>): string {
  const out: Record<string, unknown> = { ...(row as Record<string, unknown>) };
  for (const key of timeKeys) {
    const value = row[key];
    if (typeof value === 'string') out[key as string] = nsToInsertTime(value);
  }
  return JSON.stringify(out);
}
