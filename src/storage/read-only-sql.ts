/**
 * Read-only SQL for `POST /api/sql` and `sessiongraph sql` (SPEC §6, §7). ClickHouse's own
 * parser decides what the text is: `formatQuery` (the text bound as a parameter, never run)
 * turns it into one canonical statement or refuses it, `EXPLAIN AST` of that statement is
 * checked by sql-policy.ts, and only that canonical statement runs, wrapped as a subquery
 * with `readonly = 1` and the limits inside the statement (chDB would keep connection
 * settings for later calls). `final = 1` reads Replacing/AggregatingMergeTree tables as with
 * FINAL, so an SRE's query counts each session once without writing FINAL.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { BadDataError } from '../errors.ts';
import { isEngineError } from './clickhouse-error.ts';
import { buildSqlPolicy, refusalOf, type FunctionRow, type SqlPolicy } from './sql-policy.ts';

/** Limits applied to every read-only query. */
export interface SqlLimits {
  maxRows: number;
  maxExecutionSeconds: number;
  maxMemoryBytes: number;
  /** Largest answer: the engine stops past it, and a larger JSON text is refused unparsed. */
  maxResultBytes: number;
}

/** Defaults: 10,000 rows, 10 s, 1 GiB of memory, 8 MiB of answer. */
export const DEFAULT_SQL_LIMITS: SqlLimits = {
  maxRows: 10_000,
  maxExecutionSeconds: 10,
  maxMemoryBytes: 1024 ** 3,
  maxResultBytes: 8 * 1024 ** 2,
};

/** Result of a read-only query: column names and types, rows as objects, and whether rows were cut at maxRows. */
export interface SqlResult {
  columns: Array<{ name: string; type: string }>;
  rows: Array<Record<string, unknown>>;
  truncated: boolean;
}

const policies = new WeakMap<object, Promise<SqlPolicy>>();

/** The policy for an engine, loaded once per key (the storage) from its catalogue. */
function policyFor(key: object, client: ClickHouseClient): Promise<SqlPolicy> {
  let policy = policies.get(key);
  if (!policy) {
    policy = (async () => {
      const functions = await (
        await client.query({
          query: 'SELECT name, is_aggregate, categories, alias_to FROM system.functions',
          format: 'JSONEachRow',
        })
      ).json<FunctionRow>();
      const databases = await (
        await client.query({ query: 'SELECT name FROM system.databases', format: 'JSONEachRow' })
      ).json<{ name: string }>();
      return buildSqlPolicy(
        functions,
        databases.map((d) => d.name),
      );
    })();
    policy.catch(() => policies.delete(key));
    policies.set(key, policy);
  }
  return policy;
}

/**
 * Returns the engine's canonical text of `sql` if it is one read-only SELECT that calls only
 * allowed functions and reads only allowed tables; throws BadDataError saying why otherwise.
 */
export async function checkReadOnlyQuery(
  client: ClickHouseClient,
  sql: string,
  database: string,
  policyKey: object = client,
): Promise<string> {
  if (sql.trim() === '') throw new BadDataError('empty query');
  const policy = await policyFor(policyKey, client);
  let formatted: string;
  let ast: string;
  try {
    const rows = await (
      await client.query({
        query: 'SELECT formatQuery({q:String}) AS f',
        query_params: { q: sql },
        format: 'JSONEachRow',
      })
    ).json<{ f: string }>();
    formatted = rows[0]?.f ?? '';
    // The formatted text is the engine's own rendering of exactly one statement, not the
    // user's text. EXPLAIN is run bare (`exec`, the format given as default_format): a FORMAT
    // clause would attach to the explained query, and `SELECT … FROM (EXPLAIN AST …)` prints a
    // different tree that leaves out window definitions (measured).
    const result = await client.exec({
      query: `EXPLAIN AST ${formatted}`,
      clickhouse_settings: { default_format: 'JSONEachRow' },
    });
    let text = '';
    for await (const chunk of result.stream) text += String(chunk);
    ast = text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { explain: string }).explain)
      .join('\n');
  } catch (err) {
    if (isRefusal(err)) throw new BadDataError(`query refused: ${engineMessage(err)}`, { cause: err });
    throw err;
  }
  const refusal = refusalOf(ast, policy, database);
  if (refusal) throw new BadDataError(refusal);
  return formatted;
}

/** How a read-only query runs: its limits, and whether the statement sets `readonly = 1` itself. */
export interface SqlRun {
  limits: SqlLimits;
  /**
   * False for a server user whose profile is read-only already: such a profile (`readonly = 2`,
   * so that the query may carry its limits) refuses a query that sets `readonly`.
   */
  setReadonly: boolean;
}

/** Runs a checked read-only query with the limits inside the statement. */
export async function runReadOnlyQuery(
  client: ClickHouseClient,
  sql: string,
  database: string,
  run: SqlRun = { limits: DEFAULT_SQL_LIMITS, setReadonly: true },
  policyKey: object = client,
): Promise<SqlResult> {
  const { limits } = run;
  const inner = await checkReadOnlyQuery(client, sql, database, policyKey);
  // `* APPLY materialize`: constant columns count as one value for max_result_bytes; the
  // materialised ones count what they really hold, so the engine stops a huge answer early.
  const query = `SELECT * APPLY materialize FROM (\n${inner}\n)\nLIMIT ${limits.maxRows + 1}\nSETTINGS ${run.setReadonly ? 'readonly = 1, ' : ''}max_execution_time = ${limits.maxExecutionSeconds}, max_memory_usage = ${limits.maxMemoryBytes}, max_result_bytes = ${limits.maxResultBytes}, max_threads = 1, output_format_json_quote_64bit_integers = 1, final = 1`;
  let text: string;
  try {
    const result = await client.query({ query, format: 'JSONCompact' });
    text = await result.text();
  } catch (err) {
    if (isEngineError(err) && err.code === '396') throw answerTooLarge(limits);
    if (isEngineError(err)) throw new BadDataError(`query failed: ${engineMessage(err)}`, { cause: err });
    throw err;
  }
  // Refused before parsing: parsing and re-serialising a huge answer would block the event loop.
  if (Buffer.byteLength(text) > limits.maxResultBytes) throw answerTooLarge(limits);
  const json = JSON.parse(text) as { meta: Array<{ name: string; type: string }>; data: unknown[][] };
  const columns = json.meta.map((c) => ({ name: c.name.replace(/^materialize\((.*)\)$/s, '$1'), type: c.type }));
  const truncated = json.data.length > limits.maxRows;
  const rows = (truncated ? json.data.slice(0, limits.maxRows) : json.data).map((values) =>
    Object.fromEntries(columns.map((c, i) => [c.name, values[i]])),
  );
  return { columns, rows, truncated };
}

function answerTooLarge(limits: SqlLimits): BadDataError {
  return new BadDataError(
    `the answer is larger than ${limits.maxResultBytes} bytes (--sql-max-result-size): select fewer columns or rows, or aggregate`,
  );
}

/** The engine refused the text; chDB's parameter binder reports some refusals as plain errors with the engine's message. */
function isRefusal(err: unknown): err is Error {
  return isEngineError(err) || (err instanceof Error && /^Code: \d+\. DB::Exception/.test(err.message));
}

function engineMessage(err: Error): string {
  return (err.message.split('\n')[0] ?? '').replace(/: In scope SELECT formatQuery\(.*$/s, '');
}
