/**
 * The packages as users install them (issue: "Install it like a real package"): `npm pack` of the
 * collector and of the agent SDK, each installed from its tarball into a fresh plain-JavaScript
 * project (offline, from the tarball and the local npm cache). The SDK installs without chDB or
 * any server dependency, imports under plain `node`, compiles for a strict TypeScript consumer,
 * and its agent's session reaches a running collector; the collector's tarball holds the built
 * JavaScript, the bin, README and licence — no tests, fixtures or TypeScript sources — and its
 * `sessiongraph` (`--help`, and `serve` storing and answering) runs with no TypeScript loader installed.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCollector, type CollectorProcess } from '../helpers/cli.ts';
import { tempDir } from '../helpers/collector.ts';
import { installOffline } from '../helpers/offline-install.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const TSC = path.join(REPO, 'node_modules/.bin/tsc');
const work = tempDir('sessiongraph-pack-');
let sdkTarball: string;
let mainTarball: string;

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
}

/** A fresh plain-JavaScript project with `tarballs` installed from the local cache only. */
function freshProject(name: string, tarballs: string[]): string {
  return installOffline(path.join(work, name), tarballs);
}

beforeAll(() => {
  const packed = (args: string[]): string => {
    const out = JSON.parse(npm(['pack', '--json', '--pack-destination', work, ...args], REPO)) as Array<{
      filename: string;
    }>;
    return path.join(work, out[0]?.filename ?? '');
  };
  sdkTarball = packed(['-w', 'sessiongraph-sdk']);
  mainTarball = packed([]);
}, 120_000);

