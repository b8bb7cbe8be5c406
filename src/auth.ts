/**
 * API keys (SPEC §7): `SESSIONGRAPH_API_KEYS` = comma-separated `KEY=SCOPES`, scopes `ingest`,
 * `read` and `admin` (erasure) joined by `+`; or a keys file with one `KEY=SCOPES` per line. Keys are kept only
 * as SHA-256 digests, compared in constant time, and never appear in messages or logs.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export const SCOPES = ['ingest', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** One configured key: its digest and what it may do. */
export interface ApiKey {
  digest: Buffer;
  scopes: ReadonlySet<Scope>;
}

/** A key list that cannot be used; the message names the entry, never the key. */
export class ApiKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiKeyError';
  }
}

const digestOf = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/** A key's SHA-256 in hex: how redaction rules and erasure records name a key without holding it. */
export const keyDigestHex = (key: string): string => digestOf(key).toString('hex');

/** Parses `k1=ingest,k2=read+ingest` (or the lines of a keys file) naming `source` in errors. */
export function parseApiKeys(text: string, source: string, separator: RegExp = /,/): ApiKey[] {
  const unit = separator.source.includes('n') ? 'line' : 'entry';
  const entries = text
    .split(separator)
    .map((e, i) => ({ entry: e.trim(), n: i + 1 }))
    .filter(({ entry }) => entry !== '' && !entry.startsWith('#'));
  return entries.map(({ entry, n }) => {
    const where = `${source} ${unit} ${n}`;
    const eq = entry.lastIndexOf('=');
    const key = eq > 0 ? entry.slice(0, eq).trim() : '';
    const scopes =
      eq > 0
        ? entry
            .slice(eq + 1)
            .split('+')
            .map((s) => s.trim())
        : [];
    if (key === '' || scopes.length === 0 || scopes.some((s) => s === '')) {
      throw new ApiKeyError(`${where} is invalid: expected KEY=SCOPES, e.g. k1=ingest or k2=read+ingest`);
    }
    if (/\s/.test(key)) throw new ApiKeyError(`${where} is invalid: a key must not contain spaces`);
    // The scope is not quoted: an entry written the wrong way round (read=SECRET) would print the key.
    if (scopes.some((s) => !(SCOPES as readonly string[]).includes(s)))
      throw new ApiKeyError(`${where} has an unknown scope (scopes are ingest, read and admin, joined by +)`);
    return { digest: digestOf(key), scopes: new Set(scopes as Scope[]) };
  });
}

/** The key a request presents: `Authorization: Bearer KEY`, else `x-api-key: KEY`. */
export function presentedKey(authorization: string | undefined, xApiKey: string | undefined): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  return bearer ?? (xApiKey?.trim() || undefined);
}

/** The outcome of checking a request against the keys. */
export type AuthResult = 'ok' | 'missing' | 'invalid' | 'forbidden';

/** Checks `presented` for `scope`; compares against every key in constant time. */
export function authorize(keys: readonly ApiKey[], presented: string | undefined, scope: Scope): AuthResult {
  if (presented === undefined) return 'missing';
  const digest = digestOf(presented);
  let match: ApiKey | undefined;
  for (const key of keys) {
    // No early exit: the time taken does not depend on which key (if any) matched.
    if (timingSafeEqual(key.digest, digest)) match = key;
  }
  if (!match) return 'invalid';
  return match.scopes.has(scope) ? 'ok' : 'forbidden';
}

/** True for addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}
