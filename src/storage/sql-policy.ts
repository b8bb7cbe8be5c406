/**
 * What a read-only query (`POST /api/sql`) may contain, decided on ClickHouse's own parse of
 * it (SPEC §7): the engine formats the query (`formatQuery`, one statement or a syntax error)
 * and prints its syntax tree (`EXPLAIN AST`); this module reads that tree and allows only
 * node kinds known to print all their children, functions from an allow-list built from the
 * engine's catalogue (`system.functions` by category), harmless table functions, and tables
 * of the collector's database plus a few system tables. Pure: no I/O.
 *
 * Why the tree and not our own lexer: ClickHouse nests comments, accepts Unicode quotes and
 * heredocs, and a hand-written lexer that disagrees with it lets a second statement through.
 * Why an allow-list of node kinds: some nodes do not print their children (`* APPLY file`
 * prints only `ColumnsApplyTransformer`), so a kind not verified here is refused.
 */

/** The allow-lists a query is checked against, loaded once from the engine. */
export interface SqlPolicy {
  /** Lower-case names of allowed functions (scalar and aggregate) and table functions. */
  readonly functions: ReadonlySet<string>;
  /** Lower-case names of allowed aggregate functions, for combinators such as `countIf`. */
  readonly aggregates: ReadonlySet<string>;
  /** Every database the engine knows: a column `db.table.col` must not name another one. */
  readonly databases: ReadonlySet<string>;
}

/** One row of `system.functions`. */
export interface FunctionRow {
  name: string;
  is_aggregate: number;
  categories: string;
  alias_to: string;
}

// Categories of pure computations: no file, network, dictionary, server or model access.
const SAFE_CATEGORIES = new Set([
  'Aggregate Functions',
  'Type Conversion',
  'Dates and Times',
  'Arrays',
  'String',
  'Geo',
  'Hash',
  'String Search',
  'JSON',
  'URL',
  'Mathematical',
  'Arithmetic',
  'Geo Polygon',
  'Map',
  'IP Address',
  'Comparison',
  'Tuple',
  'Distance',
  'Random Number',
  'Bitmap',
  'NumericIndexedVector',
  'Bit',
  'Encoding',
  'UUID',
  'String Splitting',
  'Null',
  'String Replacement',
  'Rounding',
  'Time Window',
  'Conditional',
  'Financial',
  'Logical',
  'QBit',
  'Time Series',
]);

// From "Other" and "Internal" (which also hold file, sleep, joinGet, getServerSetting, …):
// the pure ones an SRE uses.
const SAFE_OTHERS = [
  '_CAST',
  'caseWithExpression',
  'nested',
  'bar',
  'blockNumber',
  'blockSize',
  'byteSize',
  'countDigits',
  'currentDatabase',
  'defaultValueOfArgumentType',
  'defaultValueOfTypeName',
  'digits',
  'errorCodeToName',
  'finalizeAggregation',
  'formatReadableDecimalSize',
  'formatReadableQuantity',
  'formatReadableSize',
  'formatReadableTimeDelta',
  'identity',
  'ignore',
  'initializeAggregation',
  'isConstant',
  'isDecimalOverflow',
  'materialize',
  'neighbor',
  'parseReadableSize',
  'parseReadableSizeOrNull',
  'parseReadableSizeOrZero',
  'parseTimeDelta',
  'rowNumberInAllBlocks',
  'rowNumberInBlock',
  'runningAccumulate',
  'runningConcurrency',
  'runningDifference',
  'runningDifferenceStartingWithFirstValue',
  'throwIf',
  'toColumnTypeName',
  'toTypeName',
  'transform',
  'variantElement',
  'variantType',
  'version',
  'visibleWidth',
  'lambda',
];

/** Table functions that generate rows and read nothing. */
const SAFE_TABLE_FUNCTIONS = [
  'numbers',
  'numbers_mt',
  'zeros',
  'zeros_mt',
  'generateSeries',
  'generate_series',
  'values',
  'primes',
];

/**
 * Tables of the collector's database that read-only SQL may not read: the erasure records need
 * the `admin` scope (`GET /api/erasures`), and `/api/sql` only the `read` one.
 */
export const ADMIN_TABLES = new Set(['erasures']);

/** System tables an SRE reads for storage figures; the rest (query_log, processes, users…) stay closed. */
export const READABLE_SYSTEM_TABLES = new Set(['one', 'numbers', 'parts', 'columns', 'tables']);

// Aggregate combinator suffixes (ClickHouse "Aggregate function combinators"), longest first.
const COMBINATORS = [
  'simplestate',
  'mergestate',
  'ordefault',
  'resample',
  'distinct',
  'foreach',
  'ornull',
  'argmin',
  'argmax',
  'state',
  'merge',
  'array',
  'map',
  'if',
];

// Node kinds of EXPLAIN AST verified to print every child expression (see the file comment).
const ALLOWED_NODES = new Set([
  'SelectWithUnionQuery',
  'SelectIntersectExceptQuery',
  'SelectQuery',
  'ExpressionList',
  'Literal',
  'Identifier',
  'TableIdentifier',
  'Function',
  'TablesInSelectQuery',
  'TablesInSelectQueryElement',
  'TableExpression',
  'TableJoin',
  'ArrayJoin',
  'Subquery',
  'WithElement',
  'Asterisk',
  'QualifiedAsterisk',
  'ColumnsTransformerList',
  'ColumnsExceptTransformer',
  'ColumnsReplaceTransformer',
  'ColumnsReplaceTransformer::Replacement',
  'ColumnsRegexpMatcher',
  'QualifiedColumnsRegexpMatcher',
  'ColumnsListMatcher',
  'QualifiedColumnsListMatcher',
  'WindowDefinition',
  'WindowListElement',
  'OrderByElement',
  'InterpolateElement',
  'SampleRatio',
]);

