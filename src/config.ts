/**
 * Collector configuration: explicit flags ?? environment ?? documented default (SPEC §6).
 * This is the only module that reads the environment; every bad value fails with the
 * variable's (or flag's) name and the value given.
 */
import fs from 'node:fs';
import { ApiKeyError, isLoopbackHost, parseApiKeys, type ApiKey } from './auth.ts';
import { DEFAULT_SQL_LIMITS, type SqlLimits } from './storage/read-only-sql.ts';
import { parseRedactionRules, redactsNothing, RedactionRulesError, type RedactionConfig } from './redaction/rules.ts';
import { parseRetention, type RetentionConfig } from './retention/retention.ts';

export interface Config {
  host: string;
  port: number;
  /** Embedded engine (chDB) data directory; ignored when `clickhouse.url` is set. */
  dataDir: string;
  clickhouse: {
    url: string | undefined;
    user: string;
    password: string;
    database: string;
    /** Server user for `/api/sql` (read-only profile, SELECT on the database); unset = the main user. */
    readUser: string | undefined;
    readPassword: string;
    /** Cluster the schema is created on (`ON CLUSTER`, Replicated + Distributed tables); unset: one server. */
    cluster: string | undefined;
  };
  /** Largest accepted request body, checked before and after decompression (OTLP: 413). */
  maxBodyBytes: number;
  /** Group commit: most spans in one insert, and how long a lone request waits for company. */
  batchMaxSpans: number;
  batchLingerMs: number;
  /** Bounded queue of accepted-but-not-yet-stored spans; beyond it requests get 429. */
  queueMaxSpans: number;
  queueMaxBytes: number;
  /** A session whose root never arrives is `abandoned` this long after its newest span. */
  sessionTimeoutMs: number;
  /** Price override file (JSON or YAML), if any. */
  pricesFile: string | undefined;
  /** API keys; empty = no authentication (then only loopback may be bound, unless insecure). */
  apiKeys: ApiKey[];
  /** Allow binding a non-loopback address without API keys. */
  insecure: boolean;
  /** Longest attribute value stored; longer ones are cut and marked. */
  maxAttributeValueBytes: number;
  /** Most attributes kept per span; the rest are dropped and counted on the span. */
  maxAttributesPerSpan: number;
  /** Limits of every `/api/sql` query, and how many may run at once and how long their text may be. */
  sqlLimits: SqlLimits;
  sqlMaxConcurrent: number;
  sqlMaxBodyBytes: number;
  /** A connection without complete request headers, or idle between requests, is closed after this. */
  idleTimeoutMs: number;
  /** An OTLP request whose body sends no bytes for this long is answered 408 and closed. */
  bodyTimeoutMs: number;
  /** Connections beyond this many get a raw 503 + Retry-After and are closed. */
  maxConnections: number;
  /** OTLP/gRPC port on `host` (0 = any free port); undefined = no gRPC listener. */
  grpcPort: number | undefined;
  /** What to drop or mask before anything is stored (--redact, --redact-defaults); undefined: nothing. */
  redaction: RedactionConfig | undefined;
  /** How long spans, their content and the graph are kept (--retain-*). */
  retention: RetentionConfig;
}

/** A configuration value that cannot be used; the message names the variable and the value. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

interface Option {
  flag: string;
  env: string;
  help: string;
  default: string | undefined;
  /** A switch: `--flag` alone means true. */
  boolean?: boolean;
}

