/**
 * Server mode against a real ClickHouse server: Debian's 18.16 is far too old for the schema,
 * so the collector must refuse to start with a message naming the minimum version.
 * `.ci/run` installs the package; elsewhere the test is skipped with the reason printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { MIN_SERVER_VERSION, UnsupportedServerError } from '../../src/storage/schema.ts';
import { openClickHouse } from '../../src/storage/client.ts';
import { createStorage, migrateStorage } from '../../src/storage/storage.ts';
import { runCli, spawnCollector } from '../helpers/cli.ts';
import { tempDir } from '../helpers/collector.ts';
import { hasClickHouseServer, startClickHouseServer, type LocalServer } from '../helpers/old-clickhouse.ts';

// In CI the server must be there (.ci/run installs it): a missing install fails loudly there.
const available = hasClickHouseServer() || process.env.CI === 'true';
if (!available)
  console.warn(
    'clickhouse-server is not installed (apt-get install clickhouse-server): skipping the server-mode tests',
  );

describe.runIf(available)('server mode against Debian clickhouse-server 18.16', () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await startClickHouseServer(tempDir('sessiongraph-ch18-'));
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('the schema migration refuses the old server, naming the minimum version', async () => {
    const config = parseConfig({ CLICKHOUSE_URL: server.url });
    const storage = createStorage(openClickHouse(config), config.clickhouse.database);
    const error = await migrateStorage(storage).then(
      () => undefined,
      (e: unknown) => e,
    );
    await storage.close();
    expect(error).toBeInstanceOf(UnsupportedServerError);
    expect((error as Error).message).toContain(`ClickHouse server 18.16`);
    expect((error as Error).message).toContain(`version ${MIN_SERVER_VERSION} or newer is required`);
  });

  it('the command exits 1 with the same message and creates nothing on the server', async () => {
    const { code, output } = await runCli(['serve', '--port', '0', '--clickhouse-url', server.url]);
    expect(code).toBe(1);
    expect(output).toMatch(
      new RegExp(
        `sessiongraph: ClickHouse server 18\\.16[\\d.]* is too old .* version ${MIN_SERVER_VERSION.replace('.', '\\.')} or newer`,
      ),
    );
    const dbs = await (
      await fetch(
        `${server.url}/?query=${encodeURIComponent("SELECT count() FROM system.databases WHERE name = 'sessiongraph'")}`,
      )
    ).text();
    expect(dbs.trim()).toBe('0');
  });

  it('an unreachable server does not stop the start: not ready, 503 + Retry-After, healthz alive', async () => {
    const collector = await spawnCollector(['serve', '--port', '0', '--clickhouse-url', 'http://127.0.0.1:9']);
    try {
      expect(collector.output()).toMatch(
        /cannot reach ClickHouse at http:\/\/127\.0\.0\.1:9\/: .*ECONNREFUSED.*; starting anyway, not ready, retrying every 5 s/,
      );
      expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${collector.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { reason: string }).reason).toMatch(/cannot reach ClickHouse/);
      const res = await fetch(`${collector.url}/v1/traces`, {
        method: 'POST',
        body: '{"resourceSpans":[]}',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      collector.child.kill('SIGTERM');
      expect(await collector.exited).toBe(0);
    }
  });
});