describe('the agent SDK package (sessiongraph-sdk)', () => {
  let project: string;
  let collector: CollectorProcess;
  beforeAll(async () => {
    project = freshProject('sdk-user', [sdkTarball]);
    collector = await spawnCollector([
      'serve',
      '--data-dir',
      path.join(work, 'data'),
      '--port',
      '0',
      '--grpc-port',
      'off',
    ]);
  }, 120_000);
  afterAll(async () => {
    collector?.child.kill('SIGTERM');
    await collector?.exited;
  });

  it('installs the OpenTelemetry API, SDK and exporter only: no chDB, no ClickHouse client, no server', () => {
    const installed = fs.readdirSync(path.join(project, 'node_modules'));
    for (const heavy of ['chdb', '@clickhouse', 'hono', '@hono', '@grpc', 'prom-client', 'tsx', 'sessiongraph'])
      expect(installed, heavy).not.toContain(heavy);
    const own = JSON.parse(
      fs.readFileSync(path.join(project, 'node_modules/sessiongraph-sdk/package.json'), 'utf8'),
    ) as Record<string, Record<string, string>>;
    expect(
      Object.keys({ ...own.dependencies, ...own.peerDependencies }).every((d) => d.startsWith('@opentelemetry/')),
    ).toBe(true);
    expect(fs.readdirSync(path.join(project, 'node_modules/sessiongraph-sdk')).sort()).toEqual([
      'LICENSE',
      'README.md',
      'dist',
      'package.json',
    ]);
  });

  it('runs an agent under plain node whose session reaches the collector', async () => {
    fs.writeFileSync(
      path.join(project, 'agent.mjs'),
      `import { agentSession, decision, llmCall, sessionIdOf, startTracing, toolCall } from 'sessiongraph-sdk';
       import { trace } from '@opentelemetry/api';
       const tracing = startTracing({ endpoint: process.env.COLLECTOR, serviceName: 'packaged-agent' });
       let traceId = '';
       await agentSession({ agent: { name: 'packaged', version: '1.0.0' }, input: 'check the package' }, async () => {
         traceId = trace.getActiveSpan().spanContext().traceId;
         await llmCall({ model: 'gpt-4o', provider: 'openai' }, async (call) => { call.usage({ inputTokens: 100, outputTokens: 20 }); return 'ok'; });
         await toolCall('lookup', { q: 1 }, async () => ({ found: true }));
         decision({ title: 'Ship it', rationale: 'it installs' });
         return 'done';
       });
       await tracing.shutdown();
       console.log(sessionIdOf(traceId));`,
    );
    const run = spawnSync(process.execPath, ['agent.mjs'], {
      cwd: project,
      encoding: 'utf8',
      env: { ...process.env, COLLECTOR: collector.url, NODE_OPTIONS: '' },
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const sessionId = run.stdout.trim();
    let body: Record<string, any> = {};
    for (let i = 0; i < 50 && !body.session; i++) {
      body = (await (await fetch(`${collector.url}/api/sessions/${sessionId}`)).json()) as Record<string, any>;
      if (!body.session) await new Promise((r) => setTimeout(r, 100));
    }
    expect(body.session).toMatchObject({
      agent_name: 'packaged',
      service_name: 'packaged-agent',
      tokens_used: 120,
      tools_invoked: ['lookup'],
      session_status: 'completed',
    });
    expect(body.decisions.map((d: { title: string }) => d.title)).toEqual(['Ship it']);
  });

  it('compiles for a strict TypeScript consumer', () => {
    // A strict consumer has Node's types; linked from the repository's, since they are not the SDK's to install.
    fs.symlinkSync(path.join(REPO, 'node_modules/@types'), path.join(project, 'node_modules/@types'));
    fs.writeFileSync(
      path.join(project, 'agent.ts'),
      `import { agentSession, llmCall, toolCall, decision, startTracing, type Tracing } from 'sessiongraph-sdk';
       const tracing: Tracing = startTracing({ endpoint: 'http://127.0.0.1:4318', serviceName: 'typed' });
       const answer: string = await agentSession({ agent: { name: 'typed' }, input: 'hi' }, async () => {
         await llmCall({ model: 'gpt-4o', provider: 'openai' }, async (call) => { call.usage({ inputTokens: 1, outputTokens: 1 }); return 'x'; });
         const found: { ok: boolean } = await toolCall('t', {}, async () => ({ ok: true }));
         decision({ title: 'typed', rationale: String(found.ok) });
         return 'done';
       });
       console.log(answer);
       await tracing.shutdown();`,
    );
    const tsc = spawnSync(
      TSC,
      [
        '--strict',
        '--noEmit',
        '--skipLibCheck',
        'false',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--types',
        'node',
        'agent.ts',
      ],
      { cwd: project, encoding: 'utf8' },
    );
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });
});

describe('the collector package (sessiongraph)', () => {
  it('holds dist/, the bin, README and licence; no tests, fixtures or TypeScript sources', () => {
    const files = execFileSync('tar', ['-tzf', mainTarball], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'LICENSE',
        'bin/sessiongraph.mjs',
        'dist/collector/cli.js',
        'dist/src/index.js',
        'dist/src/index.d.ts',
        'dist/src/dashboard/assets/index.html',
      ]),
    );
    expect(files.filter((f) => /^(test|bench|examples|docs)\/|\.test\.|fixtures/.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('installed from its tarball: `npx sessiongraph --help` and `sessiongraph serve` run with no TypeScript loader, and the library imports under plain node', async () => {
    const project = freshProject('operator', [mainTarball]);
    expect(fs.existsSync(path.join(project, 'node_modules/tsx'))).toBe(false);
    const help = spawnSync('npx', ['--offline', '--no-install', 'sessiongraph', '--help'], {
      cwd: project,
      encoding: 'utf8',
    });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('sessiongraph — an OpenTelemetry trace collector for AI agents');

    // The collector itself, started from the installed package: it listens, stores and answers.
    const bin = path.join(project, 'node_modules/.bin/sessiongraph');
    const serve = spawn(bin, ['serve', '--port', '0', '--grpc-port', 'off', '--data-dir', path.join(project, 'data')], {
      cwd: project,
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let output = '';
        serve.stderr.on('data', (d: Buffer) => {
          output += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(output);
          if (m?.[1]) resolve(m[1]);
        });
        serve.once('exit', (code) => reject(new Error(`sessiongraph serve exited ${code}: ${output}`)));
      });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      expect((await fetch(`${url}/`)).headers.get('content-type')).toMatch(/^text\/html/); // the dashboard ships too
    } finally {
      serve.kill('SIGTERM');
      await new Promise((r) => serve.once('exit', r));
    }

    const lib = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('sessiongraph'); console.log(typeof m.startTracing, m.sessionIdOf('4bf92f3577b34da6a3ce929d0e0e4736'))",
      ],
      { cwd: project, encoding: 'utf8' },
    );
    expect(lib.stderr).toBe('');
    expect(lib.stdout.trim()).toBe('function 4bf92f35-77b3-4da6-a3ce-929d0e0e4736');
  }, 180_000);
});
