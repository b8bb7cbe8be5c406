/**
 * The `sessiongraph` command (SPEC §6). `serve` (the default) runs the collector until
 * SIGTERM/SIGINT, then drains: stops accepting, stores what it accepted, closes storage, exits 0.
 */
import { ConfigError, describeOptions, parseConfig, parseFlags } from '../src/config.ts';
import { createConsoleLogger } from '../src/logger.ts';
import { PriceFileError } from '../src/pricing/price-file.ts';
import { UnsupportedServerError } from '../src/storage/schema.ts';
import { demoCommand } from './commands/demo.ts';
import {
  agentsCommand,
  decisionCommand,
  retentionCommand,
  sessionCommand,
  sessionsCommand,
  trendsCommand,
} from './commands/graph.ts';
import { sqlCommand, type ClientOptions } from './commands/sql.ts';
import { eraseCommand } from './commands/erase.ts';
import { startCollector, type RunningCollector } from './server.ts';

/** Longest a graceful shutdown may take before the process exits anyway (code 1). */
const SHUTDOWN_TIMEOUT_MS = 30_000;

const HELP = `sessiongraph — an OpenTelemetry trace collector for AI agents

Usage:
  sessiongraph [serve] [options]     run the collector (OTLP/HTTP on POST /v1/traces)
  sessiongraph sessions [--agent NAME|ID] [--status S] [--from ISO] [--to ISO]
                        [--trace-id HEX] [--conversation-id ID] [--limit N] [--cursor C]
                                     list agent sessions, newest first
  sessiongraph session <id>          one session: derived fields, decisions, transcript
  sessiongraph decision <id>         a decision with its session, agent definition and evidence
  sessiongraph agents                agent definitions with their session figures
  sessiongraph trends --metric cost|tokens|sessions|errors|error_rate|p95_duration
                      [--by agent|model|service|status|environment] [--bucket hour|day|week]
                      [--from ISO] [--to ISO] [--agent NAME|ID] [--model NAME]
                                     a metric over time, by group: a table and a bar chart
  sessiongraph retention             how long spans, content and the graph are kept; each table's TTL
  sessiongraph erase --user-id ID | --conversation-id ID | --session ID [--graph keep|remove] [--yes]
                                     erase the matching sessions' spans, facts, logs and texts (admin
                                     scope); shows what matches and asks first unless --yes
  sessiongraph sql "<query>"         run read-only SQL through a running collector
  sessiongraph demo [--sessions N] [--seed S] [--days D]
                                     send realistic agent sessions (default 60 over 30 days)
  sessiongraph --help                this text

All but serve ask a running collector: --url http://127.0.0.1:4318 (or SESSIONGRAPH_URL),
--api-key KEY (or SESSIONGRAPH_API_KEY) when the collector has keys (read scope; demo needs
ingest + read); --json prints the API's JSON instead of tables. Exit code 3 when an id is
not found.

With no options it listens on http://127.0.0.1:4318 and stores everything in an embedded
ClickHouse engine (chDB) under ./data. Set --clickhouse-url (CLICKHOUSE_URL) to use a
ClickHouse server instead.

Options (flag, then environment variable; flags win):
${describeOptions()}
`;

