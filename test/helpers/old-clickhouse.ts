/**
 * Starts Debian's `clickhouse-server` (18.16, far older than the schema needs) as a user-space
 * process on loopback, with its own data directory and free ports (NOTES.md, "ClickHouse servers").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Where Debian's package installs the server binary. */
export const CLICKHOUSE_SERVER_BIN = '/usr/sbin/clickhouse-server';
const CONFIG = '/etc/clickhouse-server/config.xml';

/** A running server and how to stop it. */
export interface LocalServer {
  url: string;
  stop(): Promise<void>;
}

/** True when Debian's clickhouse-server package is installed here. */
export function hasClickHouseServer(): boolean {
  return fs.existsSync(CLICKHOUSE_SERVER_BIN) && fs.existsSync(CONFIG);
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts the server in `dir` and resolves once its HTTP interface answers /ping. */
export async function startClickHouseServer(dir: string): Promise<LocalServer> {
  const [http, tcp, interserver] = [await freePort(), await freePort(), await freePort()];
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  const child: ChildProcess = spawn(
    CLICKHOUSE_SERVER_BIN,
    [
      `--config-file=${CONFIG}`,
      '--',
      `--path=${dir}/`,
      `--tmp_path=${dir}/tmp/`,
      `--logger.log=${dir}/server.log`,
      `--logger.errorlog=${dir}/server.err.log`,
      '--listen_host=127.0.0.1',
      `--http_port=${http}`,
      `--tcp_port=${tcp}`,
      `--interserver_http_port=${interserver}`,
    ],
    { stdio: 'ignore', cwd: dir },
  );
  const url = `http://127.0.0.1:${http}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`clickhouse-server exited with ${child.exitCode}; see ${dir}/server.err.log`);
    try {
      const res = await fetch(`${url}/ping`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`clickhouse-server did not answer on ${url} within 30 s; see ${dir}/server.err.log`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
