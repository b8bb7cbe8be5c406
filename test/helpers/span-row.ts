/** A SpanRow (the decoded form of one span) for pure tests of the conventions and the roll-up. */
import type { SpanRow } from '../../src/otlp/span-row.ts';

/** Start of every test span unless `startMs` moves it: 2026-11-18T11:06:40Z in ns. */
export const TEST_START_NS = 1795000000000000000n;

/** A span of trace `eee…e` in service `svc`, `startMs`..`endMs` after TEST_START_NS. */
export function testSpan(
  spanId: string,
  parent: string,
  attrs: Record<string, string>,
  {
    startMs = 0,
    endMs = 1,
    status = 'Unset' as SpanRow['StatusCode'],
    name = attrs.name ?? attrs['gen_ai.operation.name'] ?? 'span',
  } = {},
): SpanRow {
  return {
    Timestamp: String(TEST_START_NS + BigInt(startMs) * 1_000_000n),
    TraceId: 'e'.repeat(32),
    SpanId: spanId,
    ParentSpanId: parent,
    TraceState: '',
    SpanName: name,
    SpanKind: 'Internal',
    ServiceName: 'svc',
    ResourceAttributes: { 'service.name': 'svc' },
    ScopeName: '',
    ScopeVersion: '',
    SpanAttributes: attrs,
    Duration: String(BigInt(endMs - startMs) * 1_000_000n),
    StatusCode: status,
    StatusMessage: '',
    'Events.Timestamp': [],
    'Events.Name': [],
    'Events.Attributes': [],
    'Links.TraceId': [],
    'Links.SpanId': [],
    'Links.TraceState': [],
    'Links.Attributes': [],
  };
}
