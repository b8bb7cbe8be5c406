/**
 * Text out of JSON-valued inputs and outputs: OpenInference `input.value` / `output.value`
 * with `application/json`, Mastra's `{"text": …}`, LangChain serialized messages, whole OpenAI
 * Chat Completions / Responses requests and responses, Gemini contents. A value that is not
 * JSON is its own text. One reader for every family, so a new framework that logs a message
 * list is read without a rule of its own. Pure.
 */
import { tryJson } from './attributes.ts';

type Role = 'user' | 'assistant';

/**
 * The first user text of an input value (a prompt, a message list, a request). A value that is
 * not JSON, or JSON of another kind (a function's arguments), is its own text; messages without
 * a user text give '' (a request of tool results says nothing about what the user asked).
 */
export function inputText(value: string): string {
  const parsed = parseJson(value);
  if (parsed === undefined) return value;
  if (typeof parsed === 'string') return parsed;
  return textOf(parsed, 'user', 'first') ?? (holdsMessages(parsed) ? '' : value);
}

/** The last assistant text of an output value (a message list, a response, `{"text"}`); '' for messages without one (an answer of tool calls only). */
export function outputText(value: string): string {
  const parsed = parseJson(value);
  if (parsed === undefined) return value;
  if (typeof parsed === 'string') return parsed;
  return textOf(parsed, 'assistant', 'last') ?? (holdsMessages(parsed) ? '' : value);
}

/** True for the shapes textOf reads messages from: a list of messages, or a request or response holding one. */
function holdsMessages(v: unknown): boolean {
  if (Array.isArray(v))
    return v.some((x) => roleOf(x) !== 'other' || (typeof x === 'object' && x !== null && 'role' in x));
  if (typeof v !== 'object' || v === null) return false;
  return (
    ['messages', 'contents', 'choices', 'candidates', 'generations', 'content', 'parts'].some((k) => k in v) ||
    Array.isArray((v as { output?: unknown }).output) ||
    Array.isArray((v as { input?: unknown }).input)
  );
}

function parseJson(value: string): unknown {
  const t = value.trimStart();
  return t.startsWith('{') || t.startsWith('[') || t.startsWith('"') ? tryJson(value) : undefined;
}

/** Text of the first (or last) message with `role` in whatever shape `v` has; undefined when none. */
function textOf(v: unknown, role: Role, which: 'first' | 'last'): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return fromList(v, role, which);
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  // Containers, most specific first.
  for (const key of ['messages', 'input', 'contents', 'output']) {
    const inner = o[key];
    if (Array.isArray(inner)) {
      const found = fromList(inner, role, which);
      if (found !== undefined) return found;
    } else if (key === 'input' && typeof inner === 'string' && role === 'user') {
      return inner; // Responses API request with a plain string input
    }
  }
  if (Array.isArray(o.choices)) {
    const message = (o.choices.at(-1) as { message?: unknown } | undefined)?.message;
    const text = messageContent(message);
    if (text !== undefined) return text;
  }
  if (Array.isArray(o.candidates)) {
    const text = messageContent((o.candidates.at(-1) as { content?: unknown } | undefined)?.content);
    if (text !== undefined) return text;
  }
  if (Array.isArray(o.generations)) {
    const last = (o.generations.flat(2).at(-1) ?? undefined) as { text?: unknown; message?: unknown } | undefined;
    if (typeof last?.text === 'string' && last.text !== '') return last.text;
    const text = messageContent(last?.message);
    if (text !== undefined) return text;
  }
  for (const key of ['text', 'output_text', 'prompt', 'content', 'output', 'result', 'answer']) {
    if (typeof o[key] === 'string' && o[key] !== '') return o[key];
  }
  // Gemini / ADK: `{"content": {"role": "model", "parts": [...]}}`.
  if (typeof o.content === 'object' && o.content !== null && !Array.isArray(o.content))
    return messageContent(o.content);
  return messageContent(o);
}

function fromList(list: readonly unknown[], role: Role, which: 'first' | 'last'): string | undefined {
  if (list.length > 0 && list.every((x) => typeof x === 'string'))
    return which === 'first' ? (list[0] as string) : (list.at(-1) as string);
  // A list of content blocks (`[{"text": …}]`, Strands' event content) rather than of messages.
  if (
    list.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x) && roleOf(x) === 'other' && 'text' in x)
  )
    return messageContent({ content: list });
  const ordered = which === 'first' ? list : [...list].reverse();
  for (const item of ordered) {
    if (Array.isArray(item)) {
      const found = fromList(item, role, which); // LangChain batches: [[messages]]
      if (found !== undefined) return found;
      continue;
    }
    if (roleOf(item) !== role) continue;
    const text = messageContent(item);
    if (text !== undefined && text !== '') return text;
  }
  return undefined;
}

/** The role of a chat message in the OpenAI, Gemini, Responses or LangChain (serialized or not) shape. */
function roleOf(item: unknown): Role | 'other' {
  if (typeof item !== 'object' || item === null) return 'other';
  const o = item as Record<string, unknown>;
  const lc = lcMessage(o);
  const raw = String(o.role ?? lc?.type ?? o.type ?? o._getType ?? '').toLowerCase();
  if (raw === 'user' || raw === 'human' || raw === 'humanmessage' || raw === 'humanmessagechunk') return 'user';
  if (raw === 'assistant' || raw === 'ai' || raw === 'model' || raw === 'aimessage' || raw === 'aimessagechunk')
    return 'assistant';
  if (raw === 'message' && o.role === undefined) return 'assistant'; // Responses API output item without a role
  return 'other';
}

/** A LangChain serialized message (`{"lc":1,"type":"constructor","id":[…,"HumanMessage"],"kwargs":{…}}`) as type + kwargs. */
function lcMessage(o: Record<string, unknown>): { type: string; kwargs: Record<string, unknown> } | undefined {
  if (o.lc === undefined || !Array.isArray(o.id) || typeof o.kwargs !== 'object' || o.kwargs === null) return undefined;
  return { type: String(o.id.at(-1) ?? ''), kwargs: o.kwargs as Record<string, unknown> };
}

/** The text of one message: `content` as a string or a list of text parts, `parts`, or `text`. */
function messageContent(message: unknown): string | undefined {
  if (typeof message === 'string') return message;
  if (typeof message !== 'object' || message === null) return undefined;
  const o = message as Record<string, unknown>;
  const lc = lcMessage(o);
  const content = lc ? lc.kwargs.content : (o.content ?? o.parts);
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const texts = content
      .map((p: unknown) => {
        if (typeof p === 'string') return p;
        const part = p as { type?: unknown; text?: unknown; content?: unknown };
        if (part.type !== undefined && !['text', 'output_text', 'input_text'].includes(String(part.type)))
          return undefined;
        return typeof part.text === 'string' ? part.text : typeof part.content === 'string' ? part.content : undefined;
      })
      .filter((t): t is string => t !== undefined && t !== '');
    if (texts.length > 0) return texts.join('\n');
  }
  return typeof o.text === 'string' ? o.text : undefined;
}
