/**
 * An agent instrumented with sessiongraph's SDK helpers. Run a collector (`npm start`), then:
 *   npx tsx examples/sdk-agent.ts
 * OTEL_EXPORTER_OTLP_ENDPOINT points it elsewhere (default http://localhost:4318).
 */
import { trace } from '@opentelemetry/api';
import { agentSession, decision, llmCall, sessionIdOf, startTracing, toolCall } from 'sessiongraph';

const tracing = startTracing({ serviceName: 'example-agents' });
let sessionId = '';

const answer = await agentSession(
  {
    agent: { name: 'sdk-example-planner', version: '1.0.0' },
    input: 'Which feature should we sunset this quarter?',
    tags: ['example'],
  },
  async () => {
    const traceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
    sessionId = sessionIdOf(traceId);

    const usage = await toolCall('read_usage', { window: '90d' }, () => ({ 'csv-export': 0.004, 'dark-mode': 0.31 }));
    await toolCall('read_roadmap', { quarter: 'Q1' }, () => {
      throw new Error('roadmap service timed out'); // recorded on the span, then handled below
    }).catch(() => undefined);

    const plan = await llmCall({ model: 'gpt-4o', provider: 'openai' }, (call) => {
      // A real agent calls its model here and reports what the provider returned.
      call.usage({ inputTokens: 1800, outputTokens: 120, cacheReadTokens: 1024 });
      const text = `Sunset csv-export: ${usage['csv-export'] * 100}% of accounts used it in 90 days.`;
      call.output(text);
      return text;
    });

    decision({
      title: 'Sunset csv-export',
      rationale: 'used by 0.4% of accounts over 90 days',
      context: 'usage metrics, Q1 roadmap review',
      consequences: 'email the affected accounts; remove in Q2',
      tags: ['deprecation'],
    });
    return plan;
  },
);

await tracing.shutdown(); // flushes: the collector has stored the session when this resolves
console.log(answer);
console.log(`session ${sessionId}  →  npx sessiongraph session ${sessionId}`);
