/**
 * Big-integer quoting for the OTLP/JSON decoder: one linear pass, no regex, no recursion, so a
 * string of many megabytes costs its length and nothing more.
 */

/**
 * `JSON.parse` rounds integers beyond 2^53 (nanosecond times, int64 attributes). Quote every
 * bare integer literal of 16+ digits first — not the digits of a fraction or an exponent, and
 * nothing inside a string literal — so that it parses as an exact string.
 */
export function quoteBigIntegers(text: string): string {
  if (!/\d{16}/.test(text)) return text;
  // One forward pass, no regex over string contents: the former `"(?:[^"\\]|\\.)*"|…` regex
  // overflowed V8's stack on a ~9 MB string literal, turning a valid request into a 400.
  const literals = new StringLiterals(text);
  let out = '';
  let copied = 0; // text[0, copied) is in `out` already
  let plainUntil = 0; // a '"' before this index cannot open a literal (see StringLiterals)
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE && i >= plainUntil) {
      const close = literals.closeOf(i);
      if (close >= 0) {
        i = close + 1;
      } else {
        plainUntil = literals.unterminatedAt; // the regex went on after the '"' as if outside a string
        i++;
      }
    } else if (c === MINUS || isDigit(c)) {
      const digits = c === MINUS ? i + 1 : i;
      const end = digitsEnd(text, digits);
      if (end - digits >= 16 && startsNumber(text, i) && !continuesNumber(text, end)) {
        out += `${text.slice(copied, i)}"${text.slice(i, end)}"`;
        copied = end;
      }
      i = Math.max(end, i + 1); // digits inside a run, or after a refused '-', never start a number
    } else {
      i++;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}

const QUOTE = 0x22;
const MINUS = 0x2d;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function digitsEnd(text: string, from: number): number {
  let end = from;
  while (end < text.length && isDigit(text.charCodeAt(end))) end++;
  return end;
}

/** A run of digits at `at` is a whole number, not the tail of a number, fraction or exponent. */
function startsNumber(text: string, at: number): boolean {
  if (at === 0) return true;
  const c = text.charCodeAt(at - 1);
  return !(isDigit(c) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === MINUS); // . e E + -
}

/** An integer ending at `at` goes on as a fraction or an exponent (`1234567890123456.5`, `…e3`). */
function continuesNumber(text: string, at: number): boolean {
  const c = text.charCodeAt(at); // NaN past the end
  return c === 0x2e || c === 0x65 || c === 0x45;
}

/**
 * Finds where JSON string literals end, with the semantics of the regex `"(?:[^"\\]|\\.)*"` (so
 * which integers are quoted did not change) in linear time: a backslash escapes the next code
 * unit unless that is a line terminator or the end of the text. Such a literal is unterminated,
 * and every '"' before the failing point is then unterminated too, being escaped within it.
 * The next '"' and '\' are searched with `indexOf` and remembered, so every character is looked
 * at a bounded number of times however the literals are laid out.
 */
class StringLiterals {
  /** Where the last unterminated literal failed: quotes before it open no literal. */
  unterminatedAt = 0;
  private nextQuote = -1;
  private nextBackslash = -1;

  constructor(private readonly text: string) {}

  /** Index of the '"' closing the literal opened at `open`, or -1 when it is unterminated. */
  closeOf(open: number): number {
    const t = this.text;
    for (let pos = open + 1; ;) {
      if (this.nextQuote < pos) this.nextQuote = indexOrEnd(t, '"', pos);
      if (this.nextBackslash < pos) this.nextBackslash = indexOrEnd(t, '\\', pos);
      const q = this.nextQuote;
      const b = this.nextBackslash;
      if (q < b) return q;
      const escaped = b + 1 < t.length ? t.charCodeAt(b + 1) : -1; // -1 also when no '"' or '\' is left
      if (escaped === -1 || isLineTerminator(escaped)) {
        this.unterminatedAt = b;
        return -1;
      }
      pos = b + 2;
    }
  }
}

function indexOrEnd(text: string, char: string, from: number): number {
  const at = text.indexOf(char, from);
  return at < 0 ? text.length : at;
}

/** What a regex `.` does not match without the `s` flag: \n, \r, U+2028, U+2029. */
function isLineTerminator(c: number): boolean {
  return c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029;
}
