/**
 * Starts a collector: open storage (migrating the schema) → span writer → app → listen (HTTP,
 * then OTLP/gRPC). `close()` is the graceful path SIGTERM takes: stop accepting, store what was
 * accepted, close storage.
 */
import type { AddressInfo } from 'node:net';
import type { Hono } from 'hono';
import type { Config } from '../src/config.ts';
import type { Logger } from '../src/logger.ts';
import { createPricer } from '../src/pricing/pricer.ts';
import { loadPriceFile } from '../src/pricing/price-file.ts';
import { createGraphWriter, type GraphWriter } from '../src/ingest/graph-writer.ts';
import { SpanWriter } from '../src/ingest/span-writer.ts';
import { openClickHouse } from '../src/storage/client.ts';
import { createStorage, migrateStorage, StorageUnreachableError, type Storage } from '../src/storage/storage.ts';
import { applyRetention, spansOutliveGraph, sweepExpiredContent } from '../src/retention/retention.ts';
import { createApp, createReceivers, type Receivers } from './app.ts';
import { startGrpcReceiver, type GrpcReceiver } from './grpc/grpc-server.ts';
import { logsExportService } from './grpc/logs-service.ts';
import { traceExportService } from './grpc/trace-service.ts';
import { createHttpServer } from './http-server.ts';
import { createHistograms } from './histograms.ts';

/** A listening collector. */
export interface RunningCollector {
  url: string;
  port: number;
  /** OTLP/gRPC endpoint (`http://host:port`) and port; undefined with --grpc-port off. */
  grpcUrl: string | undefined;
  grpcPort: number | undefined;
  app: Hono;
  /** The OTLP receivers HTTP and gRPC share (counters, writers). */
  receivers: Receivers;
  storage: Storage;
  writer: SpanWriter;
  graph: GraphWriter;
  close(): Promise<void>;
}

/** `report`, at most once per `ms` (a failing roll-up retries every second). */
function onceEvery(ms: number, report: (err: unknown) => void): (err: unknown) => void {
  let last = -Infinity;
  return (err) => {
    if (Date.now() - last < ms) return;
    last = Date.now();
    report(err);
  };
}

/** How long close() lets requests in flight finish before it cuts their connections. */
const CLOSE_GRACE_MS = 10_000;

