/**
 * The read-only SQL policy on `EXPLAIN AST` texts as the engine prints them (copied from chDB
 * 26.7 output): what runs, what is refused and why.
 */
import { describe, expect, it } from 'vitest';
import { buildSqlPolicy, refusalOf, type FunctionRow } from '../../src/storage/sql-policy.ts';

const fn = (name: string, categories: string, is_aggregate = 0, alias_to = ''): FunctionRow => ({
  name,
  categories,
  is_aggregate,
  alias_to,
});
const policy = buildSqlPolicy(
  [
    fn('count', 'Aggregate Functions', 1),
    fn('sum', 'Aggregate Functions', 1),
    fn('quantile', 'Aggregate Functions', 1),
    fn('plus', 'Arithmetic'),
    fn('in', 'Comparison'),
    fn('toString', 'Type Conversion'),
    fn('file', 'Other'),
    fn('url', ''),
    fn('sleep', 'Other'),
    fn('throwIf', 'Other'),
    fn('dictGet', 'Dictionary'),
    fn('aiGenerate', 'AI'),
    fn('AIGenerate', '', 0, 'aiGenerate'),
    fn('SUBSTR', '', 0, 'substring'),
    fn('substring', 'String'),
  ],
  ['system', 'default', 'sessiongraph', 'INFORMATION_SCHEMA', 'information_schema'],
);
const check = (ast: string): string | undefined => refusalOf(ast.replace(/^\n/, ''), policy, 'sessiongraph');

const select = (expression: string, from = '      TableIdentifier otel_traces'): string => `
SelectWithUnionQuery (children 1)
 ExpressionList (children 1)
  SelectQuery (children 2)
   ExpressionList (children 1)
${expression}
   TablesInSelectQuery (children 1)
    TablesInSelectQueryElement (children 1)
     TableExpression (children 1)
${from}`;

describe('refusalOf', () => {
  it('lets a plain read of the collector’s tables through, with allowed functions and combinators', () => {
    expect(
      check(select('    Function countIf (children 1)\n     ExpressionList (children 1)\n      Identifier x')),
    ).toBeUndefined();
    expect(check(select('    Function sumOrNullIf (children 1)\n     ExpressionList'))).toBeUndefined();
    expect(
      check(select('    Function quantile (children 2)\n     ExpressionList\n     ExpressionList')),
    ).toBeUndefined();
    expect(check(select('    Function SUBSTR (children 1)\n     ExpressionList'))).toBeUndefined();
    expect(
      check(select('    Identifier s.cost (alias c)', '      TableIdentifier sessiongraph.agent_sessions (alias s)')),
    ).toBeUndefined();
    expect(check(select('    Literal UInt64_1', '      TableIdentifier system.parts'))).toBeUndefined();
    expect(
      check(
        select(
          '    Literal UInt64_1',
          '      Function numbers (children 1)\n       ExpressionList (children 1)\n        Literal UInt64_10',
        ),
      ),
    ).toBeUndefined();
  });

  it('refuses file, network, dictionary, AI and server functions in any case, and aliases of them', () => {
    for (const name of [
      'file',
      'FILE',
      'File',
      'url',
      'sleep',
      'dictGet',
      'aiGenerate',
      'AIGenerate',
      'remote',
      'getServerSetting',
      'sumFile',
    ]) {
      expect(check(select(`    Function ${name} (children 1)\n     ExpressionList`)), name).toMatch(
        new RegExp(`function ${name} is not allowed`),
      );
    }
  });

  it('refuses other statements, SETTINGS, FORMAT and INTO OUTFILE', () => {
    expect(check('DropQuery  otel_traces')).toMatch(/only SELECT.*DropQuery/);
    expect(check('Explain EXPLAIN (children 1)\n SelectWithUnionQuery (children 1)')).toMatch(/only SELECT/);
    expect(check(`${select('    Literal UInt64_1')}\n   Set`)).toMatch(/SETTINGS clauses are not allowed/);
    expect(
      check(
        select('    Literal UInt64_1').replace(
          'SelectWithUnionQuery (children 1)',
          'SelectWithUnionQuery (children 2)',
        ) + '\n Identifier JSON',
      ),
    ).toMatch(/FORMAT and INTO OUTFILE/);
  });

  it('refuses node kinds that do not print their children (APPLY) and any kind it does not know', () => {
    expect(
      check(
        select('    Asterisk (children 1)\n     ColumnsTransformerList (children 1)\n      ColumnsApplyTransformer'),
      ),
    ).toMatch(/APPLY is not allowed/);
    expect(check(select('    SomeFutureNode (children 1)'))).toMatch(
      /not allowed in read-only queries \(SomeFutureNode\)/,
    );
  });

  it('refuses tables of other databases and closed system tables, also behind IN', () => {
    expect(check(select('    Literal UInt64_1', '      TableIdentifier system.query_log'))).toMatch(
      /only tables of the sessiongraph database/,
    );
    expect(check(select('    Literal UInt64_1', '      TableIdentifier default.t'))).toMatch(/not default\.t/);
    expect(
      check(
        select(
          '    Function in (children 1)\n     ExpressionList (children 2)\n      Literal UInt64_1\n      Identifier system.processes',
        ),
      ),
    ).toMatch(/not system\.processes/);
  });

  it('an alias holding a newline can add lines, never hide one: a fake function line is refused, not trusted', () => {
    const injected = select('    Function count (alias a\nFunction x) (children 2)\n     ExpressionList');
    expect(check(injected)).toMatch(/not allowed/);
    const hidden = select(
      '    Identifier x (alias a\n   Literal x)\n    Function file (children 1)\n     ExpressionList',
    );
    expect(check(hidden)).toMatch(/function file is not allowed/);
  });

  it('a case-insensitive collision with a refused name is never allowed', () => {
    const p = buildSqlPolicy([fn('File', 'String'), fn('file', 'Other')], []);
    expect(
      refusalOf(select('    Function File (children 1)\n     ExpressionList').slice(1), p, 'sessiongraph'),
    ).toMatch(/not allowed/);
  });
});