/** Every option, with its flag, environment variable and default, in `--help` order. */
export const OPTIONS = {
  host: { flag: '--host', env: 'SESSIONGRAPH_HOST', default: '127.0.0.1', help: 'address to listen on' },
  port: {
    flag: '--port',
    env: 'SESSIONGRAPH_PORT',
    default: '4318',
    help: 'OTLP/HTTP and API port (0 = any free port)',
  },
  dataDir: {
    flag: '--data-dir',
    env: 'SESSIONGRAPH_DATA_DIR',
    default: './data',
    help: 'embedded ClickHouse (chDB) data directory',
  },
  clickhouseUrl: {
    flag: '--clickhouse-url',
    env: 'CLICKHOUSE_URL',
    default: undefined,
    help: 'ClickHouse server URL, e.g. http://localhost:8123 (replaces the embedded engine)',
  },
  clickhouseUser: {
    flag: '--clickhouse-user',
    env: 'CLICKHOUSE_USER',
    default: 'default',
    help: 'ClickHouse server user',
  },
  clickhousePassword: {
    flag: '--clickhouse-password',
    env: 'CLICKHOUSE_PASSWORD',
    default: '',
    help: 'ClickHouse server password',
  },
  clickhouseReadUser: {
    flag: '--clickhouse-read-user',
    env: 'CLICKHOUSE_READ_USER',
    default: undefined,
    help: 'ClickHouse server user that /api/sql runs as (read-only profile, SELECT on the database); unset: the main user with readonly = 1 per query',
  },
  clickhouseReadPassword: {
    flag: '--clickhouse-read-password',
    env: 'CLICKHOUSE_READ_PASSWORD',
    default: '',
    help: 'password of --clickhouse-read-user',
  },
  clickhouseCluster: {
    flag: '--clickhouse-cluster',
    env: 'CLICKHOUSE_CLUSTER',
    default: undefined,
    help: 'ClickHouse cluster (a name in remote_servers) to create the schema on: Replicated tables behind Distributed ones, sharded by trace id; server mode only',
  },
  clickhouseDatabase: {
    flag: '--clickhouse-database',
    env: 'CLICKHOUSE_DATABASE',
    default: 'sessiongraph',
    help: 'database holding the tables (created if missing)',
  },
  maxBodySize: {
    flag: '--max-body-size',
    env: 'SESSIONGRAPH_MAX_BODY_SIZE',
    default: '64MiB',
    help: 'largest request body, compressed or not (bytes, or KiB/MiB/GiB)',
  },
  batchMaxSpans: {
    flag: '--batch-max-spans',
    env: 'SESSIONGRAPH_BATCH_MAX_SPANS',
    default: '5000',
    help: 'most spans written in one insert (group commit)',
  },
  batchLingerMs: {
    flag: '--batch-linger-ms',
    env: 'SESSIONGRAPH_BATCH_LINGER_MS',
    default: '0',
    help: 'how long an idle writer waits for more requests before it writes (0: at once; under load, requests gather while the previous insert runs)',
  },
  queueMaxSpans: {
    flag: '--queue-max-spans',
    env: 'SESSIONGRAPH_QUEUE_MAX_SPANS',
    default: '100000',
    help: 'spans waiting for storage before requests get 429',
  },
  queueMaxBytes: {
    flag: '--queue-max-bytes',
    env: 'SESSIONGRAPH_QUEUE_MAX_BYTES',
    default: '256MiB',
    help: 'bytes of spans waiting for storage before requests get 429',
  },
  sessionTimeout: {
    flag: '--session-timeout',
    env: 'SESSIONGRAPH_SESSION_TIMEOUT',
    default: '1h',
    help: 'a session whose root span never arrives is abandoned this long after its last span (e.g. 90s, 30m, 1h)',
  },
  apiKeys: {
    flag: '--api-keys',
    env: 'SESSIONGRAPH_API_KEYS',
    default: undefined,
    help: 'API keys as KEY=SCOPES,… with scopes ingest, read and admin (erasure) joined by + (e.g. k1=ingest,k2=read+ingest,k3=read+admin)',
  },
  apiKeysFile: {
    flag: '--api-keys-file',
    env: 'SESSIONGRAPH_API_KEYS_FILE',
    default: undefined,
    help: 'file of API keys, one KEY=SCOPES per line (# comments)',
  },
  insecure: {
    flag: '--insecure',
    env: 'SESSIONGRAPH_INSECURE',
    default: 'false',
    help: 'allow listening on a non-loopback address without API keys',
    boolean: true,
  },
  maxAttributeValueSize: {
    flag: '--max-attribute-value-size',
    env: 'SESSIONGRAPH_MAX_ATTRIBUTE_VALUE_SIZE',
    default: '64KiB',
    help: 'longer attribute values are cut and marked "…[truncated N bytes]"',
  },
  maxAttributesPerSpan: {
    flag: '--max-attributes-per-span',
    env: 'SESSIONGRAPH_MAX_ATTRIBUTES_PER_SPAN',
    default: '4096',
    help: 'attributes beyond this are dropped and counted in sessiongraph.dropped_attributes_count',
  },
  sqlTimeout: {
    flag: '--sql-timeout',
    env: 'SESSIONGRAPH_SQL_TIMEOUT',
    default: '10s',
    help: 'longest run of one /api/sql query',
  },
  sqlMaxResultSize: {
    flag: '--sql-max-result-size',
    env: 'SESSIONGRAPH_SQL_MAX_RESULT_SIZE',
    default: '8MiB',
    help: 'largest /api/sql answer; larger ones are refused with 400 (bytes, or KiB/MiB/GiB)',
  },
  sqlMaxConcurrent: {
    flag: '--sql-max-concurrent',
    env: 'SESSIONGRAPH_SQL_MAX_CONCURRENT',
    default: '4',
    help: '/api/sql queries running at once; more get 429',
  },
  sqlMaxBodySize: {
    flag: '--sql-max-body-size',
    env: 'SESSIONGRAPH_SQL_MAX_BODY_SIZE',
    default: '1MiB',
    help: 'longest /api/sql query text (413 beyond)',
  },
  prices: {
    flag: '--prices',
    env: 'SESSIONGRAPH_PRICES',
    default: undefined,
    help: 'JSON or YAML file of model prices (USD per million tokens) overriding the bundled table',
  },
  // Defaults as nginx sets them: client_header_timeout 60s, client_body_timeout 60s (between two
  // reads, not for the whole body); one idle knob for headers and keep-alive (nginx: 75s).
  idleTimeout: {
    flag: '--idle-timeout',
    env: 'SESSIONGRAPH_IDLE_TIMEOUT',
    default: '60s',
    help: 'a connection that has not sent complete request headers, or sits idle between requests, is closed after this (e.g. 30s, 2m)',
  },
  bodyTimeout: {
    flag: '--body-timeout',
    env: 'SESSIONGRAPH_BODY_TIMEOUT',
    default: '60s',
    help: 'an OTLP request body that sends no bytes for this long is answered 408 and its connection closed',
  },
  maxConnections: {
    flag: '--max-connections',
    env: 'SESSIONGRAPH_MAX_CONNECTIONS',
    default: '4096',
    help: 'open connections at most; more get 503 + Retry-After and are closed (keep it well below ulimit -n)',
  },
  redact: {
    flag: '--redact',
    env: 'SESSIONGRAPH_REDACT',
    default: undefined,
    help: 'YAML or JSON file of redaction rules applied before anything is stored: attribute keys to drop or mask, value patterns, content off, per service or API key (see README)',
  },
  redactDefaults: {
    flag: '--redact-defaults',
    env: 'SESSIONGRAPH_REDACT_DEFAULTS',
    default: 'false',
    help: 'mask e-mail addresses, API keys, bearer tokens and card numbers in every value as [redacted:KIND]',
    boolean: true,
  },
  retainSpans: {
    flag: '--retain-spans',
    env: 'SESSIONGRAPH_RETAIN_SPANS',
    default: 'off',
    help: 'keep raw spans, their facts and log records this long (e.g. 30d, 12h, 1y; off: forever); whole days are dropped by ClickHouse TTL',
  },
  retainContent: {
    flag: '--retain-content',
    env: 'SESSIONGRAPH_RETAIN_CONTENT',
    default: 'off',
    help: 'keep message, argument and result text this long (e.g. 7d; off: as long as the spans); older content reads [expired], names, timing and tokens stay',
  },
  retainGraph: {
    flag: '--retain-graph',
    env: 'SESSIONGRAPH_RETAIN_GRAPH',
    default: 'off',
    help: 'keep sessions, agent definitions, decisions and edges this long (e.g. 7y; off: forever)',
  },
  grpcPort: {
    flag: '--grpc-port',
    env: 'SESSIONGRAPH_GRPC_PORT',
    default: '4317',
    help: 'OTLP/gRPC port on --host (0 = any free port; off or -1 = no gRPC listener; left unset while --port is 0, it is 0 too)',
  },
} as const satisfies Record<string, Option>;

