/**
 * An agent written with the Vercel AI SDK (`ai` 6) and its built-in OpenTelemetry
 * (`experimental_telemetry`), with the SDK's mock model so it runs offline. Run a collector:
 *   npx tsx examples/vercel-ai-agent.ts
 * With a real provider, replace the mock with e.g. `openai('gpt-4o')`; nothing else changes.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { generateText, stepCountIs, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { z } from 'zod';

const endpoint = (process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318').replace(/\/+$/, '');
const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'example-agents' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }))],
});
provider.register();

const usage = (input: number, cacheRead: number, output: number) => ({
  inputTokens: { total: input, noCache: input - cacheRead, cacheRead, cacheWrite: 0 },
  outputTokens: { total: output, text: output, reasoning: 0 },
});
// The mock answers like a model would: first a tool call, then the final text.
const model = new MockLanguageModelV3({
  provider: 'openai.chat',
  modelId: 'gpt-4o',
  doGenerate: [
    {
      content: [
        { type: 'tool-call', toolCallId: 'call-1', toolName: 'weather', input: JSON.stringify({ city: 'Lisbon' }) },
      ],
      finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
      usage: usage(900, 0, 40),
      warnings: [],
    },
    {
      content: [{ type: 'text', text: 'Pack light: 24 °C and sunny in Lisbon.' }],
      finishReason: { unified: 'stop', raw: 'stop' },
      usage: usage(1100, 896, 30),
      warnings: [],
    },
  ],
});

const result = await generateText({
  model,
  prompt: 'What should I pack for Lisbon this weekend?',
  tools: {
    weather: tool({
      description: 'Weather forecast for a city',
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }) => ({ city, celsius: 24, sky: 'sunny' }),
    }),
  },
  stopWhen: stepCountIs(3),
  experimental_telemetry: {
    isEnabled: true,
    functionId: 'vercel-example-packing',
    metadata: { sessionId: 'trip-42', userId: 'traveller-7' },
  },
});

await provider.shutdown();
console.log(result.text);
console.log('npx sessiongraph sessions --agent vercel-example-packing');
