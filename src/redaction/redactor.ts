/**
 * Redaction at ingest, before anything is stored: every receiver (OTLP/HTTP JSON and protobuf,
 * gRPC, logs) passes its decoded rows through `redactSpans` / `redactLogs`, so the raw rows, the
 * facts derived from them and every graph node see only what is left. A masked value says what
 * was masked (`[redacted:email]`), never how it looked; a dropped key is gone.
 */
import { keyDigestHex } from '../auth.ts';
import type { LogRow } from '../otlp/decode-logs-row.ts';
import type { SpanRow } from '../otlp/span-row.ts';
import {
  CONTENT_KEYS,
  DEFAULT_VALUE_PATTERNS,
  EVENT_NAME_BODY,
  type RedactionConfig,
  type RedactionProfile,
} from './rules.ts';

/** Who sent a request: the API key it presented (never stored; only its digest is compared). */
export interface Sender {
  apiKey?: string | undefined;
}

export interface Redactor {
  /** Redacted values and dropped keys by rule (`email`, `content`, `key:*.api_key`…), for /metrics. */
  readonly counts: Record<string, number>;
  redactSpans(rows: SpanRow[], sender?: Sender): void;
  redactLogs(rows: LogRow[], sender?: Sender): void;
}

const masked = (rule: string): string => `[redacted:${rule}]`;

/** Builds the redactor of a configuration; it changes rows in place. */
export function createRedactor(config: RedactionConfig): Redactor {
  const counts: Record<string, number> = {};
  const count = (rule: string): void => {
    counts[rule] = (counts[rule] ?? 0) + 1;
  };

  const profileFor = (service: string, digest: () => string | undefined): RedactionProfile => {
    for (const o of config.overrides) {
      if (o.service && !o.service.test(service)) continue;
      if (o.apiKeySha256 !== undefined && o.apiKeySha256 !== digest()) continue;
      return o.profile;
    }
    return config.base;
  };

  /** One value through the value patterns. */
  const redactValue = (value: string, profile: RedactionProfile): string => {
    let out = value;
    for (const pattern of profile.defaults ? [...DEFAULT_VALUE_PATTERNS, ...profile.values] : profile.values) {
      out = pattern.replace(out, () => {
        count(pattern.name);
        return masked(pattern.name);
      });
    }
    return out;
  };

  /** An attribute map: key rules first (drop or mask), then content-off, then value patterns. */
  const redactMap = (attrs: Record<string, string>, profile: RedactionProfile): Record<string, string> => {
    let changed = false;
    const out: Record<string, string> = {};
    for (const key in attrs) {
      const value = attrs[key] ?? '';
      const rule = profile.keys.find((k) => k.regex.test(key));
      if (rule) {
        count(`key:${rule.match}`);
        changed = true;
        if (rule.action === 'mask') out[key] = masked(rule.match);
        continue;
      }
      if (profile.content === 'drop' && CONTENT_KEYS.test(key) && value !== '') {
        count('content');
        out[key] = masked('content');
        changed = true;
        continue;
      }
      const next = redactValue(value, profile);
      if (next !== value) changed = true;
      out[key] = next;
    }
    return changed ? out : attrs;
  };

  return {
    counts,
    redactSpans(rows, sender) {
      const keyDigest = lazyDigest(sender);
      for (const row of rows) {
        const profile = profileFor(row.ServiceName, keyDigest);
        row.SpanAttributes = redactMap(row.SpanAttributes, profile);
        row.ResourceAttributes = redactMap(row.ResourceAttributes, profile);
        row['Events.Attributes'] = row['Events.Attributes'].map((a) => redactMap(a, profile));
        row['Links.Attributes'] = row['Links.Attributes'].map((a) => redactMap(a, profile));
        row.StatusMessage = redactValue(row.StatusMessage, profile);
        row.SpanName = redactValue(row.SpanName, profile);
      }
    },
    redactLogs(rows, sender) {
      const keyDigest = lazyDigest(sender);
      for (const row of rows) {
        const profile = profileFor(row.ServiceName, keyDigest);
        row.LogAttributes = redactMap(row.LogAttributes, profile);
        row.ResourceAttributes = redactMap(row.ResourceAttributes, profile);
        row.ScopeAttributes = redactMap(row.ScopeAttributes, profile);
        // A body that is an event's name (Claude Code's `claude_code.api_request`) is not content.
        if (profile.content === 'drop' && row.Body !== '' && !EVENT_NAME_BODY.test(row.Body)) {
          count('content');
          row.Body = masked('content');
        } else {
          row.Body = redactValue(row.Body, profile);
        }
      }
    },
  };
}

/** The SHA-256 of the sender's key, computed once per request and only if an override asks. */
function lazyDigest(sender: Sender | undefined): () => string | undefined {
  let digest: string | undefined;
  let done = false;
  return () => {
    if (!done) {
      digest = sender?.apiKey ? keyDigestHex(sender.apiKey) : undefined;
      done = true;
    }
    return digest;
  };
}