type OptionName = keyof typeof OPTIONS;

const DAY_MS = 86_400_000;

/** Splits `--flag value` / `--flag=value` arguments into option values keyed by option name. */
export function parseFlags(argv: readonly string[]): Partial<Record<OptionName, string>> {
  const byFlag = new Map<string, OptionName>(
    (Object.keys(OPTIONS) as OptionName[]).map((name) => [OPTIONS[name].flag, name]),
  );
  const out: Partial<Record<OptionName, string>> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const name = byFlag.get(flag);
    if (!name) throw new ConfigError(`unknown option ${flag} (see --help)`);
    const isSwitch = (OPTIONS[name] as Option).boolean === true;
    const value = eq > 0 ? arg.slice(eq + 1) : isSwitch ? 'true' : argv[++i];
    if (value === undefined) throw new ConfigError(`option ${flag} needs a value`);
    out[name] = value;
  }
  return out;
}

/** Builds a validated Config from flags and environment; throws ConfigError on any bad value. */
export function parseConfig(
  env: Record<string, string | undefined> = process.env,
  flags: Partial<Record<OptionName, string>> = {},
): Config {
  const raw = (name: OptionName): { value: string | undefined; source: string } => {
    const opt: Option = OPTIONS[name];
    if (flags[name] !== undefined) return { value: flags[name], source: opt.flag };
    const fromEnv = env[opt.env];
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: opt.env };
    return { value: opt.default, source: opt.env };
  };
  const str = (name: OptionName): string => raw(name).value ?? '';
  const int = (name: OptionName, min: number, max: number): number => {
    const { value, source } = raw(name);
    const n = Number(value);
    if (!/^\d+$/.test(value ?? '') || n < min || n > max) {
      throw new ConfigError(`${source}=${JSON.stringify(value)} is invalid: expected an integer from ${min} to ${max}`);
    }
    return n;
  };
  const duration = (name: OptionName, minMs: number, maxMs: number): number => {
    const { value, source } = raw(name);
    const ms = parseDuration(value ?? '');
    if (ms === undefined || ms < minMs || ms > maxMs) {
      throw new ConfigError(
        `${source}=${JSON.stringify(value)} is invalid: expected a duration from ${minMs}ms to ${maxMs / DAY_MS}d, e.g. 500ms, 60s or 2m`,
      );
    }
    return ms;
  };
  const bytes = (name: OptionName): number => {
    const { value, source } = raw(name);
    const n = parseByteSize(value ?? '');
    if (n === undefined || n < 1024) {
      throw new ConfigError(
        `${source}=${JSON.stringify(value)} is invalid: expected a size of at least 1KiB, e.g. 1048576 or 64MiB`,
      );
    }
    return n;
  };

  const timeout = raw('sessionTimeout');
  const sessionTimeoutMs = parseDuration(timeout.value ?? '');
  if (sessionTimeoutMs === undefined || sessionTimeoutMs < 1000) {
    throw new ConfigError(
      `${timeout.source}=${JSON.stringify(timeout.value)} is invalid: expected a duration of at least 1s, e.g. 90s, 30m, 1h or seconds`,
    );
  }

  const sqlTimeout = raw('sqlTimeout');
  const sqlTimeoutMs = parseDuration(sqlTimeout.value ?? '');
  if (sqlTimeoutMs === undefined || sqlTimeoutMs < 1000 || sqlTimeoutMs % 1000 !== 0) {
    throw new ConfigError(
      `${sqlTimeout.source}=${JSON.stringify(sqlTimeout.value)} is invalid: expected whole seconds, at least 1s, e.g. 10s or 1m`,
    );
  }
  const sqlTimeoutSeconds = sqlTimeoutMs / 1000;

  const url = raw('clickhouseUrl').value;
  if (url !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) {
      throw new ConfigError(
        `${raw('clickhouseUrl').source}=${JSON.stringify(url)} is invalid: expected an http(s) URL such as http://localhost:8123`,
      );
    }
  }
  const database = str('clickhouseDatabase');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
    throw new ConfigError(
      `${raw('clickhouseDatabase').source}=${JSON.stringify(database)} is invalid: expected letters, digits and _ only`,
    );
  }
  const host = str('host');
  if (host.trim() === '') throw new ConfigError(`${raw('host').source} must not be empty`);

  const insecureRaw = raw('insecure');
  if (!/^(true|false|1|0)$/i.test(insecureRaw.value ?? '')) {
    throw new ConfigError(
      `${insecureRaw.source}=${JSON.stringify(insecureRaw.value)} is invalid: expected true or false`,
    );
  }
  const insecure = /^(true|1)$/i.test(insecureRaw.value ?? '');
  const redaction = readRedaction(raw('redact'), raw('redactDefaults'));
  const retain = (name: 'retainSpans' | 'retainContent' | 'retainGraph'): number | undefined => {
    const { value, source } = raw(name);
    const seconds = parseRetention(value ?? 'off');
    if (seconds === null)
      throw new ConfigError(
        `${source}=${JSON.stringify(value)} is invalid: expected a duration such as 90s, 12h, 30d, 2w or 7y, or off`,
      );
    return seconds;
  };
  const retention: RetentionConfig = {
    spansSeconds: retain('retainSpans'),
    contentSeconds: retain('retainContent'),
    graphSeconds: retain('retainGraph'),
  };
  if (
    retention.spansSeconds !== undefined &&
    retention.contentSeconds !== undefined &&
    retention.contentSeconds > retention.spansSeconds
  ) {
    throw new ConfigError(
      `${raw('retainContent').source}=${JSON.stringify(raw('retainContent').value)} is longer than ${raw('retainSpans').source}=${JSON.stringify(raw('retainSpans').value)}: content lives inside the spans and goes with them`,
    );
  }
  const apiKeys = readApiKeys(raw('apiKeys'), raw('apiKeysFile'));
  if (apiKeys.length === 0 && !isLoopbackHost(host) && !insecure) {
    throw new ConfigError(
      `refusing to listen on ${host} without API keys: anyone who can reach it could read and write your traces. ` +
        'Set SESSIONGRAPH_API_KEYS (or --api-keys / --api-keys-file), or pass --insecure (SESSIONGRAPH_INSECURE=true) if something else guards the network.',
    );
  }

  return {
    host,
    port: int('port', 0, 65535),
    dataDir: str('dataDir'),
    clickhouse: {
      url,
      user: str('clickhouseUser'),
      password: str('clickhousePassword'),
      database,
      readUser: raw('clickhouseReadUser').value,
      readPassword: str('clickhouseReadPassword'),
      cluster: readCluster(raw('clickhouseCluster'), url),
    },
    maxBodyBytes: bytes('maxBodySize'),
    batchMaxSpans: int('batchMaxSpans', 1, 1_000_000),
    batchLingerMs: int('batchLingerMs', 0, 10_000),
    queueMaxSpans: int('queueMaxSpans', 1, 100_000_000),
    queueMaxBytes: bytes('queueMaxBytes'),
    sessionTimeoutMs,
    pricesFile: raw('prices').value,
    apiKeys,
    insecure,
    maxAttributeValueBytes: bytes('maxAttributeValueSize'),
    maxAttributesPerSpan: int('maxAttributesPerSpan', 16, 1_000_000),
    sqlLimits: {
      ...DEFAULT_SQL_LIMITS,
      maxExecutionSeconds: sqlTimeoutSeconds,
      maxResultBytes: bytes('sqlMaxResultSize'),
    },
    sqlMaxConcurrent: int('sqlMaxConcurrent', 1, 1000),
    sqlMaxBodyBytes: bytes('sqlMaxBodySize'),
    idleTimeoutMs: duration('idleTimeout', 100, DAY_MS),
    bodyTimeoutMs: duration('bodyTimeout', 100, DAY_MS),
    maxConnections: int('maxConnections', 1, 1_000_000),
    grpcPort: parseGrpcPort(
      raw('grpcPort'),
      flags.grpcPort === undefined && !env[OPTIONS.grpcPort.env],
      int('port', 0, 65535),
    ),
    redaction,
    retention,
  };
}