/** Runs the CLI with the given arguments; resolves to the process exit code for one-shot commands. */
export async function main(argv: readonly string[]): Promise<number | undefined> {
  const args = [...argv];
  if (args.includes('--help') || args.includes('-h') || args[0] === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const command = args[0] && !args[0].startsWith('-') ? args.shift() : 'serve';
  if (command === 'serve') return serve(args);
  const client = CLIENT_COMMANDS[command ?? ''];
  if (!client) return usageError(`unknown command ${JSON.stringify(command)}`);
  const parsed = parseClientArgs(args, client.filters ?? []);
  if (typeof parsed === 'string') return usageError(parsed);
  if (parsed.positional.length !== client.args.length)
    return usageError(`usage: sessiongraph ${command} ${client.args.join(' ')}`.trim());
  return client.run(parsed.options, parsed.positional, parsed.filters);
}

function usageError(message: string): number {
  process.stderr.write(`sessiongraph: ${message} (see sessiongraph --help)\n`);
  return 2;
}

interface ClientCommand {
  args: string[];
  filters?: string[];
  run(options: ClientOptions, positional: string[], filters: Record<string, string>): Promise<number>;
}

const CLIENT_COMMANDS: Record<string, ClientCommand> = {
  sessions: {
    args: [],
    filters: ['agent', 'status', 'from', 'to', 'trace-id', 'conversation-id', 'limit', 'cursor'],
    run: (o, _p, f) => sessionsCommand(o, f),
  },
  session: { args: ['<id>'], run: (o, [id]) => sessionCommand(o, id ?? '') },
  decision: { args: ['<id>'], run: (o, [id]) => decisionCommand(o, id ?? '') },
  agents: { args: [], run: (o) => agentsCommand(o) },
  retention: { args: [], run: (o) => retentionCommand(o) },
  erase: {
    args: [],
    filters: ['user-id', 'conversation-id', 'session', 'graph'],
    run: (o, _p, f) => eraseCommand(o, f),
  },
  trends: {
    args: [],
    filters: ['metric', 'by', 'bucket', 'from', 'to', 'agent', 'model'],
    run: (o, _p, f) => trendsCommand(o, f),
  },
  sql: { args: ['"<query>"'], run: (o, [query]) => sqlCommand(query ?? '', o) },
  demo: {
    args: [],
    filters: ['sessions', 'seed', 'days'],
    run: (o, _p, f) => {
      const int = (name: string, fallback: number, max: number): number | string => {
        const raw = f[name];
        if (raw === undefined) return fallback;
        return /^\d+$/.test(raw) && Number(raw) >= 1 && Number(raw) <= max
          ? Number(raw)
          : `--${name} must be an integer from 1 to ${max}, got ${JSON.stringify(raw)}`;
      };
      const options = {
        sessions: int('sessions', 60, 100_000),
        seed: int('seed', Date.now() % 1_000_000, 2 ** 31),
        days: int('days', 30, 365),
      };
      const bad = Object.values(options).find((v) => typeof v === 'string');
      if (typeof bad === 'string') return Promise.resolve(usageError(bad));
      return demoCommand(o, options as { sessions: number; seed: number; days: number });
    },
  },
};

/** Splits `--url U`, `--json`, the command's `--filter value` options and positional arguments. */
function parseClientArgs(
  args: string[],
  filterNames: readonly string[],
): { options: ClientOptions; positional: string[]; filters: Record<string, string> } | string {
  const filters: Record<string, string> = {};
  const port = process.env.SESSIONGRAPH_PORT ?? '4318';
  const options: ClientOptions = {
    url: process.env.SESSIONGRAPH_URL ?? `http://127.0.0.1:${port}`,
    json: false,
    apiKey: process.env.SESSIONGRAPH_API_KEY || undefined,
  };
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--json') options.json = true;
    else if (arg === '--yes' || arg === '-y') options.yes = true;
    else if (arg === '--url') options.url = args[++i] ?? '';
    else if (arg.startsWith('--url=')) options.url = arg.slice(6);
    else if (arg === '--api-key') options.apiKey = args[++i] ?? '';
    else if (arg.startsWith('--api-key=')) options.apiKey = arg.slice(10);
    else if (filterNames.includes(arg.slice(2))) filters[arg.slice(2).replace(/-/g, '_')] = args[++i] ?? '';
    else if (arg.startsWith('--')) return `unknown option ${arg}`;
    else positional.push(arg);
  }
  if (!/^https?:\/\/\S+$/.test(options.url)) return `--url must be an http(s) URL, got ${JSON.stringify(options.url)}`;
  options.url = options.url.replace(/\/+$/, '');
  return { options, positional, filters };
}

async function serve(args: string[]): Promise<number | undefined> {
  const logger = createConsoleLogger();
  let config;
  try {
    config = parseConfig(process.env, parseFlags(args));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sessiongraph: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // Signals are handled from the start: a SIGTERM during start-up stops the collector as soon
  // as it is up, rather than killing it half-started.
  let collector: RunningCollector | undefined;
  let stopping: string | undefined;
  const stop = (running: RunningCollector, signal: string): void => {
    logger.info(`${signal} received: draining`);
    // Bounded: requests in flight get their inserts, but a stuck storage cannot hold the exit forever.
    setTimeout(() => {
      logger.error(`shutdown did not finish within ${SHUTDOWN_TIMEOUT_MS / 1000} s: exiting`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    running
      .close()
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error('shutdown failed', { error: String(err) });
        process.exit(1);
      });
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      stopping = signal;
      if (collector) stop(collector, signal);
    });
  }
  try {
    collector = await startCollector(config, logger);
  } catch (err) {
    if (err instanceof PriceFileError) {
      process.stderr.write(`sessiongraph: --prices ${err.message}\n`);
      return 2;
    }
    const reason = err instanceof UnsupportedServerError ? err.message : `cannot start: ${(err as Error).message}`;
    process.stderr.write(`sessiongraph: ${reason}\n`);
    return 1;
  }
  logger.info(`sessiongraph listening on ${collector.url}`, {
    otlp: `${collector.url}/v1/traces`,
    storage: `${collector.storage.engine} ${collector.storage.location}`,
    database: collector.storage.database,
  });
  if (stopping) stop(collector, stopping);
  return undefined;
}