/** Opens storage and listens on `config.host:config.port` and `:config.grpcPort` (port 0 picks a free port). */
export async function startCollector(config: Config, logger: Logger): Promise<RunningCollector> {
  // Read the price file before opening storage: a bad file fails the start with its own message.
  const pricer = createPricer(config.pricesFile ? loadPriceFile(config.pricesFile) : undefined);
  const storage = createStorage(openClickHouse(config), config.clickhouse.database);
  const histograms = createHistograms();
  const graph = createGraphWriter(storage, {
    pricer,
    sessionTimeoutMs: config.sessionTimeoutMs,
    keepSessionCalls: spansOutliveGraph(config.retention) === false,
    observeLag: (seconds) => histograms.rollUpLag.observe(seconds),
    onRollUpError: onceEvery(60_000, (err) =>
      logger.warn('session roll-up failed; retrying every second', { error: String(err) }),
    ),
  });
  const writer = new SpanWriter(
    (batch) => graph.storeBatch(batch),
    config,
    () => storage.ping(),
  );
  let schema: SchemaPreparation;
  try {
    schema = await prepareSchema(storage, graph, writer, config, logger);
  } catch (err) {
    await storage.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  const receivers = createReceivers({ storage, writer, graph, config });
  const app = createApp({
    storage,
    writer,
    graph,
    config,
    logger,
    receivers,
    histograms,
    isClosing: () => closing !== undefined,
  });
  const sweeper = startAbandonSweeper(graph, config.sessionTimeoutMs, logger);
  const contentSweeper = startContentSweeper(storage, config.retention.contentSeconds, logger);
  // Erased traces: re-read every minute, for erasures made through other collectors on the same server.
  const loadErased = (): void =>
    void receivers.erased
      .load(storage)
      .catch((err: unknown) => logger.warn('could not read the erasure records', { error: String(err) }));
  loadErased();
  const erasedReloader = setInterval(loadErased, 60_000);
  erasedReloader.unref();
  const server = createHttpServer(app, config, logger);
  let grpc: GrpcReceiver | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    grpc = await startGrpc(config, logger, receivers, () => closing !== undefined);
  } catch (err) {
    server.close();
    clearInterval(sweeper);
    clearInterval(contentSweeper);
    clearInterval(erasedReloader);
    schema.stop();
    writer.stop();
    await storage.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${port}`,
    port,
    grpcUrl: grpc?.url,
    grpcPort: grpc?.port,
    app,
    receivers,
    storage,
    writer,
    graph,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // New calls get UNAVAILABLE (isClosing), calls in flight finish, then connections close.
        const grpcStopped = grpc?.close(CLOSE_GRACE_MS);
        server.closeIdleConnections();
        // Requests already inside wait for their insert; give them time, then cut the rest.
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        await Promise.all([writer.drain(), receivers.logs.writer.drain()]);
        // Sessions are rolled up behind the ack: finish them (a crash instead leaves them to the next start).
        await graph.drain();
        await stopped;
        await grpcStopped;
        clearTimeout(force);
        clearInterval(sweeper);
        clearInterval(contentSweeper);
        clearInterval(erasedReloader);
        schema.stop();
        writer.stop();
        receivers.logs.writer.stop();
        await storage.close();
      })();
      return closing;
    },
  };
}

/** Starts the OTLP/gRPC receiver unless --grpc-port is off; its services share the HTTP routes' receivers. */
async function startGrpc(
  config: Config,
  logger: Logger,
  receivers: Receivers,
  isClosing: () => boolean,
): Promise<GrpcReceiver | undefined> {
  if (config.grpcPort === undefined) return undefined;
  const services = [traceExportService(receivers.traces), logsExportService(receivers.logs)];
  const grpc = await startGrpcReceiver(config.grpcPort, { config, logger, services, isClosing });
  // Not "listening on http://…": the CLI's own line after this one is what scripts look for.
  logger.info('OTLP/gRPC receiver started', {
    address: grpc.url.replace(/^http:\/\//, ''),
    services: services.map((s) => s.name).join(','),
  });
  return grpc;
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

/**
 * With --retain-content, replaces the content that crossed the limit since the last sweep by
 * `[expired]` (retention.ts): at start, then every hour — or at half the limit, when shorter.
 */
function startContentSweeper(
  storage: Storage,
  contentSeconds: number | undefined,
  logger: Logger,
): NodeJS.Timeout | undefined {
  if (contentSeconds === undefined) return undefined;
  let running = false;
  const sweep = (): void => {
    if (running) return;
    running = true;
    sweepExpiredContent(storage, contentSeconds)
      .catch((err: unknown) =>
        logger.warn('expired-content sweep failed; retrying at the next one', { error: String(err) }),
      )
      .finally(() => {
        running = false;
      });
  };
  setImmediate(sweep);
  const timer = setInterval(sweep, Math.min(3_600_000, Math.max(1000, (contentSeconds * 1000) / 2)));
  timer.unref();
  return timer;
}

/** A schema preparation that may still be retrying in the background. */
interface SchemaPreparation {
  stop(): void;
}

/**
 * Migrates the schema and recovers batches a crash left half-done. A server too old, or one
 * refusing a statement, fails the start; an unreachable one does not: the collector starts
 * not ready (503 + Retry-After, /readyz 503) and retries every 5 s, as OpenTelemetry
 * Collector exporters do, so a collector may start before its ClickHouse.
 */
async function prepareSchema(
  storage: Storage,
  graph: GraphWriter,
  writer: SpanWriter,
  config: Config,
  logger: Logger,
): Promise<SchemaPreparation> {
  const prepare = async (): Promise<void> => {
    await migrateStorage(storage);
    const changed = await applyRetention(storage, config.retention);
    if (changed.length > 0) logger.info('retention changed', { ttl: changed.join(', ') });
    const recovered = await graph.recoverInFlight();
    if (recovered > 0)
      logger.info('recomputed the traces of the last batches before the previous stop', { traces: recovered });
  };
  try {
    await prepare();
    return { stop() {} };
  } catch (err) {
    if (!(err instanceof StorageUnreachableError)) throw err;
    writer.markUnavailable(err.message, false);
    logger.warn(`${err.message}; starting anyway, not ready, retrying every 5 s`);
  }
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const retry = (): void => {
    timer = setTimeout(() => {
      prepare()
        .then(() => {
          writer.markAvailable();
          logger.info('storage ready', { location: storage.location });
        })
        .catch((err: unknown) => {
          if (!(err instanceof StorageUnreachableError))
            logger.error('storage refused the schema', { error: String(err) });
          if (!stopped) retry();
        });
    }, 5000);
    timer.unref();
  };
  retry();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
