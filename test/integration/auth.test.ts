/**
 * API keys on a real collector (SPEC §7): with keys configured nothing is read or written
 * without one. Every route needs its scope (`/v1/traces` ingest, everything else read), rejects a
 * missing or unknown key with 401 + WWW-Authenticate and a key of the wrong scope with 403, in
 * OTLP's google.rpc.Status for `/v1/traces` and `{error:{code,message}}` elsewhere; `/healthz`
 * and `/readyz` stay open. Keys never show in responses, logs or the CLI's messages.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../collector/app.ts';
import type { RunningCollector } from '../../collector/server.ts';
import { silentLogger } from '../../src/logger.ts';
import { agentRunSpans, exportBody } from '../helpers/agent-run.ts';
import { runCli, spawnCollector } from '../helpers/cli.ts';
import { queryRows, startTestCollector, tempDir, testConfig } from '../helpers/collector.ts';

// Long, distinctive keys so a leak anywhere is unmistakable.
const INGEST = 'sgk-ingest-only-3f9a1c7e5b2d4086af13c9e7d5b1a2f4';
const READ = 'sgk-read-only-8d2e6b4a0c9f1735be47d2a9c6e0f183';
const BOTH = 'sgk-read-and-ingest-51c7a3e9f0b2d8646e1fa5c3b7d9e024';
const WRONG = 'sgk-never-configured-a07b3e5d9c1f2468b0d6e4a2c8f1357e';
const ALL_KEYS = [INGEST, READ, BOTH, WRONG];
const API_KEYS = `${INGEST}=ingest,${READ}=read,${BOTH}=read+ingest`;

let collector: RunningCollector;
let dataDir: string;
/** Every response body seen in this file, checked for keys at the end. */
const bodies: string[] = [];

beforeAll(async () => {
  dataDir = tempDir();
  collector = await startTestCollector(dataDir, { SESSIONGRAPH_API_KEYS: API_KEYS });
});
afterAll(async () => {
  await collector?.close();
});

const SESSION_ID = '0b5e5510-0000-4000-8000-000000000001';
type Auth = 'none' | 'bearer' | 'x-api-key';
interface Route {
  method: 'GET' | 'POST';
  path: string;
  scope: 'ingest' | 'read';
  body?: string;
  contentType?: string;
}

// Every route createApp mounts (collector/routes/*.ts); the middleware guards unknown paths with
// `read` too. The dashboard's shell (GET /, its page paths and /ui/ files) holds no data and is
// open; its browser test checks that.
const ROUTES: Route[] = [
  { method: 'POST', path: '/v1/traces', scope: 'ingest', body: '{}', contentType: 'application/json' },
  { method: 'POST', path: '/v1/traces', scope: 'ingest', body: '', contentType: 'application/x-protobuf' },
  { method: 'GET', path: '/api/sessions', scope: 'read' },
  { method: 'GET', path: '/api/sessions?status=completed&limit=5', scope: 'read' },
  { method: 'GET', path: `/api/sessions/${SESSION_ID}`, scope: 'read' },
  { method: 'GET', path: `/api/decisions/${SESSION_ID}`, scope: 'read' },
  { method: 'GET', path: '/api/agents', scope: 'read' },
  { method: 'GET', path: `/api/agents/${SESSION_ID}`, scope: 'read' },
  { method: 'POST', path: '/api/sql', scope: 'read', body: 'SELECT 1 AS one', contentType: 'text/plain' },
  { method: 'GET', path: '/metrics', scope: 'read' },
  { method: 'GET', path: '/api/trends?metric=cost&bucket=day', scope: 'read' },
  { method: 'GET', path: `/api/spans/${'a'.repeat(32)}/${'b'.repeat(16)}`, scope: 'read' },
];

async function call(
  route: Route,
  key: string | undefined,
  auth: Auth = 'bearer',
): Promise<{ res: Response; bytes: Uint8Array }> {
  const headers: Record<string, string> = route.contentType ? { 'content-type': route.contentType } : {};
  if (key !== undefined && auth === 'bearer') headers.authorization = `Bearer ${key}`;
  if (key !== undefined && auth === 'x-api-key') headers['x-api-key'] = key;
  const res = await fetch(`${collector.url}${route.path}`, { method: route.method, headers, body: route.body });
  const bytes = new Uint8Array(await res.arrayBuffer());
  bodies.push(Buffer.from(bytes).toString('latin1'));
  return { res, bytes };
}

