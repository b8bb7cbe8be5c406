/**
 * The container files (Dockerfile, .dockerignore, docker-compose.yml), checked without a Docker
 * engine: they are parsed here and what a user would run into is asserted against the collector's
 * own code — the configuration the containers get really starts a collector (src/config.ts), the
 * image's health check really tells a running collector from a stopped one, the keys compose
 * hands the demo really carry the scopes it needs (src/auth.ts), every file the build copies
 * really reaches the builder, and no dev dependency reaches a runtime image.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../collector/cli.ts';
import type { RunningCollector } from '../../collector/server.ts';
import { authorize } from '../../src/auth.ts';
import { ConfigError, OPTIONS, parseConfig } from '../../src/config.ts';
import { startTestCollector, tempDir } from '../helpers/collector.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const readRepoFile = (file: string): string => fs.readFileSync(path.join(ROOT, file), 'utf8');

// ---------------------------------------------------------------------------------------------
// A small Dockerfile parser: line continuations (`\`), comment lines (also inside continuations),
// global ARGs, stages split at FROM, and a target's effective image along its FROM <stage> chain.
// ---------------------------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  index: number;
  name: string | undefined;
  /** The image or stage it starts from, ARGs substituted. */
  from: string;
  instructions: Instruction[];
}

interface Dockerfile {
  stages: Stage[];
}

function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const trimmed = raw.trim();
    // Docker drops comment lines and empty lines, inside a continuation too.
    if (trimmed === '' || trimmed.startsWith('#')) return;
    if (pending === '') start = i + 1;
    if (/\\\s*$/.test(raw)) {
      pending += raw.replace(/\\\s*$/, ' ');
      return;
    }
    const full = (pending + raw).trim();
    pending = '';
    const m = /^(\S+)\s*([\s\S]*)$/.exec(full);
    if (!m) throw new Error(`Dockerfile line ${start}: cannot read ${JSON.stringify(full)}`);
    out.push({ keyword: (m[1] ?? '').toUpperCase(), args: (m[2] ?? '').trim(), line: start });
  });
  if (pending !== '') throw new Error('Dockerfile ends inside a line continuation');
  return out;
}

function substitute(text: string, vars: Map<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a?: string, b?: string) => vars.get(a ?? b ?? '') ?? whole);
}

function parseDockerfile(text: string): Dockerfile {
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of parseInstructions(text)) {
    if (ins.keyword === 'FROM') {
      const tokens = ins.args.split(/\s+/).filter((t) => !t.startsWith('--'));
      const asAt = tokens.findIndex((t) => t.toUpperCase() === 'AS');
      stages.push({
        index: stages.length,
        name: asAt > 0 ? tokens[asAt + 1] : undefined,
        from: substitute(tokens[0] ?? '', globalArgs),
        instructions: [],
      });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`Dockerfile line ${ins.line}: ${ins.keyword} before the first FROM`);
      const eq = ins.args.indexOf('=');
      globalArgs.set((eq < 0 ? ins.args : ins.args.slice(0, eq)).trim(), eq < 0 ? '' : ins.args.slice(eq + 1).trim());
    } else {
      stages.at(-1)?.instructions.push(ins);
    }
  }
  return { stages };
}

function stageNamed(df: Dockerfile, name: string): Stage {
  const stage = df.stages.find((s) => s.name === name);
  if (!stage) throw new Error(`the Dockerfile has no stage ${name}`);
  return stage;
}

/** The stages an image is built from, first to last (FROM <stage> followed back to an image). */
function chainOf(df: Dockerfile, stage: Stage): Stage[] {
  const parent = df.stages.find((s) => s.name !== undefined && s.name === stage.from && s.index < stage.index);
  return parent ? [...chainOf(df, parent), stage] : [stage];
}

const instructionsOf = (chain: Stage[]): Instruction[] => chain.flatMap((s) => s.instructions);
const lastOf = (instructions: Instruction[], keyword: string): Instruction | undefined =>
  instructions.filter((i) => i.keyword === keyword).at(-1);

/** Exec form (JSON array) or shell form, as Docker runs it. */
function commandLine(args: string): string[] {
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : ['/bin/sh', '-c', args];
}

function envOf(instructions: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of instructions.filter((i) => i.keyword === 'ENV')) {
    if (!/^\w+=/.test(ins.args)) {
      const [name, ...value] = ins.args.split(/\s+/);
      env[name ?? ''] = value.join(' ');
      continue;
    }
    for (const m of ins.args.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)) {
      const raw = m[2] ?? '';
      env[m[1] ?? ''] = /^["']/.test(raw) ? raw.slice(1, -1) : raw;
    }
  }
  return env;
}

interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
  /** Position in the image's instructions. */
  at: number;
}

function copiesOf(instructions: Instruction[]): Copy[] {
  return instructions.flatMap((ins, at) => {
    if (ins.keyword !== 'COPY' && ins.keyword !== 'ADD') return [];
    const tokens = ins.args.startsWith('[') ? (JSON.parse(ins.args) as string[]) : ins.args.split(/\s+/);
    const flags = tokens.filter((t) => t.startsWith('--'));
    const paths = tokens.filter((t) => !t.startsWith('--'));
    const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    return [{ from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? '', at }];
  });
}

/** RUN commands without their BuildKit flags (--mount=…, --network=…). */
function runsOf(instructions: Instruction[]): Array<{ command: string; at: number }> {
  return instructions.flatMap((ins, at) =>
    ins.keyword === 'RUN' ? [{ command: ins.args.replace(/^(?:--\S+\s+)*/, ''), at }] : [],
  );
}

/** `cmd1 && cmd2 ; cmd3` → each command's words. */
const commandsIn = (run: string): string[][] =>
  run
    .split(/&&|;|\|\|/)
    .map((c) => c.trim().split(/\s+/))
    .filter((words) => words[0] !== '');

const isNpmInstall = (words: string[]): boolean =>
  words[0] === 'npm' && ['install', 'i', 'ci', 'add'].includes(words[1] ?? '');

interface Healthcheck {
  options: Record<string, string>;
  test: string[];
}

function healthcheckOf(instructions: Instruction[]): Healthcheck | undefined {
  const ins = lastOf(instructions, 'HEALTHCHECK');
  if (!ins || /^NONE$/i.test(ins.args)) return undefined;
  const m = /^((?:--\S+\s+)*)CMD\s+([\s\S]+)$/i.exec(ins.args);
  if (!m) throw new Error(`HEALTHCHECK on line ${ins.line} has no CMD`);
  const options = Object.fromEntries(
    (m[1] ?? '')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((o) => o.replace(/^--/, '').split('=', 2) as [string, string]),
  );
  return { options, test: commandLine((m[2] ?? '').trim()) };
}

function volumesOf(instructions: Instruction[]): string[] {
  return instructions
    .filter((i) => i.keyword === 'VOLUME')
    .flatMap((i) => (i.args.startsWith('[') ? (JSON.parse(i.args) as string[]) : i.args.split(/\s+/)));
}

/** What `docker run` of a target gets: its user, environment, ports, volumes, health check, command. */
function imageOf(df: Dockerfile, target: string) {
  const chain = chainOf(df, stageNamed(df, target));
  const instructions = instructionsOf(chain);
  const entrypoint = lastOf(instructions, 'ENTRYPOINT');
  const cmd = lastOf(instructions, 'CMD');
  return {
    chain,
    instructions,
    base: chain[0]?.from ?? '',
    user: lastOf(instructions, 'USER')?.args ?? 'root',
    workdir: lastOf(instructions, 'WORKDIR')?.args ?? '/',
    env: envOf(instructions),
    exposed: instructions
      .filter((i) => i.keyword === 'EXPOSE')
      .flatMap((i) => i.args.split(/\s+/))
      .map((p) => p.replace(/\/tcp$/, '')),
    volumes: volumesOf(instructions),
    healthcheck: healthcheckOf(instructions),
    entrypoint: entrypoint ? commandLine(entrypoint.args) : [],
    cmd: cmd ? commandLine(cmd.args) : [],
  };
}

// ---------------------------------------------------------------------------------------------
// .dockerignore, as Docker reads it: patterns relative to the context, `**`, `*`, `?`, `!`
// exceptions, last match wins, and a pattern matching a directory matches everything in it.
// ---------------------------------------------------------------------------------------------

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function dockerignore(text: string): (file: string) => boolean {
  const rules = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = path.posix
        .normalize((negate ? l.slice(1) : l).trim())
        .replace(/^\/+/, '')
        .replace(/\/+$/, '');
      return { negate, re: globToRegExp(pattern) };
    });
  return (file) => {
    const parts = file.split('/');
    const selfAndParents = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) if (selfAndParents.some((p) => rule.re.test(p))) excluded = !rule.negate;
    return excluded;
  };
}