/** `--clickhouse-cluster`: a cluster name, only with a server (the embedded engine is one process). */
function readCluster(
  { value, source }: { value: string | undefined; source: string },
  url: string | undefined,
): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(value))
    throw new ConfigError(
      `${source}=${JSON.stringify(value)} is invalid: expected a cluster name from the server's remote_servers`,
    );
  if (url === undefined)
    throw new ConfigError(
      `${source} needs a ClickHouse server (CLICKHOUSE_URL): the embedded engine is one process, not a cluster`,
    );
  return value;
}

/** The redaction rules of --redact FILE and --redact-defaults; undefined when they redact nothing. */
function readRedaction(
  file: { value: string | undefined; source: string },
  defaults: { value: string | undefined; source: string },
): RedactionConfig | undefined {
  if (!/^(true|false|1|0)$/i.test(defaults.value ?? '')) {
    throw new ConfigError(`${defaults.source}=${JSON.stringify(defaults.value)} is invalid: expected true or false`);
  }
  let text: string | undefined;
  if (file.value) {
    try {
      text = fs.readFileSync(file.value, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `${file.source}=${JSON.stringify(file.value)}: cannot read the redaction rules: ${(err as Error).message}`,
      );
    }
  }
  try {
    const config = parseRedactionRules(
      text,
      `${file.source} (${file.value ?? 'none'})`,
      /^(true|1)$/i.test(defaults.value ?? ''),
    );
    return redactsNothing(config) ? undefined : config;
  } catch (err) {
    if (err instanceof RedactionRulesError) throw new ConfigError(err.message);
    throw err;
  }
}

