/**
 * Realistic agent traffic for the bench, made by the OpenTelemetry SDK and its own protobuf
 * serializer: sessions of 10–60 spans (an `invoke_agent` root with the user's input, `chat`
 * spans with model, input/output/cache-read tokens and a ~400-byte answer, `execute_tool` spans
 * with JSON arguments and results, some decisions, a few errors), cut into requests of a given
 * size. Seeded, so the ceiling run and the collector run see the very same spans.
 */
import { context, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { Dice } from '../src/demo/workload.ts';

const WORDS =
  'the agent reads the ticket checks the invoice compares totals and decides whether to refund escalate or close it with a note to the customer'.split(
    ' ',
  );

function prose(dice: Dice, bytes: number): string {
  let out = '';
  while (out.length < bytes) out += `${WORDS[Math.floor(dice.next() * WORDS.length)]} `;
  return out.slice(0, bytes);
}

/** Spans of `sessions` agent sessions (10–60 spans each), ended and ready to serialize. */
export function agentSessions(sessions: number, seed: number, spansPerSession?: number): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench-agents', 'deployment.environment.name': 'bench' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('bench', '1.0.0');
  const dice = new Dice(seed);
  for (let s = 0; s < sessions; s++) oneSession(tracer, dice, spansPerSession ?? 10 + Math.floor(dice.next() * 51), s);
  return exporter.getFinishedSpans();
}

function oneSession(tracer: Tracer, dice: Dice, size: number, index: number): void {
  const agent = `agent-${index % 12}`;
  const root = tracer.startSpan(`invoke_agent ${agent}`, {
    attributes: {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': agent,
      'gen_ai.conversation.id': `conv-${index % 500}`,
      'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: prose(dice, 160) }] }]),
    },
  });
  const parent = trace.setSpan(context.active(), root);
  for (let i = 1; i < size; i++) {
    if (i % 3 === 1) {
      const input = 1500 + Math.floor(dice.next() * 3000);
      tracer
        .startSpan(
          'chat gpt-4.1-mini',
          {
            attributes: {
              'gen_ai.operation.name': 'chat',
              'gen_ai.request.model': 'gpt-4.1-mini',
              'gen_ai.provider.name': 'openai',
              'gen_ai.usage.input_tokens': input,
              'gen_ai.usage.output_tokens': 100 + Math.floor(dice.next() * 400),
              'gen_ai.usage.cache_read.input_tokens': Math.floor(input / 2),
              'gen_ai.output.messages': JSON.stringify([
                { role: 'assistant', parts: [{ type: 'text', content: prose(dice, 400) }] },
              ]),
            },
          },
          parent,
        )
        .end();
    } else if (i % 17 === 0) {
      const span = tracer.startSpan(
        'decide refund',
        { attributes: { 'decision.title': 'Refund the duplicate charge', 'decision.rationale': prose(dice, 120) } },
        parent,
      );
      span.end();
    } else {
      const failed = dice.next() < 0.05;
      const span = tracer.startSpan(
        'execute_tool lookup_invoice',
        {
          attributes: {
            'gen_ai.operation.name': 'execute_tool',
            'gen_ai.tool.name': i % 2 === 0 ? 'lookup_invoice' : 'search_tickets',
            'gen_ai.tool.call.id': `call_${index}_${i}`,
            'gen_ai.tool.call.arguments': JSON.stringify({
              invoice: `INV-${index}-${i}`,
              include: ['lines', 'payments'],
            }),
            'gen_ai.tool.call.result': JSON.stringify({ status: 'paid', lines: [prose(dice, 120), prose(dice, 80)] }),
          },
        },
        parent,
      );
      if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream timeout' });
      span.end();
    }
  }
  root.end();
}

/** Protobuf request bodies of `spansPerRequest` spans each, in span order. */
export function requestBodies(spans: readonly ReadableSpan[], spansPerRequest: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < spans.length; i += spansPerRequest) {
    const body = ProtobufTraceSerializer.serializeRequest(spans.slice(i, i + spansPerRequest));
    if (body) out.push(body);
  }
  return out;
}
