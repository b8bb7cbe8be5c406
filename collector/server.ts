/**
 * Starts a collector: open storage (migrating the schema) → span writer → app → listen.
 * `close()` is the graceful path SIGTERM takes: stop accepting, store what was accepted,
 * close storage.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Config } from '../src/config.ts';
import type { Logger } from '../src/logger.ts';
import { SpanWriter } from '../src/storage/span-writer.ts';
import { openStorage, type Storage } from '../src/storage/storage.ts';
import { createApp } from './app.ts';

/** A listening collector. */
export interface RunningCollector {
  url: string;
  port: number;
  app: Hono;
  storage: Storage;
  writer: SpanWriter;
  close(): Promise<void>;
}

/** Opens storage and listens on `config.host:config.port` (port 0 picks a free port). */
export async function startCollector(config: Config, logger: Logger): Promise<RunningCollector> {
  const storage = await openStorage(config);
  const writer = new SpanWriter((lines) => storage.insertSpans(lines), config);
  const app = createApp({ storage, writer, config, logger });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  server.requestTimeout = 120_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    await storage.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    app,
    storage,
    writer,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Requests already inside wait for their insert; give them time, then cut the rest.
        const force = setTimeout(() => server.closeAllConnections(), 10_000);
        await writer.drain();
        await stopped;
        clearTimeout(force);
        await storage.close();
      })();
      return closing;
    },
  };
}
