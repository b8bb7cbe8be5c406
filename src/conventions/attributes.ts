/**
 * Reading attributes as `otel_traces` stores them (every value a string, arrays and maps as
 * JSON): first-key-wins lookups, numbers, string lists and message text. Pure.
 */

/** Attributes of one span (or resource) in their stored string form. */
export type Attrs = Readonly<Record<string, string>>;

/** The value of the first key present (and non-empty) in `attrs`, in `keys` order. */
export function firstOf(attrs: Attrs, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const v = attrs[key];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

/** The first key present whose value is a finite number, as a number. */
export function firstNumber(attrs: Attrs, keys: readonly string[]): number | undefined {
  for (const key of keys) {
    const v = attrs[key];
    if (v === undefined || v.trim() === '') continue;
    const n = Number(v);
    if (Number.isFinite(n)) return n;
  }
  return undefined;
}

/** Parses JSON, or returns undefined. */
export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A string-list attribute: a JSON array of strings, else a comma-separated string. */
export function stringList(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  const parsed = value.trim().startsWith('[') ? tryJson(value) : undefined;
  const items = Array.isArray(parsed)
    ? parsed.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)))
    : value.split(',');
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

/** A value that may be a JSON-encoded string literal (`"text"`, as OpenLLMetry writes) → the text. */
export function unwrapJsonString(value: string): string {
  if (value.startsWith('"')) {
    const parsed = tryJson(value);
    if (typeof parsed === 'string') return parsed;
  }
  return value;
}

/** Text of one chat message in the GenAI `parts` form or the older `content` form. */
export function messageText(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as { content?: unknown; parts?: unknown };
  if (typeof m.content === 'string') return m.content;
  const parts = Array.isArray(m.parts) ? m.parts : Array.isArray(m.content) ? m.content : undefined;
  if (!parts) return undefined;
  const texts = parts
    .map((p: unknown) => {
      if (typeof p === 'string') return p;
      const part = p as { type?: unknown; content?: unknown; text?: unknown };
      if (part.type !== undefined && part.type !== 'text') return undefined;
      return typeof part.content === 'string' ? part.content : typeof part.text === 'string' ? part.text : undefined;
    })
    .filter((t): t is string => t !== undefined);
  return texts.length > 0 ? texts.join('\n') : undefined;
}

/** Text of the first message with `role` in a JSON array of messages (`first`) or of the last (`last`). */
export function roleText(messagesJson: string | undefined, role: string, which: 'first' | 'last'): string | undefined {
  if (messagesJson === undefined) return undefined;
  const parsed = tryJson(messagesJson);
  if (!Array.isArray(parsed)) return undefined;
  const withRole = parsed.filter(
    (m: unknown) => typeof m === 'object' && m !== null && (m as { role?: unknown }).role === role,
  );
  const message: unknown = which === 'first' ? withRole[0] : withRole[withRole.length - 1];
  return messageText(message);
}

/**
 * The highest-indexed value of a flattened list key such as `gen_ai.completion.{N}.content`
 * (`prefix` = `gen_ai.completion.`, `suffix` = `.content`).
 */
export function lastIndexed(attrs: Attrs, prefix: string, suffix: string): string | undefined {
  let best = -1;
  let value: string | undefined;
  for (const [key, v] of Object.entries(attrs)) {
    if (!key.startsWith(prefix) || !key.endsWith(suffix)) continue;
    const index = Number(key.slice(prefix.length, key.length - suffix.length));
    if (Number.isInteger(index) && index > best && v !== '') {
      best = index;
      value = v;
    }
  }
  return value;
}

/** The first `max` UTF-16 units of `text`, never ending inside a surrogate pair. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}
