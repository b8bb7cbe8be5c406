/**
 * `opentelemetry.proto.collector.logs.v1.LogsService/Export` over the shared logs receiver
 * (collector/routes/otlp-logs.ts): the same limits, writer and promise as `POST /v1/logs` —
 * the answer is sent only once the records are stored.
 */
import type { LogsReceiver } from '../routes/otlp-logs.ts';
import type { ExportService } from './export-service.ts';

/** The logs Export service; its calls are counted in the receiver's stats next to the HTTP requests. */
export function logsExportService(receiver: LogsReceiver): ExportService {
  return {
    name: 'opentelemetry.proto.collector.logs.v1.LogsService',
    scope: 'ingest',
    requests: (receiver.stats.grpcRequests ??= {}),
    // Storage down or queue full: refused before the message is read, as OTLP/HTTP does.
    admit: () => receiver.checkCapacity(),
    async export(request, sender) {
      return (await receiver.receive(request, 'protobuf', sender)).body as Uint8Array;
    },
  };
}
