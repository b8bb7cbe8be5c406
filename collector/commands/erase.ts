/**
 * `sessiongraph erase --user-id X | --conversation-id Y | --session ID [--graph keep|remove] [--yes]`:
 * erasure on request through the running collector (`DELETE /api/sessions?…`, admin scope). It
 * shows what matches and asks before erasing — unless `--yes`; with no terminal to ask, it
 * refuses without `--yes` — then prints the rows of each table before and after.
 */
import { createInterface } from 'node:readline/promises';
import { authHeaders, type ClientOptions } from './sql.ts';
import { formatTable } from './format-table.ts';

type Json = Record<string, unknown>;

const fail = (message: string, code = 1): number => {
  process.stderr.write(`sessiongraph: ${message}\n`);
  return code;
};

async function call(
  options: ClientOptions,
  method: 'GET' | 'DELETE',
  path: string,
): Promise<{ status: number; body: Json } | undefined> {
  try {
    const res = await fetch(`${options.url}${path}`, { method, headers: authHeaders(options) });
    return { status: res.status, body: (await res.json()) as Json };
  } catch (err) {
    fail(
      `cannot reach the collector at ${options.url}: ${(err as Error).message} (is it running? set --url or SESSIONGRAPH_URL)`,
    );
    return undefined;
  }
}

/** Runs the erase command; `filters` holds user_id / conversation_id / session and graph. */
export async function eraseCommand(
  options: ClientOptions & { yes?: boolean },
  filters: Record<string, string>,
): Promise<number> {
  const given = (['user_id', 'conversation_id', 'session'] as const).filter((k) => filters[k]);
  if (given.length !== 1)
    return fail('erase needs exactly one of --user-id, --conversation-id or --session (see sessiongraph --help)', 2);
  const key = given[0] as 'user_id' | 'conversation_id' | 'session';
  const value = filters[key] ?? '';
  const graph = filters.graph ?? 'remove';
  if (graph !== 'keep' && graph !== 'remove')
    return fail(`--graph must be keep or remove, got ${JSON.stringify(graph)}`, 2);

  // What matches, shown before anything is erased.
  const preview = await call(
    options,
    'GET',
    key === 'session'
      ? `/api/sessions/${encodeURIComponent(value)}`
      : `/api/sessions?${new URLSearchParams({ [key]: value, limit: '500' }).toString()}`,
  );
  if (!preview) return 1;
  if (preview.status === 404) return fail(`no session matches ${key.replace('_', '-')} ${JSON.stringify(value)}`, 3);
  if (preview.status !== 200)
    return fail(String((preview.body.error as Json | undefined)?.message ?? `HTTP ${preview.status}`));
  const sessions = key === 'session' ? [preview.body.session as Json] : (preview.body.sessions as Json[]);
  if (sessions.length === 0) return fail(`no session matches ${key.replace('_', '-')} ${JSON.stringify(value)}`, 3);
  const more = key !== 'session' && preview.body.next_cursor ? ' (and more)' : '';
  if (!options.json) {
    process.stdout.write(`${sessions.length}${more} session(s) match:\n`);
    process.stdout.write(
      formatTable(
        ['id', 'session_start', 'agent_name', 'session_status', 'conversation_id', 'user_id'],
        sessions.slice(0, 20),
      ),
    );
    process.stdout.write(
      `Their spans, facts, log records and texts will be erased; the graph nodes will be ${graph === 'remove' ? 'removed' : 'kept without personal fields'}.\n`,
    );
  }
  if (!options.yes) {
    if (!process.stdin.isTTY) return fail('refusing to erase without confirmation: no terminal to ask; pass --yes', 2);
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question('Erase them? Type "yes" to go on: ');
    rl.close();
    if (answer.trim().toLowerCase() !== 'yes') return fail('nothing erased', 1);
  }

  const param = key === 'session' ? 'session_id' : key;
  const done = await call(
    options,
    'DELETE',
    `/api/sessions?${new URLSearchParams({ [param]: value, graph }).toString()}`,
  );
  if (!done) return 1;
  if (done.status !== 200)
    return fail(
      String((done.body.error as Json | undefined)?.message ?? `HTTP ${done.status}`),
      done.status === 404 ? 3 : 1,
    );
  if (options.json) return (process.stdout.write(`${JSON.stringify(done.body, null, 2)}\n`), 0);
  const before = done.body.rows_before as Record<string, number>;
  const after = done.body.rows_after as Record<string, number>;
  process.stdout.write(`\nErased ${String(done.body.sessions)} session(s); erasure record ${String(done.body.id)}\n`);
  process.stdout.write(
    formatTable(
      ['table', 'before', 'after'],
      Object.keys(before).map((table) => ({ table, before: before[table], after: after[table] })),
    ),
  );
  const left = Object.entries(after).filter(
    ([table, n]) => n > 0 && !(graph === 'keep' && ['agent_sessions', 'decisions', 'graph_edges'].includes(table)),
  );
  if (left.length > 0) return fail(`rows remain after the erasure: ${left.map(([t, n]) => `${t} ${n}`).join(', ')}`);
  return 0;
}
