/**
 * Read-only SQL for `POST /api/sql` and `sessiongraph sql` (SPEC §6, §7). The user's query is
 * checked to be exactly one SELECT, then run as a subquery under `readonly = 1` (which also
 * refuses table functions such as file() and url()) with time, row and memory limits given in
 * the statement itself, never as connection settings (chDB would keep them for later calls).
 * `final = 1` reads every Replacing/AggregatingMergeTree table as with FINAL, so an SRE's query
 * counts each session once even without writing FINAL.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { BadDataError } from '../errors.ts';

/** Limits applied to every read-only query. */
export interface SqlLimits {
  maxRows: number;
  maxExecutionSeconds: number;
  maxMemoryBytes: number;
}

/** Defaults: 10,000 rows returned, 10 s, 1 GiB. */
export const DEFAULT_SQL_LIMITS: SqlLimits = { maxRows: 10_000, maxExecutionSeconds: 10, maxMemoryBytes: 1024 ** 3 };

/** Result of a read-only query: column names and types, rows as objects, and whether rows were cut at maxRows. */
export interface SqlResult {
  columns: Array<{ name: string; type: string }>;
  rows: Array<Record<string, unknown>>;
  truncated: boolean;
}

/**
 * Returns the query without trailing semicolons if it is a single SELECT/WITH statement that
 * cannot step outside its subquery; throws BadDataError saying why otherwise.
 */
export function checkReadOnlyQuery(sql: string): string {
  const text = sql.trim().replace(/[;\s]+$/, '');
  if (text === '') throw new BadDataError('empty query');
  let depth = 0;
  let previous = '';
  for (let i = 0; i < text.length; ) {
    const ch = text[i] ?? '';
    const next = text[i + 1] ?? '';
    if (ch === "'" || ch === '"' || ch === '`') {
      i = skipQuoted(text, i, ch);
      previous = ch;
      continue;
    }
    if ((ch === '-' && next === '-') || ch === '#') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new BadDataError('unterminated /* comment');
      i = end + 2;
      continue;
    }
    if (ch === ';') throw new BadDataError('only one statement is allowed');
    if (ch === '$') throw new BadDataError('$ (heredoc strings, parameters) is not allowed here; use plain quoted strings');
    if (ch === '(') depth++;
    if (ch === ')' && --depth < 0) throw new BadDataError('unbalanced parentheses');
    if (/[A-Za-z_]/.test(ch)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))?.[0] ?? ch;
      if (word.toLowerCase() === 'settings' && previous !== '.') {
        throw new BadDataError('SETTINGS clauses are not allowed: queries run with fixed read-only limits');
      }
      i += word.length;
      previous = word;
      continue;
    }
    if (!/\s/.test(ch)) previous = ch;
    i++;
  }
  if (depth !== 0) throw new BadDataError('unbalanced parentheses');
  if (!/^(\(\s*)*(select|with)\b/i.test(text.replace(/^(--[^\n]*\n|\/\*[\s\S]*?\*\/|\s)+/, ''))) {
    throw new BadDataError('only SELECT queries are allowed (read-only)');
  }
  return text;
}

function skipQuoted(text: string, start: number, quote: string): number {
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      i++;
    } else if (ch === quote) {
      if (text[i + 1] === quote) i++;
      else return i + 1;
    }
  }
  throw new BadDataError(`unterminated ${quote} quote`);
}

/** Runs a checked read-only query with the limits inside the statement. */
export async function runReadOnlyQuery(client: ClickHouseClient, sql: string, limits: SqlLimits = DEFAULT_SQL_LIMITS): Promise<SqlResult> {
  const inner = checkReadOnlyQuery(sql);
  // Newlines around the user's text: a trailing `--` comment cannot swallow the limits.
  const query = `SELECT * FROM (\n${inner}\n)\nLIMIT ${limits.maxRows + 1}\nSETTINGS readonly = 1, max_execution_time = ${limits.maxExecutionSeconds}, max_memory_usage = ${limits.maxMemoryBytes}, max_result_rows = ${limits.maxRows + 1}, output_format_json_quote_64bit_integers = 1, final = 1`;
  const result = await client.query({ query, format: 'JSON' });
  const json = await result.json<Record<string, unknown>>();
  const rows = json.data;
  const truncated = rows.length > limits.maxRows;
  return { columns: json.meta ?? [], rows: truncated ? rows.slice(0, limits.maxRows) : rows, truncated };
}