/** Builds the policy from `system.functions` rows and the database names. */
export function buildSqlPolicy(rows: readonly FunctionRow[], databases: readonly string[]): SqlPolicy {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const isSafe = (row: FunctionRow | undefined, depth = 0): boolean => {
    if (!row || depth > 3) return false;
    if (row.alias_to) return isSafe(byName.get(row.alias_to), depth + 1);
    return SAFE_CATEGORIES.has(row.categories) || SAFE_OTHERS.includes(row.name);
  };
  const allowed = new Set<string>();
  const denied = new Set<string>();
  for (const row of rows) (isSafe(row) ? allowed : denied).add(row.name.toLowerCase());
  for (const name of [...SAFE_OTHERS, ...SAFE_TABLE_FUNCTIONS]) allowed.add(name.toLowerCase());
  // Names are compared case-insensitively, so a safe name must not collide with a denied one.
  for (const name of denied) allowed.delete(name);
  const aggregates = new Set(
    rows.filter((r) => r.is_aggregate && allowed.has(r.name.toLowerCase())).map((r) => r.name.toLowerCase()),
  );
  return { functions: allowed, aggregates, databases: new Set(databases) };
}

/** True when `name` (any case) is an allowed function, or an allowed aggregate with combinators. */
function isAllowedFunction(name: string, policy: SqlPolicy): boolean {
  let rest = name.toLowerCase();
  if (policy.functions.has(rest)) return true;
  for (let guard = 0; guard < 4; guard++) {
    const suffix = COMBINATORS.find((c) => rest.endsWith(c) && rest.length > c.length);
    if (!suffix) return false;
    rest = rest.slice(0, -suffix.length);
    if (policy.aggregates.has(rest)) return true;
  }
  return false;
}

/**
 * Checks the `EXPLAIN AST` text of a formatted query; returns why it is refused, or undefined
 * when it may run. Every line is one node (`<indent><Kind>[ <name>][ (alias …)][ (children N)]`);
 * an alias holding a newline only adds lines, which can only cause a refusal, never hide a node.
 */
export function refusalOf(ast: string, policy: SqlPolicy, database: string): string | undefined {
  const lines = ast.split('\n').filter((l) => l.trim() !== '');
  const first = lines[0]?.trim() ?? '';
  if (!/^SelectWithUnionQuery( \(children 1\))?$/.test(first)) {
    return first.startsWith('SelectWithUnionQuery')
      ? 'FORMAT and INTO OUTFILE clauses are not allowed: the answer is always JSON'
      : `only SELECT queries are allowed (read-only); this is a ${first.split(' ')[0] || 'empty'} statement`;
  }
  for (const line of lines) {
    const m = /^ *(\S+)(?: (.*))?$/.exec(line);
    const kind = m?.[1] ?? '';
    const rest = m?.[2] ?? '';
    if (kind === 'Set') return 'SETTINGS clauses are not allowed: queries run with fixed read-only limits';
    if (kind === 'ColumnsApplyTransformer')
      return 'APPLY is not allowed here; call the function on the columns instead';
    if (!ALLOWED_NODES.has(kind)) return `this SQL construct is not allowed in read-only queries (${kind})`;
    if (kind === 'Function') {
      const name = /^([A-Za-z_][A-Za-z0-9_]*)(?: \(|$)/.exec(rest)?.[1];
      if (!name || !isAllowedFunction(name, policy))
        return `function ${name ?? rest.split(' ')[0]} is not allowed in read-only queries (no file, network, dictionary or server access)`;
    }
    if (kind === 'TableIdentifier' || kind === 'Identifier') {
      const why = identifierRefusal(kind, rest.replace(/ \((alias|children) .*$/s, ''), policy, database);
      if (why) return why;
    }
  }
  return undefined;
}

function identifierRefusal(kind: string, name: string, policy: SqlPolicy, database: string): string | undefined {
  const parts = name.split('.');
  const ownTable =
    kind === 'TableIdentifier' && (parts.length === 1 || parts[0] === database) ? parts.at(-1) : undefined;
  if (ownTable !== undefined && ADMIN_TABLES.has(ownTable))
    return `${ownTable} holds the erasure records, which need the admin scope: GET /api/erasures`;
  if (parts.length < 2) return undefined; // unqualified: the collector's database, or a WITH name
  const [db = '', table = ''] = parts;
  if (db === database) return undefined;
  if (db === 'system' && READABLE_SYSTEM_TABLES.has(table)) return undefined;
  // A column `alias.col` is fine; a qualified name starting with another database is not.
  if (kind === 'Identifier' && !policy.databases.has(db) && !/^(system|information_schema)$/i.test(db))
    return undefined;
  return `only tables of the ${database} database (and system.${[...READABLE_SYSTEM_TABLES].join(', system.')}) can be read; not ${db}.${table}`;
}
