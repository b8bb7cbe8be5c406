/**
 * Redaction rules (`--redact FILE`, `--redact-defaults`): what to drop or mask before anything is
 * stored. A rules file is YAML or JSON:
 *
 *   defaults: true          # the built-in value patterns below
 *   content: keep           # or drop: no message, argument or result text (content-off mode)
 *   keys:                   # attribute keys, `*` matching any characters, case-insensitive
 *     - { match: "*.api_key", action: drop }
 *     - { match: "enduser.id", action: mask }
 *   values:                 # value patterns (JavaScript regular expressions)
 *     - { name: employee-id, pattern: "EMP-[0-9]{6}" }
 *   overrides:              # for some senders: the first whose `when` matches adds its keys and
 *     - when: { service: "billing-*" }            # values, and replaces defaults / content
 *       content: drop
 *     - when: { api_key_sha256: "<hex digest of the key>" }
 *       defaults: true
 *
 * Parsing checks everything and names the entry at fault, so a bad file stops the start.
 */
import { parse as parseYaml } from 'yaml';

export type KeyAction = 'drop' | 'mask';

export interface KeyRule {
  /** The pattern as written, for messages and the metric label. */
  match: string;
  regex: RegExp;
  action: KeyAction;
}

export interface ValuePattern {
  name: string;
  /** `text` with each match replaced by what `mask` returns for it. */
  replace(text: string, mask: (match: string) => string): string;
}

/** A pattern that is a global regular expression; `accept` checks each match further (card numbers: Luhn). */
function regexPattern(name: string, regex: RegExp, accept?: (match: string) => boolean): ValuePattern {
  return {
    name,
    replace: (text, mask) => text.replace(regex, (match) => (accept && !accept(match) ? match : mask(match))),
  };
}

const EMAIL_LOCAL_CHAR = /[A-Za-z0-9._%+-]/;
const EMAIL_DOMAIN = /[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/y;

/**
 * E-mail addresses: exactly what `/[A-Za-z0-9._%+-]+@<EMAIL_DOMAIN>/g` finds, leftmost first, but
 * in linear time. As a regular expression each start position rescans the run of letters after
 * it: a 64 KiB attribute value of letters without an `@` cost about 4 s, a stall any exporter
 * could cause with --redact-defaults on. Here each `@` looks left over its own run only (back to
 * the previous match, as the expression's search resumes there) and matches its domain in place.
 */
function replaceEmails(text: string, mask: (match: string) => string): string {
  let out = '';
  let done = 0; // text before this is copied to `out`, or masked
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > done && EMAIL_LOCAL_CHAR.test(text[start - 1] ?? '')) start--;
    if (start === at) continue;
    EMAIL_DOMAIN.lastIndex = at + 1;
    const domain = EMAIL_DOMAIN.exec(text);
    if (!domain) continue;
    const end = at + 1 + domain[0].length;
    out += text.slice(done, start) + mask(text.slice(start, end));
    done = end;
  }
  return done === 0 ? text : out + text.slice(done);
}

/** The rules applied to one request. */
export interface RedactionProfile {
  defaults: boolean;
  content: 'keep' | 'drop';
  keys: KeyRule[];
  values: ValuePattern[];
}

export interface RedactionOverride {
  service?: RegExp;
  apiKeySha256?: string;
  profile: RedactionProfile;
}

export interface RedactionConfig {
  base: RedactionProfile;
  overrides: RedactionOverride[];
}

export class RedactionRulesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedactionRulesError';
  }
}

