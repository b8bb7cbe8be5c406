/**
 * Redaction rules and the redactor without an engine: each default pattern, what must not be
 * taken for a secret, key rules, overrides by service and by API key, and rules files that stop
 * the start with a message naming the entry.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { createRedactor } from '../../src/redaction/redactor.ts';
import { parseRedactionRules } from '../../src/redaction/rules.ts';
import { testSpan } from '../helpers/span-row.ts';

const redactValue = (value: string, rules = '', defaults = true): string => {
  const span = testSpan('0000000000000001', '', { v: value });
  createRedactor(parseRedactionRules(rules, 'rules', defaults)).redactSpans([span]);
  return span.SpanAttributes.v ?? '';
};

describe('default value patterns', () => {
  it.each([
    ['mail me at a.b-c+tag@mail.example.co.uk today', 'mail me at [redacted:email] today'],
    ['Authorization: Bearer abc.DEF-123_xyz==', 'Authorization: [redacted:bearer-token]'],
    ['openai sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234', 'openai [redacted:api-key]'],
    ['anthropic sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx', 'anthropic [redacted:api-key]'],
    ['aws AKIAIOSFODNN7EXAMPLE', 'aws [redacted:api-key]'],
    ['gh ghp_0123456789abcdefghijklmnopqrstuvwxyzAB', 'gh [redacted:api-key]'],
    ['slack xoxb-1234567890-abcdef', 'slack [redacted:api-key]'],
    ['google AIzaSyA1234567890abcdefghijklmnopqrstuv', 'google [redacted:api-key]'],
    ['visa 4111 1111 1111 1111 ok', 'visa [redacted:card-number] ok'],
    ['amex 3782-822463-10005', 'amex [redacted:card-number]'],
    ['["to","x@y.io"]', '["to","[redacted:email]"]'],
  ])('%s', (value, expected) => {
    expect(redactValue(value)).toBe(expected);
  });

  it.each([
    ['a 16-digit number failing the Luhn check', '4111 1111 1111 1112'],
    ['a nanosecond timestamp', '1767225600123456789'],
    ['a trace id', '4bf92f3577b34da6a3ce929d0e0e4736'],
    ['a word with @', 'user@localhost'],
    ['a short sk- word', 'sk-learn'],
  ])('leaves %s alone', (_what, value) => {
    expect(redactValue(value)).toBe(value);
  });

  it('masks an address at the end of 64 KiB of letters, and leaves such text without one alone (in linear time: as a regular expression the e-mail pattern took seconds per value)', () => {
    const letters = 'a'.repeat(65_536);
    expect(redactValue(letters)).toBe(letters);
    expect(redactValue(`${'1'.repeat(65_536)} `)).toBe(`${'1'.repeat(65_536)} `);
    expect(redactValue(`${letters}@example.com, ${letters}`)).toBe(`[redacted:email], ${letters}`);
    expect(redactValue('x@a.com.b@c.com')).toBe('[redacted:email][redacted:email]'); // as /…+@…/g finds them: leftmost, resuming after
  });

  it('are off unless asked for', () => {
    expect(redactValue('jane@example.com', 'values: [{ name: x, pattern: "zzz" }]', false)).toBe('jane@example.com');
  });
});

describe('rules', () => {
  it('key rules drop or mask, whatever the case; custom values are named', () => {
    const span = testSpan('0000000000000001', '', {
      'llm.API_KEY': 'k',
      'enduser.id': 'u1',
      note: 'EMP-123456 and EMP-1',
    });
    span.ResourceAttributes = { 'host.api_key': 'k2', 'service.name': 's' };
    const rules =
      'keys: [{ match: "*.api_key", action: drop }, { match: enduser.id }]\nvalues: [{ name: employee-id, pattern: "EMP-[0-9]{6}" }]';
    const redactor = createRedactor(parseRedactionRules(rules, 'rules', false));
    redactor.redactSpans([span]);
    expect(span.SpanAttributes).toEqual({
      'enduser.id': '[redacted:enduser.id]',
      note: '[redacted:employee-id] and EMP-1',
    });
    expect(span.ResourceAttributes).toEqual({ 'service.name': 's' });
    expect(redactor.counts).toEqual({ 'key:*.api_key': 2, 'key:enduser.id': 1, 'employee-id': 1 });
  });

  it("an override applies to its service, or to the sender's API key (by digest)", () => {
    const digest = createHash('sha256').update('partner-key').digest('hex');
    const rules = `overrides:\n  - when: { service: "billing-*" }\n    content: drop\n  - when: { api_key_sha256: "${digest}" }\n    defaults: true`;
    const redactor = createRedactor(parseRedactionRules(rules, 'rules', false));
    const spans = ['billing-api', 'search', 'search'].map((service) => {
      const s = testSpan('0000000000000001', '', { 'input.value': 'hi jane@example.com' });
      s.ServiceName = service;
      return s;
    });
    redactor.redactSpans(spans.slice(0, 2));
    redactor.redactSpans(spans.slice(2), { apiKey: 'partner-key' });
    expect(spans.map((s) => s.SpanAttributes['input.value'])).toEqual([
      '[redacted:content]',
      'hi jane@example.com',
      'hi [redacted:email]',
    ]);
  });

  it.each([
    ['keys: [{ action: drop }]', /keys\[0\]: match must be a key pattern/],
    ['keys: [{ match: x, action: hide }]', /keys\[0\]: action must be "drop" or "mask"/],
    ['values: [{ name: x, pattern: "(" }]', /values\[0\]: pattern is not a valid regular expression/],
    ['values: [{ name: x, pattern: "a*" }]', /values\[0\]: pattern matches the empty string/],
    ['values: [{ name: "a b", pattern: "x" }]', /values\[0\]: name must be letters/],
    ['content: none', /content must be "keep" or "drop"/],
    ['overrides: [{ content: drop }]', /overrides\[0\]: when must name a service/],
    ['overrides: [{ when: { api_key_sha256: secret } }]', /api_key_sha256 must be the 64 hex digits/],
    ['colour: red', /unknown field "colour"/],
    ['[1, 2]', /must be a mapping/],
  ])('%s is refused at start', (text, message) => {
    expect(() => parseRedactionRules(text, 'rules.yaml', false)).toThrow(message);
  });

  it("a bad rules file or flag stops the start with the option's name", () => {
    expect(() => parseConfig({ SESSIONGRAPH_REDACT: '/nonexistent/redact.yaml' })).toThrow(
      /SESSIONGRAPH_REDACT="\/nonexistent\/redact.yaml": cannot read the redaction rules/,
    );
    expect(() => parseConfig({ SESSIONGRAPH_REDACT_DEFAULTS: 'yes' })).toThrow(
      /SESSIONGRAPH_REDACT_DEFAULTS="yes" is invalid: expected true or false/,
    );
    expect(parseConfig({}).redaction).toBeUndefined();
    expect(parseConfig({ SESSIONGRAPH_REDACT_DEFAULTS: 'true' }).redaction?.base.defaults).toBe(true);
  });
});
