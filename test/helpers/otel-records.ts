/**
 * Test helpers shared by the exporter tests (spans and log records alike): an exporter wrapper
 * that keeps what it was given and what it reported, the collector's text form of attribute
 * values, OpenTelemetry times, and `otel_traces` rows read back comparably.
 */
import type { HrTime } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { Storage } from '../../src/storage/storage.ts';
import { queryRows } from './collector.ts';

/** The part of a span or log record exporter the wrapper forwards to. */
interface Exporter<T> {
  export(items: T[], done: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

/** Forwards to a real exporter, keeping the spans or records it was given and the results it reported. */
export class RecordingExporter<T> implements Exporter<T> {
  readonly items: T[] = [];
  readonly results: ExportResult[] = [];
  constructor(private readonly inner: Exporter<T>) {}
  export(items: T[], done: (result: ExportResult) => void): void {
    this.items.push(...items);
    this.inner.export(items, (result) => {
      this.results.push(result.error ? result : { code: result.code });
      done(result);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** Attribute values as the collector stores them: strings as-is, scalars in decimal/true/false, arrays as JSON. */
export function asText(attributes: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    out[key] = typeof value === 'string' ? value : Array.isArray(value) ? JSON.stringify(value) : String(value);
  }
  return out;
}

/** An OpenTelemetry time as nanoseconds since the epoch. */
export function nanos([seconds, ns]: HrTime): bigint {
  return BigInt(seconds) * 1_000_000_000n + BigInt(ns);
}

/** Nanoseconds since the epoch → 'YYYY-MM-DD hh:mm:ss.nnnnnnnnn' in UTC. */
export function utcText(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19).replace('T', ' ')}.${fraction}`;
}

/** Log records in time order. */
export function sortByTime<R extends { hrTime: HrTime }>(records: readonly R[]): R[] {
  return [...records].sort((a, b) => (nanos(a.hrTime) < nanos(b.hrTime) ? -1 : 1));
}

/** A stored row without its service name (the one thing that differs between variants sent as different services). */
export function withoutServiceName({
  ServiceName: _s,
  ResourceAttributes,
  ...rest
}: Record<string, unknown>): Record<string, unknown> {
  const { 'service.name': _n, ...resource } = ResourceAttributes as Record<string, string>;
  return { ...rest, ResourceAttributes: resource };
}

/**
 * `otel_traces` rows of one service. DateTime64 values are read as UTC text (`ts_text`, `ev_ts_text`)
 * so the comparison does not depend on the engine's time zone; the raw Timestamp columns are dropped.
 */
export async function storedSpanRows(storage: Storage, service: string): Promise<Array<Record<string, unknown>>> {
  const rows = await queryRows(
    storage,
    `SELECT * REPLACE (toString(Duration) AS Duration), toString(Timestamp, 'UTC') AS ts_text, arrayMap(t -> toString(t, 'UTC'), Events.Timestamp) AS ev_ts_text
     FROM sessiongraph.otel_traces WHERE ServiceName = {s:String} ORDER BY SpanName`,
    { s: service },
  );
  return rows.map(({ Timestamp: _t, 'Events.Timestamp': _e, ...rest }) => rest);
}
