/**
 * An agent instrumented with plain OpenTelemetry (@opentelemetry/api and the Node SDK), using the
 * GenAI semantic convention attribute names — no sessiongraph code. Run a collector, then:
 *   npx tsx examples/otel-api-agent.ts
 */
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

const endpoint = (process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318').replace(/\/+$/, '');
const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'example-agents', 'deployment.environment.name': 'dev' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }))],
});
provider.register();
const tracer = trace.getTracer('otel-api-example');
const messages = (role: string, text: string): string =>
  JSON.stringify([{ role, parts: [{ type: 'text', content: text }] }]);

const root = tracer.startSpan('invoke_agent otel-example-triage', {
  attributes: {
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.name': 'otel-example-triage',
    'gen_ai.agent.id': 'otel-example-triage-v1',
    'gen_ai.conversation.id': 'ticket-7731',
    'gen_ai.input.messages': messages('user', 'Customer says exports time out since Monday.'),
  },
});
await context.with(trace.setSpan(context.active(), root), async () => {
  const chat = tracer.startSpan('chat claude-haiku-4-5', {
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-haiku-4-5',
    },
  });
  chat.setAttributes({
    'gen_ai.usage.input_tokens': 2400,
    'gen_ai.usage.output_tokens': 90,
    'gen_ai.usage.cache_read.input_tokens': 2000,
    'gen_ai.output.messages': messages('assistant', 'Check the export job queue.'),
  });
  chat.end();

  const tool = tracer.startSpan('execute_tool export_queue_depth', {
    attributes: {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'export_queue_depth',
      'gen_ai.tool.call.arguments': '{"region":"eu"}',
    },
  });
  tool.setAttribute('gen_ai.tool.call.result', '{"depth":18250}');
  tool.end();

  const decisionSpan = tracer.startSpan('decision', {
    attributes: {
      'decision.title': 'Page the on-call for the export queue',
      'decision.rationale': 'queue depth 18,250, 40× normal',
      'decision.status': 'accepted',
      'decision.tags': ['incident'],
    },
  });
  decisionSpan.end();
});
root.setAttribute('gen_ai.output.messages', messages('assistant', 'Paged on-call: the EU export queue is backed up.'));
root.setStatus({ code: SpanStatusCode.OK });
root.end();

await provider.shutdown();
const { traceId } = root.spanContext();
const sessionId = `${traceId.slice(0, 8)}-${traceId.slice(8, 12)}-${traceId.slice(12, 16)}-${traceId.slice(16, 20)}-${traceId.slice(20)}`;
console.log(`session ${sessionId}  →  npx sessiongraph session ${sessionId}`);
