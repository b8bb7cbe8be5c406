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
import { createPricer } from '../src/pricing/pricer.ts';
import { loadPriceFile } from '../src/pricing/price-file.ts';
import { createGraphWriter, type GraphWriter } from '../src/storage/graph-writer.ts';
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
  graph: GraphWriter;
  close(): Promise<void>;
}

/** Opens storage and listens on `config.host:config.port` (port 0 picks a free port). */
export async function startCollector(config: Config, logger: Logger): Promise<RunningCollector> {
  // Read the price file before opening storage: a bad file fails the start with its own message.
  const pricer = createPricer(config.pricesFile ? loadPriceFile(config.pricesFile) : undefined);
  const storage = await openStorage(config);
  const graph = createGraphWriter(storage, { pricer, sessionTimeoutMs: config.sessionTimeoutMs });
  const writer = new SpanWriter((batch) => graph.storeBatch(batch), config);
  const app = createApp({ storage, writer, graph, config, logger });
  const sweeper = startAbandonSweeper(graph, config.sessionTimeoutMs, logger);
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
    graph,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Requests already inside wait for their insert; give them time, then cut the rest.
        const force = setTimeout(() => server.closeAllConnections(), 10_000);
        await writer.drain();
        await stopped;
        clearTimeout(force);
        clearInterval(sweeper);
        await storage.close();
      })();
      return closing;
    },
  };
}

/**
 * Marks rootless sessions abandoned once the timeout has passed (SPEC §3): every minute, or
 * more often for short timeouts, and once right after start for sessions left from before.
 */
function startAbandonSweeper(graph: GraphWriter, timeoutMs: number, logger: Logger): NodeJS.Timeout {
  let running = false;
  const sweep = (): void => {
    if (running) return;
    running = true;
    graph
      .sweepAbandoned()
      .then((n) => {
        if (n > 0) logger.info('sessions abandoned', { count: n });
      })
      .catch((err: unknown) => logger.warn('abandoned-session sweep failed', { error: String(err) }))
      .finally(() => {
        running = false;
      });
  };
  setImmediate(sweep);
  const timer = setInterval(sweep, Math.min(60_000, Math.max(1000, Math.floor(timeoutMs / 4))));
  timer.unref();
  return timer;
}
