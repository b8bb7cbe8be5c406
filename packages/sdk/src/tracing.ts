/**
 * `startTracing()`: the OpenTelemetry SDK for Node wired to a sessiongraph collector over
 * OTLP/HTTP. The standard variables are honoured (OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME);
 * explicit options win; the default endpoint is http://localhost:4318.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace-node';

/** Options of startTracing; everything is optional. */
export interface TracingOptions {
  /** `service.name` of the agent's process (default OTEL_SERVICE_NAME, else `agent`). */
  serviceName?: string;
  /** Collector base URL, e.g. http://collector:4318 (`/v1/traces` is appended). */
  endpoint?: string;
  /** Extra headers, e.g. `{ authorization: 'Bearer …' }`. */
  headers?: Record<string, string>;
  /** More resource attributes, e.g. `{ 'deployment.environment.name': 'production' }`. */
  resourceAttributes?: Record<string, string>;
  /** Replace the OTLP exporter (tests, or another backend). */
  exporter?: SpanExporter;
  /** Trace and span id source (the demo seeds it so a seed reproduces the same ids). */
  idGenerator?: { generateTraceId(): string; generateSpanId(): string };
}

/** A started tracing pipeline. */
export interface Tracing {
  provider: NodeTracerProvider;
  /** Exports everything still buffered, without stopping. */
  flush(): Promise<void>;
  /** Flushes and stops; call before the process exits. */
  shutdown(): Promise<void>;
}

/** Resolves the traces URL as the OTLP exporter specification says. */
export function tracesUrl(
  options: Pick<TracingOptions, 'endpoint'> = {},
  env: Record<string, string | undefined> = process.env,
): string {
  if (options.endpoint) return `${options.endpoint.replace(/\/+$/, '')}/v1/traces`;
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://localhost:4318';
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** Starts exporting spans to the collector and registers the tracer provider globally. */
export function startTracing(options: TracingOptions = {}): Tracing {
  const exporter =
    options.exporter ??
    new OTLPTraceExporter({
      url: tracesUrl(options),
      // undefined keeps the exporter's own reading of OTEL_EXPORTER_OTLP_HEADERS
      ...(options.headers ? { headers: options.headers } : {}),
    });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName ?? process.env.OTEL_SERVICE_NAME ?? 'agent',
      ...options.resourceAttributes,
    }),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: 512, scheduledDelayMillis: 500 })],
    ...(options.idGenerator ? { idGenerator: options.idGenerator } : {}),
  });
  provider.register();
  return {
    provider,
    flush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      // Unregister, so a later startTracing in the same process (tests, the demo) takes effect.
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