/**
 * `--grpc-port`: a port, or `off` / `-1` for no gRPC listener. Left unset while the HTTP port is
 * 0 (tests, several collectors on one machine), it is 0 as well: a collector asked for any free
 * port must not claim 4317 and collide with the next one. Equal to a fixed HTTP port is refused
 * here, with the names, rather than as EADDRINUSE at listen time.
 */
function parseGrpcPort(
  { value, source }: { value: string | undefined; source: string },
  unset: boolean,
  httpPort: number,
): number | undefined {
  const text = (value ?? '').trim().toLowerCase();
  if (text === 'off' || text === '-1') return undefined;
  if (unset && httpPort === 0) return 0;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) {
    throw new ConfigError(`${source}=${JSON.stringify(value)} is invalid: expected an integer from 0 to 65535, or off`);
  }
  if (n !== 0 && n === httpPort) {
    throw new ConfigError(
      `${source}=${JSON.stringify(value)} is invalid: it is also the OTLP/HTTP port (--port / SESSIONGRAPH_PORT); choose another port, or off`,
    );
  }
  return n;
}

/** Parses `1048576`, `512KiB`, `64MiB`, `1GiB` (also KB/MB/GB as powers of 1024) into bytes. */
export function parseByteSize(text: string): number | undefined {
  const m = /^(\d+)\s*(|B|KiB|KB|K|MiB|MB|M|GiB|GB|G)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? '').toUpperCase().replace('I', '').replace(/B$/, '');
  const factor = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[unit];
  return factor === undefined ? undefined : Number(m[1]) * factor;
}

