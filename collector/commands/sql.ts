/**
 * `sessiongraph sql "<query>"`: runs read-only SQL through a running collector's `/api/sql`
 * (the embedded engine's data directory is held by the collector process, so the CLI asks it).
 */
import { formatTable } from './format-table.ts';

/** Options shared by the commands that talk to a running collector. */
export interface ClientOptions {
  url: string;
  json: boolean;
  /** API key sent as `Authorization: Bearer …` (--api-key or SESSIONGRAPH_API_KEY). */
  apiKey: string | undefined;
  /** Erase without asking (--yes). */
  yes?: boolean;
}

/** Request headers carrying the API key, if one is set. */
export function authHeaders(options: ClientOptions): Record<string, string> {
  return options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
}

/** Runs the query and prints a table (or JSON); returns the exit code. */
export async function sqlCommand(query: string, options: ClientOptions): Promise<number> {
  let res: Response;
  try {
    res = await fetch(`${options.url}/api/sql`, {
      method: 'POST',
      body: query,
      headers: { 'content-type': 'text/plain', ...authHeaders(options) },
    });
  } catch (err) {
    process.stderr.write(
      `sessiongraph: cannot reach the collector at ${options.url}: ${(err as Error).message} (is it running? set --url or SESSIONGRAPH_URL)\n`,
    );
    return 1;
  }
  const body = (await res.json()) as {
    rows?: Array<Record<string, unknown>>;
    columns?: Array<{ name: string }>;
    truncated?: boolean;
    error?: { message: string };
  };
  if (!res.ok || !body.rows) {
    process.stderr.write(`sessiongraph: ${body.error?.message ?? `HTTP ${res.status}`}\n`);
    return 1;
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(body.rows, null, 2)}\n`);
  } else {
    process.stdout.write(
      formatTable(
        (body.columns ?? []).map((c) => c.name),
        body.rows,
      ),
    );
    if (body.truncated) process.stdout.write(`(first ${body.rows.length} rows shown)\n`);
  }
  return 0;
}
