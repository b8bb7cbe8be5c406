/**
 * `opentelemetry.proto.collector.trace.v1.TraceService/Export` over the shared trace receiver
 * (collector/routes/otlp.ts): the same span limits, writer and promise as OTLP/HTTP protobuf —
 * the answer is sent only once the spans are stored.
 */
import { exportResponseProtobuf } from '../../src/otlp/response.ts';
import type { TraceReceiver } from '../routes/otlp.ts';
import type { ExportService } from './export-service.ts';

/** The trace Export service; its calls are counted in the receiver's stats next to the HTTP requests. */
export function traceExportService(receiver: TraceReceiver): ExportService {
  const requests = (receiver.stats.grpcRequests ??= {});
  return {
    name: 'opentelemetry.proto.collector.trace.v1.TraceService',
    scope: 'ingest',
    requests,
    // Storage down or queue full: refused before the message is read, as OTLP/HTTP does.
    admit: () => receiver.checkCapacity(),
    async export(request, sender) {
      // grpc-js has the whole message in memory by now: it counts against the same in-flight
      // budget as HTTP bodies, so together they stay bounded (add throws OverloadedError past it).
      const held = receiver.lease();
      try {
        held.add(request.length);
        const outcome = await receiver.store(request, 'protobuf', sender);
        return exportResponseProtobuf(outcome.rejectedSpans, outcome.errorMessage);
      } finally {
        held.release();
      }
    },
  };
}