function readApiKeys(
  inline: { value: string | undefined; source: string },
  file: { value: string | undefined; source: string },
): ApiKey[] {
  try {
    const keys = inline.value ? parseApiKeys(inline.value, inline.source) : [];
    if (file.value) {
      let text: string;
      try {
        text = fs.readFileSync(file.value, 'utf8');
      } catch (err) {
        throw new ApiKeyError(
          `${file.source}=${JSON.stringify(file.value)}: cannot read the keys file: ${(err as Error).message}`,
        );
      }
      keys.push(...parseApiKeys(text, `${file.source} (${file.value})`, /\r?\n/));
    }
    return keys;
  } catch (err) {
    if (err instanceof ApiKeyError) throw new ConfigError(err.message);
    throw err;
  }
}

/** Parses `90s`, `30m`, `1h`, `2d` or plain seconds into milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(text.trim());
  if (!m) return undefined;
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's').toLowerCase()];
  return factor === undefined ? undefined : Math.round(Number(m[1]) * factor);
}

/** The `--help` table of options, generated from OPTIONS so it cannot drift from the code. */
export function describeOptions(): string {
  return (Object.keys(OPTIONS) as OptionName[])
    .map((name) => {
      const o: Option = OPTIONS[name];
      const def = o.default === undefined ? '' : ` (default ${o.default || '""'})`;
      const usage = o.boolean ? o.flag : `${o.flag} <value>`;
      return `  ${usage.padEnd(30)} ${o.env}\n  ${''.padEnd(30)} ${o.help}${def}`;
    })
    .join('\n');
}