/** Luhn checksum of the digits of `text`: what tells a card number from any 16 digits. */
function luhn(text: string): boolean {
  const digits = text.replace(/\D/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * The default value patterns (`--redact-defaults`): e-mail addresses, bearer tokens, the key
 * shapes of the common providers (OpenAI, Anthropic, AWS, GitHub, Slack, Google, GitLab, Stripe)
 * and card numbers that pass the Luhn check. Order matters: a bearer token is masked as one
 * before its inner key shape is looked for.
 */
export const DEFAULT_VALUE_PATTERNS: readonly ValuePattern[] = [
  regexPattern('bearer-token', /\bBearer\s+[A-Za-z0-9\-._~+/]{8,}=*/gi),
  regexPattern(
    'api-key',
    /\b(?:sk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,}|[rs]k_live_[A-Za-z0-9]{16,})/g,
  ),
  { name: 'email', replace: replaceEmails },
  regexPattern('card-number', /\b[2-6]\d(?:[ -]?\d){11,17}\b/g, luhn),
];

/**
 * Keys whose values are message, argument or result text in the conventions sessiongraph reads
 * (src/conventions): what content-off mode masks. Span, event and log attributes alike.
 */
export const CONTENT_KEY_PATTERNS: readonly string[] = [
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.prompt',
  'gen_ai.prompt.*',
  'gen_ai.completion',
  'gen_ai.completion.*',
  'gen_ai.tool.call.arguments',
  'gen_ai.tool.call.result',
  'input.value',
  'output.value',
  'llm.input_messages.*',
  'llm.output_messages.*',
  'llm.prompts*',
  'tool.parameters',
  'traceloop.entity.input',
  'traceloop.entity.output',
  'ai.prompt',
  'ai.prompt.*',
  'ai.response.text',
  'ai.response.object',
  'ai.response.toolCalls',
  'ai.response.reasoning*',
  'ai.toolCall.args',
  'ai.toolCall.result',
  'langfuse.observation.input',
  'langfuse.observation.output',
  'langfuse.trace.input',
  'langfuse.trace.output',
  'mastra.*.input',
  'mastra.*.output',
  'gcp.vertex.agent.llm_request',
  'gcp.vertex.agent.llm_response',
  'gcp.vertex.agent.tool_call_args',
  'gcp.vertex.agent.tool_response',
  // Event attributes of the GenAI message events, and Claude Code's event attributes.
  'content',
  'message',
  'tool_calls',
  'prompt',
  'user_prompt',
  'tool_parameters',
  'tool_input',
  'tool_output',
  'response',
];

/**
 * A log body that is an event's name (Claude Code's `claude_code.api_request`), not content:
 * redaction's content-off mode and content expiry both leave such a body alone.
 */
export const EVENT_NAME_BODY = /^[a-z][\w.-]{0,99}$/i;

/** `*` matches any characters; everything else literally; case-insensitive. */
export function globRegex(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
}

export const CONTENT_KEYS = new RegExp(CONTENT_KEY_PATTERNS.map((g) => globRegex(g).source).join('|'), 'i');

const EMPTY_PROFILE: RedactionProfile = { defaults: false, content: 'keep', keys: [], values: [] };

type Json = Record<string, unknown>;

function profileOf(raw: Json, where: string, base: RedactionProfile): RedactionProfile {
  const known = new Set(['defaults', 'content', 'keys', 'values', 'when', 'overrides']);
  for (const key of Object.keys(raw))
    if (!known.has(key))
      throw new RedactionRulesError(
        `${where}: unknown field "${key}" (fields: defaults, content, keys, values, overrides)`,
      );
  if (raw.defaults !== undefined && typeof raw.defaults !== 'boolean')
    throw new RedactionRulesError(`${where}: defaults must be true or false`);
  if (raw.content !== undefined && raw.content !== 'keep' && raw.content !== 'drop')
    throw new RedactionRulesError(`${where}: content must be "keep" or "drop"`);
  const list = (name: 'keys' | 'values'): Json[] => {
    const value = raw[name] ?? [];
    if (!Array.isArray(value) || value.some((e) => typeof e !== 'object' || e === null))
      throw new RedactionRulesError(`${where}: ${name} must be a list of objects`);
    return value as Json[];
  };
  const keys = list('keys').map((k, i): KeyRule => {
    const at = `${where} keys[${i}]`;
    if (typeof k.match !== 'string' || k.match === '')
      throw new RedactionRulesError(`${at}: match must be a key pattern such as "*.api_key"`);
    const action = k.action ?? 'mask';
    if (action !== 'drop' && action !== 'mask') throw new RedactionRulesError(`${at}: action must be "drop" or "mask"`);
    return { match: k.match, regex: globRegex(k.match), action };
  });
  const values = list('values').map((v, i): ValuePattern => {
    const at = `${where} values[${i}]`;
    if (typeof v.name !== 'string' || !/^[a-z0-9][a-z0-9_-]*$/i.test(v.name))
      throw new RedactionRulesError(`${at}: name must be letters, digits, - or _ (it is shown as [redacted:NAME])`);
    if (typeof v.pattern !== 'string' || v.pattern === '')
      throw new RedactionRulesError(`${at}: pattern must be a regular expression`);
    let regex: RegExp;
    try {
      regex = new RegExp(v.pattern, 'g');
    } catch (err) {
      throw new RedactionRulesError(`${at}: pattern is not a valid regular expression: ${(err as Error).message}`);
    }
    if (regex.test('')) throw new RedactionRulesError(`${at}: pattern matches the empty string`);
    return regexPattern(v.name, regex);
  });
  return {
    defaults: (raw.defaults as boolean | undefined) ?? base.defaults,
    content: (raw.content as 'keep' | 'drop' | undefined) ?? base.content,
    keys: [...base.keys, ...keys],
    values: [...base.values, ...values],
  };
}

/** Parses a rules file's text (YAML or JSON); `defaults` forces the built-in patterns on (--redact-defaults). */
export function parseRedactionRules(text: string | undefined, source: string, defaults: boolean): RedactionConfig {
  let raw: unknown = {};
  if (text !== undefined) {
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      throw new RedactionRulesError(`${source} is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new RedactionRulesError(`${source} must be a mapping (defaults, content, keys, values, overrides)`);
  const top = raw as Json;
  if (top.when !== undefined) throw new RedactionRulesError(`${source}: "when" belongs in an entry of overrides`);
  const base = profileOf(top, source, EMPTY_PROFILE);
  if (defaults) base.defaults = true;
  const overridesRaw = top.overrides ?? [];
  if (!Array.isArray(overridesRaw)) throw new RedactionRulesError(`${source}: overrides must be a list`);
  const overrides = overridesRaw.map((o: unknown, i): RedactionOverride => {
    const at = `${source} overrides[${i}]`;
    if (typeof o !== 'object' || o === null) throw new RedactionRulesError(`${at} must be a mapping`);
    const entry = o as Json;
    const when = entry.when as Json | undefined;
    if (
      typeof when !== 'object' ||
      when === null ||
      (when.service === undefined && when.api_key_sha256 === undefined)
    ) {
      throw new RedactionRulesError(`${at}: when must name a service (a pattern) or an api_key_sha256`);
    }
    if (when.service !== undefined && typeof when.service !== 'string')
      throw new RedactionRulesError(`${at}: when.service must be a service name pattern`);
    if (
      when.api_key_sha256 !== undefined &&
      (typeof when.api_key_sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(when.api_key_sha256))
    ) {
      throw new RedactionRulesError(
        `${at}: when.api_key_sha256 must be the 64 hex digits of the key's SHA-256 (printf %s KEY | sha256sum)`,
      );
    }
    if (entry.overrides !== undefined) throw new RedactionRulesError(`${at}: overrides do not nest`);
    const { when: _when, ...rest } = entry;
    return {
      ...(typeof when.service === 'string' ? { service: globRegex(when.service) } : {}),
      ...(typeof when.api_key_sha256 === 'string' ? { apiKeySha256: when.api_key_sha256.toLowerCase() } : {}),
      profile: profileOf(rest, at, base),
    };
  });
  return { base, overrides };
}

/** True when the configuration redacts nothing for anybody (then no redactor runs at all). */
export function redactsNothing(config: RedactionConfig): boolean {
  const empty = (p: RedactionProfile): boolean =>
    !p.defaults && p.content === 'keep' && p.keys.length === 0 && p.values.length === 0;
  return empty(config.base) && config.overrides.every((o) => empty(o.profile));
}
