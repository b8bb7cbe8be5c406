// A span's stored record — its attributes, resource, scope, kind and events — for the span
// detail, from `GET /api/spans/:trace_id/:span_id` (read scope, like the rest of the API).
import { api } from './api.js';

const HEX_TRACE = /^[0-9a-f]{32}$/;
const HEX_SPAN = /^[0-9a-f]{16}$/;

/**
 * Reads the record of `entry` (a transcript entry) in trace `traceId`: resolves with
 * `{ attributes, resource, scope, span_kind, events: [{ time, name, attributes }] }`, or null
 * when the ids are not ids. A span not found rejects with the API's 404.
 */
export async function readSpanRecord(traceId, entry, signal) {
  if (!HEX_TRACE.test(traceId) || !HEX_SPAN.test(entry.span_id)) return null;
  const span = await api(`/api/spans/${traceId}/${entry.span_id}`, { signal });
  return { ...span, scope: [span.scope?.name, span.scope?.version].filter(Boolean).join(' ') };
}
