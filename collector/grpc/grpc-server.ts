/**
 * The OTLP/gRPC receiver (SPEC §6; OTLP spec "OTLP/gRPC"): a grpc-js server on --host:--grpc-port
 * serving a list of OTLP export services (traces and logs). Messages are limited to
 * --max-body-size after decompression (grpc-js answers RESOURCE_EXHAUSTED beyond it, final for
 * exporters, as OTLP/gRPC prescribes); gzip and deflate requests are decompressed by grpc-js.
 */
import { Server, ServerCredentials, type handleUnaryCall } from '@grpc/grpc-js';
import type { Config } from '../../src/config.ts';
import { SessiongraphError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import { presentedKey } from '../../src/auth.ts';
import { firstText, gateCalls } from './call-gate.ts';
import { exportPath, exportServiceDefinition, type ExportService } from './export-service.ts';
import { grpcStatusOf } from './status.ts';

/** What the gRPC receiver needs. */
export interface GrpcReceiverOptions {
  config: Pick<Config, 'host' | 'maxBodyBytes' | 'idleTimeoutMs' | 'apiKeys'>;
  logger: Logger;
  services: readonly ExportService[];
  /** True once the collector is shutting down: new calls get UNAVAILABLE. */
  isClosing: () => boolean;
}

/** A listening gRPC receiver. */
export interface GrpcReceiver {
  port: number;
  /** `http://host:port`, the endpoint an OTLP/gRPC exporter takes (plaintext). */
  url: string;
  /** Lets calls in flight finish for up to `graceMs`, then cuts the connections left. */
  close(graceMs: number): Promise<void>;
}

/** Starts the gRPC receiver on `config.host:port` (0 picks a free port). */
export async function startGrpcReceiver(port: number, options: GrpcReceiverOptions): Promise<GrpcReceiver> {
  const { config, logger, services } = options;
  const byPath = new Map(services.map((s) => [exportPath(s), s]));
  const server = new Server({
    'grpc.max_receive_message_length': config.maxBodyBytes,
    // As --idle-timeout does for HTTP keep-alive: a connection without calls is sent a GOAWAY and
    // closed, so idle exporters (or sockets that never speak) do not hold descriptors forever.
    'grpc.max_connection_idle_ms': config.idleTimeoutMs,
    interceptors: [gateCalls(byPath, { apiKeys: config.apiKeys, isClosing: options.isClosing, logger })],
  });
  for (const service of services)
    server.addService(exportServiceDefinition(service), { Export: exportHandler(service, logger) });
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, boundPort) => {
      if (err)
        reject(new Error(`cannot listen for OTLP/gRPC on ${host}:${port} (--grpc-port, or off): ${err.message}`));
      else resolve(boundPort);
    });
  });
  return {
    port: bound,
    url: `http://${host}:${bound}`,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        // GOAWAY to every connection; calls already in flight are answered first.
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

/** The unary Export handler: the service's answer, or its error as a gRPC status. */
function exportHandler(service: ExportService, logger: Logger): handleUnaryCall<Buffer, Buffer> {
  return (call, callback) => {
    const sender = {
      apiKey: presentedKey(firstText(call.metadata, 'authorization'), firstText(call.metadata, 'x-api-key')),
    };
    service.export(call.request, sender).then(
      (response) => callback(null, Buffer.from(response.buffer, response.byteOffset, response.byteLength)),
      (err: unknown) => {
        if (!(err instanceof SessiongraphError))
          logger.error('unexpected gRPC receiver error', { service: service.name, error: String(err) });
        callback(grpcStatusOf(err));
      },
    );
  };
}
