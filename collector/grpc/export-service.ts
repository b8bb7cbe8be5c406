/**
 * OTLP export services as gRPC sees them (OTLP spec, "OTLP/gRPC"): each is one unary `Export`
 * method taking the request's protobuf bytes and answering the response's bytes. Each signal
 * (traces, logs) is one ExportService; the gRPC server registers a list of them.
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type { Scope } from '../../src/auth.ts';
import type { Sender } from '../../src/redaction/redactor.ts';

/** One OTLP `…Service/Export` method: what it needs from a caller and what it does with the bytes. */
export interface ExportService {
  /** Fully qualified gRPC service name, e.g. `opentelemetry.proto.collector.trace.v1.TraceService`. */
  name: string;
  /** The API-key scope a caller needs (when keys are configured). */
  scope: Scope;
  /** Calls by gRPC status name (OK, INVALID_ARGUMENT, …), counted by the server for /metrics. */
  requests: Record<string, number>;
  /** Runs once a call's metadata is in, before its message is read; throws a SessiongraphError to refuse it cheaply. */
  admit?(): void;
  /** Handles one Export request's (decompressed) bytes; resolves to the response's bytes once stored. */
  export(request: Buffer, sender: Sender): Promise<Uint8Array>;
}

/** The gRPC path of a service's Export method. */
export function exportPath(service: Pick<ExportService, 'name'>): string {
  return `/${service.name}/Export`;
}

const passThrough = (bytes: Buffer): Buffer => bytes;

/**
 * The service definition, written by hand rather than loaded from the OTLP .proto files: the
 * collector ships no .proto to load at run time (@grpc/proto-loader would need the files plus
 * protobufjs to build message classes nothing uses), and with pass-through (de)serializers the
 * request's bytes go straight to the project's single-pass decoder, the same one OTLP/HTTP
 * protobuf uses (≈4× faster than protobufjs, NOTES.md). One method, so there is little to drift.
 */
export function exportServiceDefinition(service: Pick<ExportService, 'name'>): ServiceDefinition {
  const Export: MethodDefinition<Buffer, Buffer> = {
    path: exportPath(service),
    requestStream: false,
    responseStream: false,
    requestSerialize: passThrough,
    requestDeserialize: passThrough,
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
  };
  return { Export };
}