/** google.rpc.Status { int32 code = 1; string message = 2; } from protobuf bytes. */
function decodeRpcStatus(bytes: Uint8Array): { code: number; message: string } {
  const out = { code: 0, message: '' };
  let i = 0;
  const varint = (): number => {
    let n = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[i++] ?? 0;
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
    }
  };
  while (i < bytes.length) {
    const tag = varint();
    if (tag === 0x08) out.code = varint();
    else if (tag === 0x12) {
      const len = varint();
      out.message = Buffer.from(bytes.subarray(i, i + len)).toString('utf8');
      i += len;
    } else throw new Error(`unexpected tag ${tag} in google.rpc.Status`);
  }
  return out;
}

/** Asserts the rejection body's shape: google.rpc.Status for OTLP, `{error}` for the rest. */
function expectRejection(route: Route, res: Response, bytes: Uint8Array, status: 401 | 403): void {
  expect(res.status).toBe(status);
  if (status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
  const text = Buffer.from(bytes).toString('utf8');
  if (route.path === '/v1/traces') {
    const rpc = status === 401 ? 16 : 7; // UNAUTHENTICATED, PERMISSION_DENIED
    if (route.contentType === 'application/x-protobuf') {
      expect(res.headers.get('content-type')).toBe('application/x-protobuf');
      const decoded = decodeRpcStatus(bytes);
      expect(decoded.code).toBe(rpc);
      expect(decoded.message).toMatch(/API key/);
    } else {
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(JSON.parse(text)).toEqual({ code: rpc, message: expect.stringMatching(/API key/) });
    }
  } else {
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(JSON.parse(text)).toEqual({
      error: { code: status === 401 ? 'unauthorized' : 'forbidden', message: expect.stringMatching(/API key/) },
    });
  }
}

const label = (r: Route): string => `${r.method} ${r.path}${r.contentType ? ` (${r.contentType})` : ''}`;
const keysWith = (scope: Route['scope']): string[] => (scope === 'ingest' ? [INGEST, BOTH] : [READ, BOTH]);
const keyWithout = (scope: Route['scope']): string => (scope === 'ingest' ? READ : INGEST);

describe.each(ROUTES.map((r) => [label(r), r] as const))('%s', (_name, route) => {
  it('without a key → 401 with WWW-Authenticate', async () => {
    const { res, bytes } = await call(route, undefined);
    expectRejection(route, res, bytes, 401);
  });

  it('with a key that is not configured → 401, by either header', async () => {
    for (const auth of ['bearer', 'x-api-key'] as const) {
      const { res, bytes } = await call(route, WRONG, auth);
      expectRejection(route, res, bytes, 401);
    }
  });

  it(`with a key lacking the "${route.scope}" scope → 403, by either header`, async () => {
    for (const auth of ['bearer', 'x-api-key'] as const) {
      const { res, bytes } = await call(route, keyWithout(route.scope), auth);
      expectRejection(route, res, bytes, 403);
      expect(Buffer.from(bytes).toString('utf8')).toContain(route.scope);
    }
  });

  it('with a key of the scope → accepted as Bearer and as x-api-key', async () => {
    for (const key of keysWith(route.scope)) {
      for (const auth of ['bearer', 'x-api-key'] as const) {
        const { res } = await call(route, key, auth);
        expect([401, 403], `${auth} ${key === BOTH ? 'read+ingest' : route.scope} key`).not.toContain(res.status);
        expect(res.status).toBeLessThan(500);
      }
    }
  });
});

describe('open and special cases', () => {
  it.each(['/healthz', '/readyz'])('%s answers 200 without a key', async (p) => {
    const res = await fetch(`${collector.url}${p}`);
    expect(res.status).toBe(200);
    bodies.push(await res.text());
  });

  it('the scheme is case-insensitive; a non-Bearer Authorization falls back to x-api-key', async () => {
    const agents: Route = { method: 'GET', path: '/api/agents', scope: 'read' };
    const lower = await fetch(`${collector.url}/api/agents`, { headers: { authorization: `bearer ${READ}` } });
    expect(lower.status).toBe(200);
    const basic = await fetch(`${collector.url}/api/agents`, {
      headers: { authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': READ },
    });
    expect(basic.status).toBe(200);
    const { res, bytes } = await call(agents, `${READ}x`);
    expectRejection(agents, res, bytes, 401);
    bodies.push(await lower.text(), await basic.text());
  });

  it('encoded, dot-segment and absolute-form paths cannot switch a route to another scope', async () => {
    // Raw HTTP: fetch would normalise these paths before sending them.
    const raw = (method: string, target: string, key: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const socket = net.connect(collector.port, '127.0.0.1', () =>
          socket.write(
            `${method} ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
          ),
        );
        let out = '';
        socket.on('data', (d: Buffer) => (out += d.toString()));
        socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(out)?.[1])));
        socket.on('error', reject);
      });
    for (const target of [
      '/%761/traces',
      '/v1/%74races',
      '/v1/./traces',
      '/v1//traces',
      '/v1/traces/',
      'http://other/v1/traces',
    ]) {
      expect([403, 404], `POST ${target} with a read key`).toContain(await raw('POST', target, READ));
    }
    for (const target of [
      '/api/%61gents',
      '/%61pi/sessions',
      '/healthz/../api/agents',
      '/healthz%2F..%2Fapi%2Fagents',
      '/%6detrics',
      '/api/agents/',
    ]) {
      expect([403, 404], `GET ${target} with an ingest key`).toContain(await raw('GET', target, INGEST));
    }
  });

  it('a rejected OTLP request stores nothing; the same request with an ingest key stores its spans', async () => {
    const traceId = 'a07a0e5000000000000000000000beef';
    const body = exportBody(agentRunSpans(traceId));
    const count = async (): Promise<number> => {
      const rows = await queryRows<{ n: string }>(
        collector.storage,
        'SELECT toString(count()) AS n FROM sessiongraph.otel_traces WHERE TraceId = {t:String}',
        { t: traceId },
      );
      return Number(rows[0]?.n);
    };
    for (const [key, status] of [
      [undefined, 401],
      [WRONG, 401],
      [READ, 403],
    ] as const) {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      };
      const res = await fetch(`${collector.url}/v1/traces`, { method: 'POST', body, headers });
      expect(res.status).toBe(status);
      bodies.push(await res.text());
    }
    await collector.writer.drain();
    expect(await count()).toBe(0);
    const sessions = await queryRows(
      collector.storage,
      'SELECT id FROM sessiongraph.agent_sessions WHERE trace_id = {t:String}',
      { t: traceId },
    );
    expect(sessions).toEqual([]);

    const ok = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-api-key': INGEST },
    });
    expect(ok.status).toBe(200);
    bodies.push(await ok.text());
    expect(await count()).toBe(agentRunSpans(traceId).length);
  });

  it('without configured keys the same storage serves every route without a key (loopback)', async () => {
    const open = createApp({
      storage: collector.storage,
      writer: collector.writer,
      graph: collector.graph,
      config: testConfig(dataDir),
      logger: silentLogger,
    });
    for (const p of ['/api/agents', '/api/sessions', '/metrics']) expect((await open.request(p)).status).toBe(200);
    expect(
      (
        await open.request('/v1/traces', {
          method: 'POST',
          body: '{}',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(200);
  });
});

describe('sessiongraph client commands send the key', () => {
  it('--api-key with a read key works; no key is a 401 message; SESSIONGRAPH_API_KEY works', async () => {
    const withFlag = await runCli(['agents', '--url', collector.url, '--api-key', READ, '--json'], {
      SESSIONGRAPH_API_KEY: '',
    });
    expect(withFlag.code, withFlag.output).toBe(0);
    expect(JSON.parse(withFlag.output)).toHaveProperty('agents');

    const without = await runCli(['agents', '--url', collector.url], { SESSIONGRAPH_API_KEY: '' });
    expect(without.code).toBe(1);
    expect(without.output).toContain('sessiongraph: an API key is required');

    const fromEnv = await runCli(['sessions', '--url', collector.url, '--json'], { SESSIONGRAPH_API_KEY: BOTH });
    expect(fromEnv.code, fromEnv.output).toBe(0);

    const wrongScope = await runCli(['sql', 'SELECT 1', '--url', collector.url, '--api-key', INGEST]);
    expect(wrongScope.code).toBe(1);
    expect(wrongScope.output).toContain('does not have the "read" scope');

    for (const r of [withFlag, without, fromEnv, wrongScope]) {
      for (const k of ALL_KEYS) expect(r.output).not.toContain(k);
    }
  });
});

describe('keys never leak', () => {
  it('the collector command logs no key, whatever requests it gets', async () => {
    const dir = tempDir();
    const keysFile = path.join(dir, 'keys');
    fs.writeFileSync(keysFile, `# file keys\n${BOTH}=read+ingest\n`);
    const proc = await spawnCollector(
      ['serve', '--port', '0', '--data-dir', path.join(dir, 'data'), '--api-keys-file', keysFile],
      {
        SESSIONGRAPH_API_KEYS: `${INGEST}=ingest,${READ}=read`,
      },
    );
    try {
      const send = (p: string, key: string | undefined, init: RequestInit = {}): Promise<Response> =>
        fetch(`${proc.url}${p}`, {
          ...init,
          headers: { ...(init.headers as Record<string, string>), ...(key ? { authorization: `Bearer ${key}` } : {}) },
        });
      const otlp = (
        key: string | undefined,
        body = exportBody(agentRunSpans('1ea4ed0000000000000000000000c0de')),
      ): Promise<Response> =>
        send('/v1/traces', key, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      const responses = await Promise.all([
        otlp(INGEST),
        otlp(BOTH),
        otlp(READ),
        otlp(WRONG),
        otlp(undefined),
        otlp(INGEST, `{"resourceSpans": "${INGEST}"`), // bad data that contains a key
        send('/api/agents', READ),
        send('/api/agents', INGEST),
        send('/api/sessions', WRONG),
        send(`/api/sessions?agent=${WRONG}`, BOTH),
        send('/api/sql', READ, { method: 'POST', body: `SELECT nope_${WRONG}` }),
        send('/metrics', BOTH),
        fetch(`${proc.url}/api/agents`, { headers: { 'x-api-key': WRONG } }),
      ]);
      // The two 400s echo the client's own input (which holds key strings); keep them out of `bodies`.
      const echoes = new Set([5, 10]);
      for (const [i, res] of responses.entries()) {
        const text = await res.text();
        if (!echoes.has(i)) bodies.push(text);
      }
      expect(responses.map((r) => r.status)).toEqual([200, 200, 403, 401, 401, 400, 200, 403, 401, 200, 400, 200, 401]);
    } finally {
      proc.child.kill('SIGTERM');
    }
    expect(await proc.exited).toBe(0);
    const log = proc.output();
    expect(log).toMatch(/listening on/);
    expect(log).toMatch(/stopped/);
    for (const k of ALL_KEYS) expect(log).not.toContain(k);
  });

  it('a bad key list stops the start (exit 2) naming the entry, never the key', async () => {
    const { code, output } = await runCli(['serve', '--port', '0', '--data-dir', tempDir()], {
      SESSIONGRAPH_API_KEYS: `${READ}=read,${BOTH}=superuser`,
    });
    expect(code).toBe(2);
    expect(output).toContain('SESSIONGRAPH_API_KEYS entry 2 has an unknown scope');
    for (const k of ALL_KEYS) expect(output).not.toContain(k);
  });

  it('no response body in this file contained a key', () => {
    expect(bodies.length).toBeGreaterThan(100);
    const leaks = bodies.filter((b) => ALL_KEYS.some((k) => b.includes(k)));
    expect(leaks).toEqual([]);
  });
});