/** Files under a path of the repository, relative to its root, without installed or built trees. */
function filesUnder(rel: string): string[] {
  const abs = path.join(ROOT, rel);
  if (!fs.statSync(abs).isDirectory()) return [rel];
  return fs
    .readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .filter((f) => !/(^|\/)(node_modules|dist)\//.test(f));
}

// ---------------------------------------------------------------------------------------------
// Compose: variable interpolation as `docker compose` does it (${V}, ${V:-d}, ${V-d}, ${V:?e},
// ${V?e}, $$), then the few shapes of its fields.
// ---------------------------------------------------------------------------------------------

type Env = Record<string, string | undefined>;

class InterpolationError extends Error {}

function interpolate(value: unknown, env: Env): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)/g,
      (whole, name?: string, op?: string, arg?: string, bare?: string) => {
        if (whole === '$$') return '$';
        const key = name ?? bare ?? '';
        const v = env[key];
        const unset = v === undefined || (op?.startsWith(':') === true && v === '');
        if (op?.endsWith('-')) return unset ? (arg ?? '') : (v ?? '');
        if (op?.endsWith('?')) {
          if (unset) throw new InterpolationError(`required variable ${key} is missing a value: ${arg ?? ''}`);
          return v ?? '';
        }
        return v ?? '';
      },
    );
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  }
  return value;
}

interface Service {
  image?: string;
  build?: { context?: string; target?: string } | string;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: Array<string | { target: number; published?: string | number; host_ip?: string }>;
  volumes?: Array<string | { type?: string; source?: string; target: string }>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  depends_on?: Record<string, { condition?: string }> | string[];
  profiles?: string[];
}

interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const COMPOSE_TEXT = readRepoFile('docker-compose.yml');
const loadCompose = (env: Env): Compose => interpolate(parse(COMPOSE_TEXT), env) as Compose;

function serviceOf(compose: Compose, name: string): Service {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
}

function environmentOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((e) => [e.split('=')[0] ?? '', e.slice(e.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function portsOf(service: Service): Array<{ hostIp: string | undefined; published: string; target: string }> {
  return (service.ports ?? []).map((p) => {
    if (typeof p === 'object') {
      return { hostIp: p.host_ip, published: String(p.published ?? ''), target: String(p.target) };
    }
    const parts = p.replace(/\/(tcp|udp)$/, '').split(':');
    const target = parts.pop() ?? '';
    const published = parts.pop() ?? '';
    return { hostIp: parts.length ? parts.join(':') : undefined, published, target };
  });
}

const commandOf = (service: Service): string[] =>
  Array.isArray(service.command) ? service.command : (service.command ?? '').split(/\s+/).filter(Boolean);
const targetOf = (service: Service): string | undefined =>
  typeof service.build === 'object' ? service.build.target : undefined;

/** Exit code of a health check's command, run with this machine's node. */
function runHealthcheck(test: string[], env: Record<string, string>): Promise<number | null> {
  const argv = test[0] === 'CMD' ? test.slice(1) : test;
  expect(argv[0], 'the health check runs node (slim images have no curl or wget)').toBe('node');
  const child = spawn(process.execPath, argv.slice(1), {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: 'ignore',
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
}

/** A loopback port nothing listens on (just released by a server of ours). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---------------------------------------------------------------------------------------------

const DOCKERFILE = parseDockerfile(readRepoFile('Dockerfile'));
const PACKAGE = JSON.parse(readRepoFile('package.json')) as {
  engines: { node: string };
  bin: Record<string, string>;
  files: string[];
  workspaces: string[];
  scripts: Record<string, string>;
};
const RUNTIME_TARGETS = ['server', 'embedded'] as const;
const OPTION_ENV = new Set<string>(Object.values(OPTIONS).map((o) => o.env));
/** Read by Node.js and libuv themselves. */
const NODE_ENV_VARS = new Set(['NODE_ENV', 'NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'UV_THREADPOOL_SIZE', 'TZ']);
/** The clickhouse/clickhouse-server image's entrypoint variables. */
const CLICKHOUSE_IMAGE_VARS = new Set([
  'CLICKHOUSE_USER',
  'CLICKHOUSE_PASSWORD',
  'CLICKHOUSE_DB',
  'CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT',
  'CLICKHOUSE_SKIP_USER_SETUP',
  'CLICKHOUSE_UID',
  'CLICKHOUSE_GID',
  'CLICKHOUSE_DO_NOT_CHOWN',
  'CLICKHOUSE_INIT_TIMEOUT',
  'CLICKHOUSE_ALWAYS_RUN_INITDB_SCRIPTS',
  'CLICKHOUSE_CONFIG',
  'CLICKHOUSE_WATCHDOG_ENABLE',
]);
/** A .env a user could write (docs/container.md). */
const USER_ENV: Env = {
  SESSIONGRAPH_API_KEYS: 'k-ingest-0123=ingest,k-read-4567=read,k-demo-89ab=ingest+read',
  SESSIONGRAPH_DEMO_API_KEY: 'k-demo-89ab',
};

/** The variables the CLI documents for its client commands (`sessiongraph --help`). */
let clientEnv: Set<string>;
let collector: RunningCollector;

beforeAll(async () => {
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    await main(['--help']);
    const help = write.mock.calls.map((c) => String(c[0])).join('');
    clientEnv = new Set([...help.matchAll(/\(or (SESSIONGRAPH_\w+)\)/g)].map((m) => m[1] ?? ''));
  } finally {
    write.mockRestore();
  }
  // A collector with API keys: health checks must pass without one.
  collector = await startTestCollector(tempDir(), { SESSIONGRAPH_API_KEYS: 'k=ingest', SESSIONGRAPH_GRPC_PORT: 'off' });
});

afterAll(async () => {
  await collector?.close();
});

describe('Dockerfile', () => {
  it('is multi-stage, built on one pinned Debian Node image that satisfies package.json engines', () => {
    expect(DOCKERFILE.stages.length).toBeGreaterThanOrEqual(2);
    const external = new Set(
      DOCKERFILE.stages.filter((s) => !DOCKERFILE.stages.some((p) => p.name === s.from)).map((s) => s.from),
    );
    expect([...external]).toHaveLength(1);
    const base = [...external][0] ?? '';
    // Exact version (not node:20 or node:lts), glibc (chDB's library exists for glibc only).
    const m = /^node:(\d+)\.(\d+)\.(\d+)-(bookworm|trixie)(-slim)?(@sha256:[0-9a-f]{64})?$/.exec(base);
    expect(m, `${base} is a pinned node:X.Y.Z-<debian> tag`).not.toBeNull();
    const [major, minor] = [Number(m?.[1]), Number(m?.[2])];
    const need = /^>=(\d+)\.(\d+)/.exec(PACKAGE.engines.node);
    expect(major).toBe(20);
    expect(major * 1000 + minor).toBeGreaterThanOrEqual(Number(need?.[1]) * 1000 + Number(need?.[2]));
  });

  it('builds the embedded image by default (last stage) and has a server target', () => {
    expect(DOCKERFILE.stages.at(-1)?.name).toBe('embedded');
    expect(() => stageNamed(DOCKERFILE, 'server')).not.toThrow();
  });

  it.each(RUNTIME_TARGETS)('%s: runs as a non-root user', (target) => {
    const { user } = imageOf(DOCKERFILE, target);
    expect(user.split(':')[0]).not.toMatch(/^(root|0)?$/);
  });

  it.each(RUNTIME_TARGETS)('%s: exposes the collector default ports, OTLP/HTTP and OTLP/gRPC', (target) => {
    const { exposed } = imageOf(DOCKERFILE, target);
    expect(exposed).toEqual(expect.arrayContaining([OPTIONS.port.default, OPTIONS.grpcPort.default]));
  });

  it.each(RUNTIME_TARGETS)('%s: runs the package bin with node, `serve` by default', (target) => {
    const { entrypoint, cmd, workdir } = imageOf(DOCKERFILE, target);
    expect(entrypoint).toEqual(['node', path.posix.join(workdir, PACKAGE.bin.sessiongraph ?? '')]);
    expect(cmd).toEqual(['serve']);
  });

  it.each(RUNTIME_TARGETS)('%s: sets only variables the collector or Node reads', (target) => {
    for (const name of Object.keys(imageOf(DOCKERFILE, target).env)) {
      expect(OPTION_ENV.has(name) || NODE_ENV_VARS.has(name), `${name} is read by nothing`).toBe(true);
    }
  });

  it.each(RUNTIME_TARGETS)(
    '%s: its environment alone refuses to start without API keys, and starts with them',
    (target) => {
      const { env } = imageOf(DOCKERFILE, target);
      // Listening on all interfaces is what makes the published ports reachable.
      expect(env.SESSIONGRAPH_HOST).toBe('0.0.0.0');
      expect(() => parseConfig(env)).toThrow(ConfigError);
      expect(() => parseConfig(env)).toThrow(/refusing to listen on 0\.0\.0\.0 without API keys/);
      expect(parseConfig({ ...env, SESSIONGRAPH_INSECURE: 'true' }).host).toBe('0.0.0.0');
      const config = parseConfig({ ...env, SESSIONGRAPH_API_KEYS: 'k=ingest' });
      expect(config.apiKeys).toHaveLength(1);
    },
  );

  it('embedded: keeps the data directory in a volume the non-root user can write', () => {
    const image = imageOf(DOCKERFILE, 'embedded');
    const { dataDir } = parseConfig({ ...image.env, SESSIONGRAPH_INSECURE: 'true' });
    expect(image.volumes).toContain(dataDir);
    // Changes after VOLUME are discarded: the directory must be handed over before it.
    const volumeAt = image.instructions.findIndex((i) => i.keyword === 'VOLUME' && i.args.includes(dataDir));
    const user = image.user.split(':')[0] ?? '';
    const handedOver = runsOf(image.instructions).some(
      ({ command, at }) =>
        at < volumeAt &&
        commandsIn(command).some((w) => w[0] === 'chown' && w.includes(dataDir) && (w[1] ?? '').startsWith(user)),
    );
    expect(handedOver, `chown ${user} ${dataDir} before VOLUME`).toBe(true);
  });

  it('server: declares no data volume and leaves the embedded engine out', () => {
    const image = imageOf(DOCKERFILE, 'server');
    expect(image.volumes).toEqual([]);
    const modules = copiesOf(image.instructions).filter((c) => c.sources.some((s) => s.includes('node_modules')));
    expect(modules).toHaveLength(1);
    const removed = runsOf(instructionsOf(chainOf(DOCKERFILE, stageNamed(DOCKERFILE, modules[0]?.from ?? ''))))
      .flatMap(({ command }) => commandsIn(command))
      .filter((w) => w[0] === 'rm')
      .flat();
    expect(removed).toEqual(expect.arrayContaining(['node_modules/chdb', 'node_modules/@chdb']));
  });

  it.each(RUNTIME_TARGETS)(
    '%s: its HEALTHCHECK hits /healthz and tells a running collector (with API keys) from a stopped one',
    async (target) => {
      const { healthcheck } = imageOf(DOCKERFILE, target);
      expect(healthcheck).toBeDefined();
      const test = healthcheck?.test ?? [];
      expect(test.join(' ')).toContain('/healthz');
      expect(Number.parseInt(healthcheck?.options['start-period'] ?? '0', 10)).toBeGreaterThanOrEqual(30);
      expect(await runHealthcheck(test, { SESSIONGRAPH_PORT: String(collector.port) })).toBe(0);
      // Nothing listening: the check fails rather than hangs.
      expect(await runHealthcheck(test, { SESSIONGRAPH_PORT: String(await closedPort()) })).toBe(1);
    },
  );

  it.each(RUNTIME_TARGETS)('%s: gets node_modules from a production-only install, never from the build', (target) => {
    const image = imageOf(DOCKERFILE, target);
    const build = DOCKERFILE.stages.find((s) => runsOf(s.instructions).some((r) => /npm run build/.test(r.command)));
    expect(build).toBeDefined();
    // The runtime image itself installs nothing.
    expect(
      runsOf(image.instructions)
        .flatMap((r) => commandsIn(r.command))
        .filter(isNpmInstall),
    ).toEqual([]);
    const modules = copiesOf(image.instructions).filter(
      (c) => c.sources.some((s) => s.includes('node_modules')) || c.dest.includes('node_modules'),
    );
    expect(modules.length).toBeGreaterThan(0);
    // Dev packages that also satisfy an optional peer dependency of a production package (chdb's
    // @mastra/core, ai, zod) are "devOptional" in the lock, and --omit=dev keeps those. Once
    // devDependencies are deleted they are optional peers only: npm 11 leaves them out, npm 10
    // (node:20's) only with --omit=peer (measured: 229 packages, about 110 MB).
    const lock = JSON.parse(readRepoFile('package-lock.json')) as {
      packages: Record<string, { devOptional?: boolean }>;
    };
    const devOptional = Object.values(lock.packages).some((p) => p.devOptional === true);
    for (const copy of modules) {
      expect(copy.from, 'node_modules copied from a stage').toBeDefined();
      const source = chainOf(DOCKERFILE, stageNamed(DOCKERFILE, copy.from ?? ''));
      expect(source.map((s) => s.name)).not.toContain(build?.name);
      const commands = runsOf(instructionsOf(source)).flatMap((r) => commandsIn(r.command));
      const installs = commands.filter(isNpmInstall);
      expect(installs.length).toBeGreaterThan(0);
      const pruned = commands.some((w) => w[0] === 'npm' && w[1] === 'prune' && w.includes('--omit=dev'));
      for (const words of installs) expect(words.includes('--omit=dev') || pruned, words.join(' ')).toBe(true);
      if (devOptional) {
        const deletedAt = commands.findIndex((w) => w.join(' ').startsWith('npm pkg delete devDependencies'));
        expect(deletedAt, 'devDependencies deleted before the --omit=dev install').toBeGreaterThanOrEqual(0);
        for (const words of installs) {
          expect(commands.indexOf(words)).toBeGreaterThan(deletedAt);
          expect(words, words.join(' ')).toContain('--omit=peer');
        }
      }
    }
  });

  it('installs with npm install, not npm ci (the lock lacks other platforms’ chDB packages)', () => {
    const commands = DOCKERFILE.stages.flatMap((s) => runsOf(s.instructions)).flatMap((r) => commandsIn(r.command));
    expect(commands.filter((w) => w[0] === 'npm' && w[1] === 'ci')).toEqual([]);
  });

  it('runs no install script where `prepare` would fail: before the sources, or without tsc', () => {
    for (const stage of DOCKERFILE.stages) {
      const chain = chainOf(DOCKERFILE, stage);
      const instructions = instructionsOf(chain);
      const sourcesAt = copiesOf(instructions).find((c) => c.sources.some((s) => /^src\/?$/.test(s)))?.at ?? Infinity;
      for (const { command, at } of runsOf(instructions)) {
        for (const words of commandsIn(command).filter(isNpmInstall)) {
          if (at < sourcesAt || words.includes('--omit=dev')) {
            expect(words, `stage ${stage.name}: ${words.join(' ')}`).toContain('--ignore-scripts');
          }
        }
      }
    }
  });

  it('copies everything `npm run build` compiles before it runs it', () => {
    const build = DOCKERFILE.stages.find((s) => runsOf(s.instructions).some((r) => /npm run build/.test(r.command)));
    expect(build).toBeDefined();
    const instructions = build ? instructionsOf(chainOf(DOCKERFILE, build)) : [];
    const buildAt = runsOf(instructions).find((r) => /npm run build/.test(r.command))?.at ?? -1;
    const copied = copiesOf(instructions)
      .filter((c) => c.from === undefined && c.at < buildAt)
      .flatMap((c) => c.sources.map((s) => s.replace(/\/$/, '')));
    const tsconfig = JSON.parse(readRepoFile('tsconfig.build.json')) as { include: string[]; extends?: string };
    const scripts = [...(PACKAGE.scripts.build ?? '').matchAll(/node (\S+\.mjs)/g)].map((m) =>
      path.posix.dirname(m[1] ?? ''),
    );
    const needed = [...tsconfig.include, ...PACKAGE.workspaces, ...scripts, 'package.json', 'tsconfig.build.json'];
    if (tsconfig.extends) needed.push(tsconfig.extends.replace(/^\.\//, ''));
    for (const dir of needed) expect(copied, `COPY ${dir} before npm run build`).toContain(dir);
  });

  it('puts package.json ("type": "module") and the published files in the runtime images', () => {
    const build = DOCKERFILE.stages.find((s) => runsOf(s.instructions).some((r) => /npm run build/.test(r.command)));
    for (const target of RUNTIME_TARGETS) {
      const image = imageOf(DOCKERFILE, target);
      const fromBuild = copiesOf(image.instructions).filter((c) => c.from === build?.name);
      expect(fromBuild.length).toBeGreaterThan(0);
      const wanted = [...PACKAGE.files.filter((f) => f !== 'README.md'), 'package.json'];
      for (const copy of fromBuild) {
        // Either the files themselves, or a directory the build stage gathered them in.
        const dir = (copy.sources[0] ?? '').replace(/\/$/, '');
        const gathered = runsOf(build?.instructions ?? [])
          .flatMap((r) => commandsIn(r.command))
          .filter((w) => w[0] === 'cp' && (w.at(-1) ?? '').replace(/\/$/, '') === dir)
          .flatMap((w) => w.slice(1, -1).filter((x) => !x.startsWith('-')));
        const present = gathered.length ? gathered : copy.sources.map((s) => path.posix.basename(s.replace(/\/$/, '')));
        expect(present).toEqual(expect.arrayContaining(wanted));
      }
    }
  });
});

describe('.dockerignore', () => {
  const ignored = dockerignore(readRepoFile('.dockerignore'));

  it('sends the builder every file the Dockerfile copies from the context', () => {
    const sources = DOCKERFILE.stages.flatMap((s) => copiesOf(s.instructions).filter((c) => c.from === undefined));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources.flatMap((c) => c.sources)) {
      const rel = source.replace(/\/$/, '');
      expect(fs.existsSync(path.join(ROOT, rel)), `${rel} exists`).toBe(true);
      const left = filesUnder(rel).filter(ignored);
      expect(left, `files of ${rel} left out of the build context`).toEqual([]);
    }
  });

  it.each([
    'node_modules/chdb/package.json',
    'packages/sdk/node_modules/x/index.js',
    'dist/collector/cli.js',
    'packages/sdk/dist/index.js',
    'data/store/x.bin',
    '.git/HEAD',
    '.env',
    '.env.production',
    'collector/.env',
    'packages/sdk/.env.local',
    'test/fixtures/golden/x.json',
    'bench/results/latest.json',
    'docs/screenshots/overview.png',
  ])('leaves %s out of the build context', (file) => {
    expect(ignored(file)).toBe(true);
  });
});

describe('docker-compose.yml', () => {
  const compose = loadCompose(USER_ENV);
  const clickhouse = serviceOf(compose, 'clickhouse');
  const collectorService = serviceOf(compose, 'collector');
  const demo = serviceOf(compose, 'demo');
  /** What the collector's container sees: the image's environment, then compose's. */
  const collectorEnv = (c: Compose = compose): Record<string, string> => {
    const service = serviceOf(c, 'collector');
    return { ...imageOf(DOCKERFILE, targetOf(service) ?? '').env, ...environmentOf(service) };
  };

  it('refuses to start without API keys, naming the variable', () => {
    expect(() => loadCompose({})).toThrow(InterpolationError);
    expect(() => loadCompose({})).toThrow(/SESSIONGRAPH_API_KEYS/);
    expect(() => loadCompose({ SESSIONGRAPH_API_KEYS: '' })).toThrow(/SESSIONGRAPH_API_KEYS/);
  });

  it('pulls only pinned images, and a ClickHouse server recent enough for the collector', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.build !== undefined) continue;
      const image = service.image ?? '';
      const tag = /:([^/@]+)(@sha256:[0-9a-f]{64})?$/.exec(image)?.[1];
      expect(tag, `${name}: ${image} has a tag`).toBeDefined();
      expect(tag, `${name}: ${image}`).toMatch(/^\d+\.\d+/);
    }
    const version = /:(\d+)\.(\d+)/.exec(clickhouse.image ?? '');
    expect(clickhouse.image).toMatch(/^clickhouse\/clickhouse-server:/);
    // README: "The server must be ClickHouse 23.8 or newer"; /api/sql needs 23.10.
    expect(Number(version?.[1]) * 100 + Number(version?.[2])).toBeGreaterThanOrEqual(2310);
  });

  it('builds targets the Dockerfile has, the server one (ClickHouse runs beside it) unless SESSIONGRAPH_TARGET says otherwise', () => {
    expect(targetOf(collectorService)).toBe('server');
    for (const service of [collectorService, demo])
      expect(() => stageNamed(DOCKERFILE, targetOf(service) ?? '')).not.toThrow();
    const embedded = loadCompose({ ...USER_ENV, SESSIONGRAPH_TARGET: 'embedded' });
    expect(targetOf(serviceOf(embedded, 'collector'))).toBe('embedded');
  });

  it('gives the collector a configuration that starts, against the compose ClickHouse, with the same credentials', () => {
    for (const c of [compose, loadCompose({ ...USER_ENV, CLICKHOUSE_USER: 'ops', CLICKHOUSE_PASSWORD: 's3cret' })]) {
      const config = parseConfig(collectorEnv(c));
      const server = environmentOf(serviceOf(c, 'clickhouse'));
      expect(config.host).toBe('0.0.0.0');
      const url = new URL(config.clickhouse.url ?? '');
      expect(Object.keys(c.services)).toContain(url.hostname);
      expect(url.port).toBe('8123');
      expect(config.clickhouse.user).toBe(server.CLICKHOUSE_USER);
      expect(config.clickhouse.password).toBe(server.CLICKHOUSE_PASSWORD);
    }
    expect(
      parseConfig(collectorEnv(loadCompose({ ...USER_ENV, CLICKHOUSE_PASSWORD: 's3cret' }))).clickhouse.password,
    ).toBe('s3cret');
  });

  it('sets only variables the collector, the CLI, Node or the ClickHouse image read', () => {
    for (const name of Object.keys(environmentOf(clickhouse))) {
      expect(CLICKHOUSE_IMAGE_VARS.has(name), `clickhouse: ${name}`).toBe(true);
    }
    expect(clientEnv).toContain('SESSIONGRAPH_API_KEY');
    for (const service of [collectorService, demo]) {
      for (const name of Object.keys(environmentOf(service))) {
        expect(OPTION_ENV.has(name) || clientEnv.has(name) || NODE_ENV_VARS.has(name), name).toBe(true);
      }
    }
  });

  it('publishes OTLP/HTTP and OTLP/gRPC, and ClickHouse on loopback only', () => {
    const config = parseConfig(collectorEnv());
    const published = portsOf(collectorService);
    for (const port of [config.port, config.grpcPort]) {
      expect(published.find((p) => p.target === String(port))?.published).toBe(String(port));
    }
    const chPorts = portsOf(clickhouse);
    expect(chPorts.map((p) => p.target)).toContain('8123');
    for (const p of chPorts) expect(p.hostIp, `clickhouse port ${p.target}`).toBe('127.0.0.1');
  });

  it('checks the health of both services, the collector on /healthz without an API key', async () => {
    const chTest = clickhouse.healthcheck?.test ?? [];
    expect(clickhouse.healthcheck?.disable).not.toBe(true);
    expect([chTest].flat().join(' ')).toMatch(/8123\/ping|SELECT 1/);
    const test = [collectorService.healthcheck?.test ?? []].flat();
    const config = parseConfig(collectorEnv());
    expect(test.join(' ')).toContain(`:${config.port}/healthz`);
    // Run it against the test collector (which has API keys) on its own port.
    const local = test.map((a) => a.replace(`:${config.port}/`, `:${collector.port}/`));
    expect(await runHealthcheck(local, {})).toBe(0);
  });

  it('starts the collector once ClickHouse is healthy, and the demo once the collector is', () => {
    const dependsOn = (s: Service): Record<string, { condition?: string }> =>
      Array.isArray(s.depends_on) ? {} : (s.depends_on ?? {});
    expect(dependsOn(collectorService).clickhouse?.condition).toBe('service_healthy');
    expect(dependsOn(demo).collector?.condition).toBe('service_healthy');
  });

  it('keeps ClickHouse data in a named volume', () => {
    const mounts = (clickhouse.volumes ?? []).map((v) =>
      typeof v === 'string'
        ? { source: v.split(':')[0] ?? '', target: v.split(':')[1] ?? '' }
        : { source: v.source ?? '', target: v.target },
    );
    const data = mounts.find((m) => m.target === '/var/lib/clickhouse');
    expect(data, '/var/lib/clickhouse mounted').toBeDefined();
    expect(data?.source).toMatch(/^[\w-]+$/); // a name, not a host path
    expect(Object.keys(compose.volumes ?? {})).toContain(data?.source);
  });

  it('runs the demo only in the demo profile, against the collector, with a key that may ingest and read', () => {
    expect(demo.profiles).toEqual(['demo']);
    for (const name of ['clickhouse', 'collector']) expect(serviceOf(compose, name).profiles).toBeUndefined();
    const command = commandOf(demo);
    expect(command[0]).toBe('demo');
    const url = new URL(command[command.indexOf('--url') + 1] ?? '');
    const config = parseConfig(collectorEnv());
    expect(url.hostname).toBe('collector');
    expect(url.port).toBe(String(config.port));
    const key = environmentOf(demo).SESSIONGRAPH_API_KEY;
    expect(key).toBe(USER_ENV.SESSIONGRAPH_DEMO_API_KEY);
    expect(authorize(config.apiKeys, key, 'ingest')).toBe('ok');
    expect(authorize(config.apiKeys, key, 'read')).toBe('ok');
  });
});
