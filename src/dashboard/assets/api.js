// The JSON API client. With keys configured, the key the user typed lives in this tab's
// sessionStorage only (gone when the tab closes), goes out as `Authorization: Bearer` on every
// /api call, and is never put into a URL, a log or the page.

const KEY_ITEM = 'sessiongraph.apiKey';

/** An API answer other than 2xx: `status` (0 when the collector did not answer), the API's `code` and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** True when the collector said (in the page shell) that its API needs a key. */
export function keysRequired() {
  return document.querySelector('meta[name="sessiongraph-auth"]')?.getAttribute('content') === 'keys';
}

/** The stored key, or null. */
export function storedKey() {
  try {
    return sessionStorage.getItem(KEY_ITEM);
  } catch {
    return null;
  }
}

/** Keeps `key` for this tab. */
export function storeKey(key) {
  sessionStorage.setItem(KEY_ITEM, key);
}

/** Forgets the key. */
export function forgetKey() {
  try {
    sessionStorage.removeItem(KEY_ITEM);
  } catch {
    // Storage disabled: nothing was kept.
  }
}

/** GET `path` (with its query string) from the API; resolves with the JSON body or throws ApiError. */
export async function api(path, { signal } = {}) {
  const headers = { accept: 'application/json' };
  const key = storedKey();
  if (key) headers.authorization = `Bearer ${key}`;
  let res;
  try {
    res = await fetch(path, { headers, signal, cache: 'no-store', credentials: 'omit' });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError(0, 'network', `The collector did not answer (${err.message}). Is it still running?`);
  }
  let payload = null;
  try {
    payload = await res.json();
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  if (!res.ok) {
    const error = payload && typeof payload === 'object' ? payload.error : undefined;
    throw new ApiError(
      res.status,
      error?.code ?? `http_${res.status}`,
      error?.message ?? `HTTP ${res.status} ${res.statusText}`,
    );
  }
  return payload;
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
}
