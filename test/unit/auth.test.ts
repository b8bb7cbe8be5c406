/**
 * API-key configuration (SPEC §6, §7): `SESSIONGRAPH_API_KEYS` / `--api-keys` / `--api-keys-file`
 * parsing with messages that name the entry but never the key, the key check itself, and the
 * rule that a non-loopback address needs keys or `--insecure`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiKeyError, authorize, isLoopbackHost, parseApiKeys, presentedKey } from '../../src/auth.ts';
import { ConfigError, parseConfig, parseFlags } from '../../src/config.ts';
import { runCli } from '../helpers/cli.ts';

const SECRET = 'sgk-unit-secret-9c41e7a2b5d80f36c1a4e9b7d2f05a83';

function keysFile(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiongraph-keys-'));
  const file = path.join(dir, 'keys.txt');
  fs.writeFileSync(file, text);
  return file;
}

describe('parseApiKeys', () => {
  it('parses KEY=SCOPES entries with + joined scopes and surrounding spaces', () => {
    const keys = parseApiKeys(` a=ingest , b=read , ${SECRET}=read+ingest ,c = ingest+read`, 'SESSIONGRAPH_API_KEYS');
    expect(keys.map((k) => [...k.scopes].sort())).toEqual([
      ['ingest'],
      ['read'],
      ['ingest', 'read'],
      ['ingest', 'read'],
    ]);
    expect(authorize(keys, 'a', 'ingest')).toBe('ok');
    expect(authorize(keys, 'a', 'read')).toBe('forbidden');
    expect(authorize(keys, 'b', 'read')).toBe('ok');
    expect(authorize(keys, SECRET, 'read')).toBe('ok');
    expect(authorize(keys, SECRET, 'ingest')).toBe('ok');
    expect(authorize(keys, 'c', 'read')).toBe('ok');
    expect(authorize(keys, 'nope', 'read')).toBe('invalid');
    expect(authorize(keys, undefined, 'read')).toBe('missing');
    expect(authorize(keys, `${SECRET} `, 'read')).toBe('invalid'); // exact match only
  });

  it('keeps only digests of the keys', () => {
    const keys = parseApiKeys(`${SECRET}=read`, 'SESSIONGRAPH_API_KEYS');
    expect(JSON.stringify(keys)).not.toContain(SECRET);
    expect(keys[0]?.digest).toHaveLength(32);
  });

  it('a key may contain "=" (base64); the last "=" separates the scopes', () => {
    const keys = parseApiKeys('YWJjZA==read', 'SESSIONGRAPH_API_KEYS');
    expect(authorize(keys, 'YWJjZA=', 'read')).toBe('ok');
  });

  it.each([
    [`${SECRET}`, 'entry 1 is invalid: expected KEY=SCOPES'],
    [`ok=read,${SECRET}=`, 'entry 2 is invalid: expected KEY=SCOPES'],
    [`${SECRET}=read+`, 'entry 1 is invalid: expected KEY=SCOPES'],
    [`=read`, 'entry 1 is invalid: expected KEY=SCOPES'],
    [
      `ok=read,ok2=ingest,${SECRET}=root`,
      'entry 3 has an unknown scope (scopes are ingest, read and admin, joined by +)',
    ],
    [`${SECRET}=read+Admin`, 'entry 1 has an unknown scope'],
    [`my ${SECRET}=read`, 'entry 1 is invalid: a key must not contain spaces'],
  ])('%s → ApiKeyError naming the entry, not the key', (text, message) => {
    let error: unknown;
    try {
      parseApiKeys(text, 'SESSIONGRAPH_API_KEYS');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ApiKeyError);
    expect((error as Error).message).toContain(`SESSIONGRAPH_API_KEYS ${message}`);
    expect((error as Error).message).not.toContain(SECRET);
  });
});

describe('presentedKey', () => {
  it('reads Authorization: Bearer KEY first, then x-api-key', () => {
    expect(presentedKey(`Bearer ${SECRET}`, undefined)).toBe(SECRET);
    expect(presentedKey(`bearer   ${SECRET}  `, undefined)).toBe(SECRET);
    expect(presentedKey(undefined, ` ${SECRET} `)).toBe(SECRET);
    expect(presentedKey('Bearer a', 'b')).toBe('a');
    expect(presentedKey('Basic dXNlcjpwYXNz', 'b')).toBe('b');
    expect(presentedKey('Bearer', undefined)).toBeUndefined();
    expect(presentedKey('Bearer a b', undefined)).toBeUndefined();
    expect(presentedKey(undefined, '  ')).toBeUndefined();
  });
});

describe('API keys in the configuration', () => {
  it('reads SESSIONGRAPH_API_KEYS and --api-keys (the flag wins)', () => {
    expect(parseConfig({ SESSIONGRAPH_API_KEYS: 'k1=ingest,k2=read+ingest' }).apiKeys).toHaveLength(2);
    const c = parseConfig({ SESSIONGRAPH_API_KEYS: 'k1=ingest,k2=read' }, parseFlags(['--api-keys', 'k3=read']));
    expect(c.apiKeys).toHaveLength(1);
    expect(authorize(c.apiKeys, 'k3', 'read')).toBe('ok');
    expect(authorize(c.apiKeys, 'k1', 'ingest')).toBe('invalid');
  });

  it('reads a keys file with comments, blank lines and CRLF, on top of the inline keys', () => {
    const file = keysFile(
      `# sessiongraph keys\n\n  # indented comment\nfile-ingest=ingest\r\n\r\nfile-read=read\n   \nfile-both = read+ingest\n`,
    );
    const c = parseConfig({ SESSIONGRAPH_API_KEYS: 'inline=read' }, parseFlags(['--api-keys-file', file]));
    expect(c.apiKeys).toHaveLength(4);
    expect(authorize(c.apiKeys, 'file-ingest', 'ingest')).toBe('ok');
    expect(authorize(c.apiKeys, 'file-read', 'read')).toBe('ok');
    expect(authorize(c.apiKeys, 'file-both', 'ingest')).toBe('ok');
    expect(authorize(c.apiKeys, 'inline', 'read')).toBe('ok');
    expect(authorize(c.apiKeys, '# sessiongraph keys', 'read')).toBe('invalid');
    expect(parseConfig({ SESSIONGRAPH_API_KEYS_FILE: file }).apiKeys).toHaveLength(3);
  });

  it('a bad keys file names the file and the line, never the key', () => {
    const file = keysFile(`# comment\ngood=read\n${SECRET}=root\n`);
    const run = (): unknown => parseConfig({ SESSIONGRAPH_API_KEYS_FILE: file });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(`SESSIONGRAPH_API_KEYS_FILE (${file}) line 3 has an unknown scope`); // line 3 of the file, counting the comment
    try {
      run();
    } catch (err) {
      expect((err as Error).message).not.toContain(SECRET);
    }
    expect(() => parseConfig({}, parseFlags(['--api-keys-file', '/nonexistent/keys']))).toThrow(
      '--api-keys-file="/nonexistent/keys": cannot read the keys file',
    );
  });

  it('bad inline keys are a ConfigError naming the source', () => {
    expect(() => parseConfig({ SESSIONGRAPH_API_KEYS: 'k1' })).toThrow(
      new ConfigError(
        'SESSIONGRAPH_API_KEYS entry 1 is invalid: expected KEY=SCOPES, e.g. k1=ingest or k2=read+ingest',
      ),
    );
    expect(() => parseConfig({}, parseFlags([`--api-keys=${SECRET}=root`]))).toThrow(
      '--api-keys entry 1 has an unknown scope',
    );
  });
});

describe('listening address and keys', () => {
  const refusal =
    /refusing to listen on (0\.0\.0\.0|::|192\.168\.1\.10|example\.com) without API keys.*SESSIONGRAPH_API_KEYS.*--insecure/;

  it.each(['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1'])(
    'loopback %s is allowed without keys',
    (host) => {
      expect(parseConfig({ SESSIONGRAPH_HOST: host }).host).toBe(host);
      expect(isLoopbackHost(host)).toBe(true);
    },
  );

  it.each(['0.0.0.0', '::', '192.168.1.10', 'example.com'])(
    '%s without keys is refused, naming SESSIONGRAPH_API_KEYS and --insecure',
    (host) => {
      expect(isLoopbackHost(host)).toBe(false);
      expect(() => parseConfig({ SESSIONGRAPH_HOST: host })).toThrow(refusal);
      expect(() => parseConfig({}, parseFlags(['--host', host]))).toThrow(ConfigError);
    },
  );

  it('0.0.0.0 with keys (inline or file) is allowed', () => {
    expect(parseConfig({ SESSIONGRAPH_HOST: '0.0.0.0', SESSIONGRAPH_API_KEYS: 'k=read' }).host).toBe('0.0.0.0');
    expect(
      parseConfig({}, parseFlags(['--host', '0.0.0.0', '--api-keys-file', keysFile('k=ingest\n')])).apiKeys,
    ).toHaveLength(1);
  });

  it('--insecure (or SESSIONGRAPH_INSECURE=true) allows 0.0.0.0 without keys', () => {
    const flag = parseConfig({}, parseFlags(['--host', '0.0.0.0', '--insecure']));
    expect(flag).toMatchObject({ host: '0.0.0.0', insecure: true, apiKeys: [] });
    expect(parseConfig({ SESSIONGRAPH_HOST: '0.0.0.0', SESSIONGRAPH_INSECURE: 'true' }).insecure).toBe(true);
    expect(parseConfig({ SESSIONGRAPH_HOST: '0.0.0.0' }, parseFlags(['--insecure=1'])).insecure).toBe(true);
    expect(parseConfig({}).insecure).toBe(false);
    expect(() => parseConfig({ SESSIONGRAPH_HOST: '0.0.0.0' }, parseFlags(['--insecure=false']))).toThrow(refusal);
    expect(() => parseConfig({ SESSIONGRAPH_INSECURE: 'yes' })).toThrow(
      'SESSIONGRAPH_INSECURE="yes" is invalid: expected true or false',
    );
  });

  it('`sessiongraph serve --host 0.0.0.0` without keys exits 2 with the refusal', async () => {
    const { code, output } = await runCli(['serve', '--host', '0.0.0.0', '--port', '0'], {
      SESSIONGRAPH_API_KEYS: '',
      SESSIONGRAPH_API_KEYS_FILE: '',
      SESSIONGRAPH_INSECURE: '',
    });
    expect(code).toBe(2);
    expect(output).toMatch(/^sessiongraph: refusing to listen on 0\.0\.0\.0 without API keys/);
    expect(output).toContain('SESSIONGRAPH_API_KEYS');
    expect(output).toContain('--insecure');
  });
});
