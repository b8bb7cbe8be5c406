/**
 * OTLP/JSON decoding of what a regex cannot take: strings of many megabytes (decoded, then cut
 * by the attribute value limit as limits.ts documents), and the big-integer quoting that has to
 * scan them, checked against the regex it replaced.
 */
import { describe, expect, it } from 'vitest';
import { decodeTraceRequestJson } from '../../src/otlp/decode-json.ts';
import { quoteBigIntegers } from '../../src/otlp/quote-big-integers.ts';
import { applySpanLimits } from '../../src/otlp/limits.ts';

const LIMITS = { maxAttributeValueBytes: 64 * 1024, maxAttributesPerSpan: 4096 }; // the configured defaults
const MIB = 1024 * 1024;

/** The quoting as it was done before (a regex that overflows V8's stack on long strings): the reference for short ones. */
function quoteByRegex(text: string): string {
  if (!/\d{16}/.test(text)) return text;
  return text.replace(/"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d{16,}(?![.eE\d])/g, (m) =>
    m.charCodeAt(0) === 34 ? m : `"${m}"`,
  );
}

/** A one-span request whose attribute `big` is the JSON string literal `literal` (already quoted and escaped). */
function requestWithLiteral(literal: Buffer): Buffer {
  const text = JSON.stringify({
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: [
              {
                traceId: 'ab'.repeat(16),
                spanId: 'cd'.repeat(8),
                name: 'big',
                endTimeUnixNano: '1767225601000000000',
                attributes: [
                  { key: 'n', value: { intValue: '@N' } },
                  { key: 'big', value: { stringValue: '@' } },
                ],
              },
            ],
          },
        ],
      },
    ],
  })
    .replace('"@N"', '9007199254740993')
    .replace(',"endTimeUnixNano"', ',"startTimeUnixNano":1767225600000000001,"endTimeUnixNano"');
  const [head, tail] = text.split('"@"') as [string, string];
  return Buffer.concat([Buffer.from(head), literal, Buffer.from(tail)]);
}

/** Decodes and applies the configured limits, as the receiver does; returns the one row. */
function decodeAndLimit(body: Buffer): { big: string | undefined; n: string | undefined; start: string } {
  const out = decodeTraceRequestJson(body);
  expect(out.spans).toHaveLength(1);
  applySpanLimits(out.spans, LIMITS);
  const row = out.spans[0]!;
  return { big: row.SpanAttributes.big, n: row.SpanAttributes.n, start: row.Timestamp };
}

describe('OTLP/JSON strings of many megabytes', () => {
  it('decodes a 9 MB attribute string and cuts it to the limit with the documented marker', () => {
    const value = 'x'.repeat(9_000_000);
    const row = decodeAndLimit(requestWithLiteral(Buffer.from(JSON.stringify(value))));
    expect(row.big).toBe(
      `${'x'.repeat(LIMITS.maxAttributeValueBytes)}…[truncated ${9_000_000 - LIMITS.maxAttributeValueBytes} bytes]`,
    );
    // Big integers around it are still exact: the string did not derail the quoting.
    expect([row.n, row.start]).toEqual(['9007199254740993', '1767225600000000001']);
  });

  it('decodes an 18 MB string full of escapes and 3-byte characters, cut on a character boundary', () => {
    const chunk = 'a"€\\'; // 6 bytes of UTF-8 once decoded; written `a\"€\\` in JSON
    const count = 3_000_000;
    const row = decodeAndLimit(requestWithLiteral(Buffer.from(JSON.stringify(chunk.repeat(count)))));
    // 65,536 bytes = 10,922 chunks (65,532 bytes) + `a"`; the next character, €, does not fit whole.
    const kept = `${chunk.repeat(10_922)}a"`;
    expect(row.big).toBe(`${kept}…[truncated ${6 * count - 65_534} bytes]`);
  });

  it('decodes a 64 MiB body (the default body limit) that is one giant string', () => {
    const frame = requestWithLiteral(Buffer.from('""')).length;
    const fill = 64 * MIB - frame;
    const literal = Buffer.alloc(fill + 2, 'y');
    literal[0] = 0x22;
    literal[fill + 1] = 0x22;
    const body = requestWithLiteral(literal);
    expect(body.length).toBe(64 * MIB);
    const row = decodeAndLimit(body);
    expect(row.big).toBe(
      `${'y'.repeat(LIMITS.maxAttributeValueBytes)}…[truncated ${fill - LIMITS.maxAttributeValueBytes} bytes]`,
    );
    expect([row.n, row.start]).toEqual(['9007199254740993', '1767225600000000001']);
  });
});

describe('quoteBigIntegers', () => {
  it('quotes bare integers of 16+ digits outside strings, and nothing else', () => {
    const cases: Array<[string, string]> = [
      ['{"t":1767225600000000001}', '{"t":"1767225600000000001"}'],
      ['[-9223372036854775808,9223372036854775807]', '["-9223372036854775808","9223372036854775807"]'],
      ['[123456789012345,1234567890123456]', '[123456789012345,"1234567890123456"]'],
      [
        '[0.30000000000000004,1e-1234567890123456,1E+1234567890123456,12345678901234567.5,12345678901234567e3]',
        '[0.30000000000000004,1e-1234567890123456,1E+1234567890123456,12345678901234567.5,12345678901234567e3]',
      ],
      [
        '{"s":"1767225600000000001","e":"\\"1767225600000000001\\\\","k":1767225600000000001}',
        '{"s":"1767225600000000001","e":"\\"1767225600000000001\\\\","k":"1767225600000000001"}',
      ],
      ['--1234567890123456789', '--1234567890123456789'],
    ];
    for (const [text, quoted] of cases) expect(quoteBigIntegers(text), text).toBe(quoted);
  });

  it('agrees with the regex it replaced on random text of quotes, escapes, digits and line breaks', () => {
    let seed = 20260101;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const atoms = [
      '"',
      '\\',
      '\\"',
      '\n',
      '\r',
      '\u2028',
      '-',
      '.',
      'e',
      'E',
      '+',
      ' ',
      ':',
      'x',
      '1234567890123456',
      '12345678',
      '9',
    ];
    for (let i = 0; i < 20_000; i++) {
      let text = '';
      for (let n = 1 + rand(24); n > 0; n--) text += atoms[rand(atoms.length)];
      expect(quoteBigIntegers(text), JSON.stringify(text)).toBe(quoteByRegex(text));
    }
  });

  it('agrees with the regex on an unterminated string, whose digits the regex then quotes', () => {
    for (const text of [
      '["a", "b 12345678901234567',
      '"\\\n 12345678901234567 "x"',
      '"x\\',
      '"a\\"12345678901234567"',
      '"\\\u2028"1234567890123456789"',
    ]) {
      expect(quoteBigIntegers(text), JSON.stringify(text)).toBe(quoteByRegex(text));
    }
  });

  it('scans long strings in linear time without recursion', () => {
    const text = `{"a":"${'\\"x'.repeat(4 * MIB)}","b":1767225600000000001,"c":"${'9'.repeat(16 * MIB)}"}`;
    const started = performance.now();
    const quoted = quoteBigIntegers(text);
    expect(quoted.length).toBe(text.length + 2);
    expect(quoted.slice(text.indexOf('"b"'), text.indexOf('"b"') + 25)).toBe('"b":"1767225600000000001"');
    expect(performance.now() - started).toBeLessThan(5_000); // well under a second here; a quadratic scan would take minutes
  });
});
