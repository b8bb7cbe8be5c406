/**
 * Test helpers: a real collector on a real loopback port over the embedded engine, with a data
 * directory of its own (chDB binds one directory per process, and vitest forks one process per file).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig, type Config } from '../../src/config.ts';
import { silentLogger } from '../../src/logger.ts';
import { openClickHouse } from '../../src/storage/client.ts';
import { createStorage, type Storage } from '../../src/storage/storage.ts';
import { startCollector, type RunningCollector } from '../../collector/server.ts';

/** A fresh temporary directory under the OS temp dir. */
export function tempDir(prefix = 'sessiongraph-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Config for tests: embedded engine in `dataDir`, any free port, plus overrides (env names). */
export function testConfig(dataDir: string, env: Record<string, string> = {}): Config {
  return parseConfig({ SESSIONGRAPH_DATA_DIR: dataDir, SESSIONGRAPH_PORT: '0', ...env });
}

/** Starts a collector listening on 127.0.0.1:<free port>. */
export function startTestCollector(dataDir: string, env: Record<string, string> = {}): Promise<RunningCollector> {
  return startCollector(testConfig(dataDir, env), silentLogger);
}

/** Runs a query with bound parameters and returns its rows. */
export async function queryRows<T = Record<string, unknown>>(
  storage: Storage,
  query: string,
  params: Record<string, unknown> = {},
): Promise<T[]> {
  const result = await storage.client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}

/** Opens an embedded engine's data directory outside a collector (one per process): a stopped collector's, or a bench's. */
export function openStoppedDataDir(dataDir: string): Storage {
  return createStorage(
    openClickHouse({
      dataDir,
      clickhouse: {
        url: undefined,
        user: '',
        password: '',
        database: 'sessiongraph',
        readUser: undefined,
        readPassword: '',
        cluster: undefined,
      },
    }),
    'sessiongraph',
  );
}
