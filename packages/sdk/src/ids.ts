/**
 * Deterministic ids of the graph (SPEC §3–§5): trace id as UUID, and v5 UUIDs of names. Here, in
 * the SDK, because an agent needs them too (the decision id it reports is the one the collector
 * stores); the collector imports them from here (src/mapping/ids.ts).
 */
import { createHash } from 'node:crypto';

/** Namespace of every deterministic (v5) UUID sessiongraph derives. */
export const SESSIONGRAPH_NAMESPACE = '5b1f9f8e-3c0a-4f5e-9a51-8d2c7e6b4a10';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a UUID in 8-4-4-4-12 form. */
export function isUuid(text: string): boolean {
  return UUID_RE.test(text);
}

/** Formats 32 hex digits as a lowercase UUID. */
export function hexToUuid(hex: string): string {
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The session id of a trace: its 16-byte id written as a UUID. */
export function sessionIdOf(traceId: string): string {
  return hexToUuid(traceId);
}

/** RFC 4122 version-5 UUID of `name` in `namespace` (SHA-1). */
export function uuidV5(name: string, namespace = SESSIONGRAPH_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  return hexToUuid(hash.subarray(0, 16).toString('hex'));
}

/** Agent definition key: `service.name` / (agent id or agent name). */
export function agentKey(serviceName: string, agentId: string, agentName: string): string {
  return `${serviceName}/${agentId || agentName}`;
}

/** Agent definition id: v5 UUID of `agent:<key>`. */
export function agentDefinitionId(key: string): string {
  return uuidV5(`agent:${key}`);
}

/** Decision id: `decision.id` when a UUID, else a v5 UUID of trace + span (+ event index for events). */
export function decisionId(givenId: string, traceId: string, spanId: string, eventIndex: number): string {
  if (isUuid(givenId)) return givenId.toLowerCase();
  return uuidV5(eventIndex < 0 ? `decision:${traceId}:${spanId}` : `decision:${traceId}:${spanId}:${eventIndex}`);
}
