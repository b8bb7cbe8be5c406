/**
 * Redaction at ingest (`--redact FILE`, `--redact-defaults`): secrets and personal data sent
 * over OTLP/HTTP JSON, OTLP/HTTP protobuf, OTLP/gRPC and OTLP logs — in span, resource and event
 * attributes and inside JSON message arrays — are masked or dropped before anything is stored:
 * no table holds any trace of them afterwards, the masks say what was masked, and the session's
 * figures are the same as without redaction. A content-off service keeps names, tokens and the
 * tree, but no message, argument or result text.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace, type Tracer } from '@opentelemetry/api';
import { OTLPLogExporter as LogProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  BatchSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { rollUpTrace } from '../../src/mapping/roll-up.ts';
import { sessionIdOf } from '../../src/mapping/ids.ts';
import { toSpanFacts } from '../../src/mapping/span-facts.ts';
import { decodeTraceRequestJson } from '../../src/otlp/decode-json.ts';
import { createPricer } from '../../src/pricing/pricer.ts';
import { startTestCollector, tempDir } from '../helpers/collector.ts';
import { parsePrometheusText } from '../helpers/prometheus-text.ts';

const SECRETS = {
  email: 'jane.doe@example.com',
  apiKey: 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx12345678',
  bearer: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl',
  card: '4111 1111 1111 1111',
  employee: 'EMP-123456',
  droppedKey: 'hunter2-in-an-api-key-attribute',
  enduser: 'enduser-777-private',
};
/** Fragments no stored row may contain (a mask hides the whole value, not part of it). */
const FRAGMENTS = [
  'jane.doe',
  'example.com',
  'AbCdEfGhIjKlMnOp',
  'eyJhbGciOiJIUzI1NiJ9',
  '4111 1111',
  '4111111111111111',
  'EMP-123456',
  'hunter2',
  'enduser-777',
];

const RULES = `
keys:
  - { match: "*.api_key", action: drop }
  - { match: "enduser.id", action: mask }
values:
  - { name: employee-id, pattern: "EMP-[0-9]{6}" }
overrides:
  - when: { service: "content-off-*" }
    content: drop
`;

let collector: RunningCollector;
beforeAll(async () => {
  const dir = tempDir();
  const rules = path.join(dir, 'redact.yaml');
  fs.writeFileSync(rules, RULES);
  collector = await startTestCollector(path.join(dir, 'data'), {
    SESSIONGRAPH_REDACT: rules,
    SESSIONGRAPH_REDACT_DEFAULTS: 'true',
  });
});
afterAll(async () => {
  await collector?.close();
});

const T0 = 1767225600; // 2026-01-01T00:00:00Z

/** One agent run whose texts carry every secret: messages, tool arguments and results, events, resource. */
function recordRun(tracer: Tracer): void {
  const at = (s: number): [number, number] => [T0 + s, 0];
  const root = tracer.startSpan(
    'invoke_agent support',
    {
      startTime: at(0),
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'support',
        'enduser.id': SECRETS.enduser,
        'gen_ai.input.messages': JSON.stringify([
          {
            role: 'user',
            parts: [{ type: 'text', content: `I am ${SECRETS.email}, card ${SECRETS.card}, refund me` }],
          },
        ]),
      },
    },
    ROOT_CONTEXT,
  );
  const inRoot = trace.setSpan(ROOT_CONTEXT, root);
  const chat = tracer.startSpan(
    'chat gpt-4o',
    {
      kind: SpanKind.CLIENT,
      startTime: at(1),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 1200,
        'gen_ai.usage.output_tokens': 80,
        'gen_ai.output.messages': JSON.stringify([
          {
            role: 'assistant',
            parts: [{ type: 'text', content: `Use key ${SECRETS.apiKey} for employee ${SECRETS.employee}` }],
          },
        ]),
      },
    },
    inRoot,
  );
  chat.addEvent('gen_ai.user.message', { content: `contact ${SECRETS.email}` }, at(1));
  chat.end(at(2));
  const tool = tracer.startSpan(
    'execute_tool refund',
    {
      startTime: at(3),
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'refund',
        'gen_ai.tool.call.arguments': JSON.stringify({ authorization: SECRETS.bearer, card: SECRETS.card }),
        'gen_ai.tool.call.result': `refunded to ${SECRETS.email}`,
        'billing.api_key': SECRETS.droppedKey,
      },
    },
    inRoot,
  );
  tool.setStatus({ code: SpanStatusCode.ERROR, message: `declined for ${SECRETS.email}` });
  tool.end(at(4));
  root.setAttribute(
    'gen_ai.output.messages',
    JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'Refund declined.' }] }]),
  );
  root.end(at(5));
}

function resource(service: string) {
  return resourceFromAttributes({
    'service.name': service,
    'cloud.api_key': SECRETS.droppedKey,
    'owner.email': SECRETS.email,
  });
}

/** The run's finished spans, recorded in memory under `service`. */
async function finishedSpans(service: string): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({
    resource: resource(service),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  recordRun(provider.getTracer('redaction-test'));
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

async function sql<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  return collector.storage.select<T>(query, params);
}

/** Every table of the collector's database, searched whole-row for `fragment`: table → rows holding it. */
async function tablesHolding(fragment: string): Promise<Record<string, number>> {
  const tables = await sql<{ name: string }>(
    `SELECT name FROM system.tables WHERE database = 'sessiongraph' AND engine NOT IN ('MaterializedView', 'View')`,
  );
  const found: Record<string, number> = {};
  for (const { name } of tables) {
    const [row] = await sql<{ n: string }>(
      `SELECT count() AS n FROM sessiongraph.\`${name}\` WHERE positionCaseInsensitive(formatRow('TSV', *), {f:String}) > 0`,
      { f: fragment },
    );
    if (Number(row?.n) > 0) found[name] = Number(row?.n);
  }
  return found;
}

const traceIds: Record<string, string> = {};
let expectedSession: ReturnType<typeof rollUpTrace>['session'];

describe('redaction at ingest', () => {
  it('accepts the run over JSON, protobuf, gRPC and logs', async () => {
    for (const [service, serializer, type] of [
      ['red-json', JsonTraceSerializer, 'application/json'],
      ['red-proto', ProtobufTraceSerializer, 'application/x-protobuf'],
      ['content-off-json', JsonTraceSerializer, 'application/json'],
    ] as const) {
      const spans = await finishedSpans(service);
      traceIds[service] = spans[0]?.spanContext().traceId ?? '';
      const body = serializer.serializeRequest(spans) ?? new Uint8Array();
      const res = await fetch(`${collector.url}/v1/traces`, {
        method: 'POST',
        body: Buffer.from(body),
        headers: { 'content-type': type },
      });
      expect(res.status, service).toBe(200);
      if (service === 'red-json') {
        // What the session would be without redaction: the same request rolled up unredacted.
        const rows = decodeTraceRequestJson(body).spans;
        expectedSession = rollUpTrace(rows.map(toSpanFacts), {
          nowNs: BigInt(Date.now()) * 1_000_000n,
          abandonAfterNs: 10n ** 18n,
          pricer: createPricer(),
        }).session;
      }
    }

    const grpc = new GrpcExporter({ url: collector.grpcUrl ?? '' });
    const provider = new NodeTracerProvider({
      resource: resource('red-grpc'),
      spanProcessors: [new BatchSpanProcessor(grpc)],
    });
    recordRun(provider.getTracer('redaction-test'));
    await provider.forceFlush();
    await provider.shutdown();

    const logs = new LoggerProvider({
      resource: resource('red-logs'),
      processors: [
        new BatchLogRecordProcessor({ exporter: new LogProtoExporter({ url: `${collector.url}/v1/logs` }) }),
      ],
    });
    logs.getLogger('redaction-test').emit({
      timestamp: [T0, 0],
      body: `user ${SECRETS.email} pasted ${SECRETS.apiKey}`,
      attributes: {
        'payment.card': SECRETS.card,
        'session.api_key': SECRETS.droppedKey,
        note: `for ${SECRETS.employee}`,
      },
      context: context.active(),
    });
    await logs.forceFlush();
    await logs.shutdown();
    expect(await collector.graph.settled()).toBe(true);
    const [spans] = await sql<{ n: string }>(
      `SELECT count() AS n FROM sessiongraph.otel_traces WHERE ServiceName IN ('red-json', 'red-proto', 'red-grpc', 'content-off-json')`,
    );
    expect(Number(spans?.n)).toBe(12);
    const [logRows] = await sql<{ n: string }>(
      `SELECT count() AS n FROM sessiongraph.otel_logs WHERE ServiceName = 'red-logs'`,
    );
    expect(Number(logRows?.n)).toBe(1);
  });

  it('no table holds any trace of a secret', async () => {
    for (const fragment of FRAGMENTS) expect(await tablesHolding(fragment), fragment).toEqual({});
    // The search does find what is there: the masks, in raw rows, facts, sessions and logs.
    expect(Object.keys(await tablesHolding('[redacted:email]'))).toEqual(
      expect.arrayContaining(['otel_traces', 'session_spans', 'agent_sessions', 'otel_logs']),
    );
  });

  it('masks say what was masked, dropped keys are gone, on every path alike', async () => {
    const rows = await sql<{
      ServiceName: string;
      SpanName: string;
      SpanAttributes: Record<string, string>;
      ResourceAttributes: Record<string, string>;
      StatusMessage: string;
      ev: Array<Record<string, string>>;
    }>(
      `SELECT ServiceName, SpanName, SpanAttributes, ResourceAttributes, StatusMessage, Events.Attributes AS ev FROM sessiongraph.otel_traces
       WHERE ServiceName IN ('red-json', 'red-proto', 'red-grpc') ORDER BY ServiceName, SpanName`,
    );
    const byService = (service: string) =>
      rows
        .filter((r) => r.ServiceName === service)
        .map(({ ServiceName: _s, ResourceAttributes, ...r }) => ({
          ...r,
          resource: { ...ResourceAttributes, 'service.name': '' } as Record<string, string>,
        }));
    const json = byService('red-json');
    expect(json).toHaveLength(3);
    expect(byService('red-proto')).toEqual(json);
    expect(byService('red-grpc')).toEqual(json);
    const [chat, tool, root] = json;
    expect(root?.SpanAttributes['gen_ai.input.messages']).toBe(
      JSON.stringify([
        {
          role: 'user',
          parts: [{ type: 'text', content: 'I am [redacted:email], card [redacted:card-number], refund me' }],
        },
      ]),
    );
    expect(root?.SpanAttributes['enduser.id']).toBe('[redacted:enduser.id]');
    expect(chat?.SpanAttributes['gen_ai.output.messages']).toContain(
      'Use key [redacted:api-key] for employee [redacted:employee-id]',
    );
    expect(chat?.ev).toEqual([{ content: 'contact [redacted:email]' }]);
    expect(JSON.parse(tool?.SpanAttributes['gen_ai.tool.call.arguments'] ?? '{}')).toEqual({
      authorization: '[redacted:bearer-token]',
      card: '[redacted:card-number]',
    });
    expect(tool?.SpanAttributes).not.toHaveProperty('billing.api_key');
    expect(tool?.StatusMessage).toBe('declined for [redacted:email]');
    expect(root?.resource).not.toHaveProperty('cloud.api_key');
    expect(root?.resource['owner.email']).toBe('[redacted:email]');

    const [log] = await sql<{ Body: string; LogAttributes: Record<string, string> }>(
      `SELECT Body, LogAttributes FROM sessiongraph.otel_logs WHERE ServiceName = 'red-logs'`,
    );
    expect(log?.Body).toBe('user [redacted:email] pasted [redacted:api-key]');
    expect(log?.LogAttributes).toEqual({
      'payment.card': '[redacted:card-number]',
      note: 'for [redacted:employee-id]',
    });
  });

  it("the session's figures are those of the same spans without redaction; its texts are the redacted ones", async () => {
    const res = await fetch(`${collector.url}/api/sessions/${sessionIdOf(traceIds['red-json'] ?? '')}`);
    const { session } = (await res.json()) as { session: Record<string, unknown> };
    for (const field of [
      'tokens_used',
      'input_tokens',
      'output_tokens',
      'turns',
      'tool_call_count',
      'tools_invoked',
      'error_count',
      'llm_call_count',
      'span_count',
      'session_status',
      'models',
      'agent_name',
    ] as const) {
      expect(session[field], field).toEqual(expectedSession[field]);
    }
    expect(session.cost).toBeCloseTo(Number(expectedSession.cost), 9);
    expect(session.tokens_used).toBe(1280);
    expect(session.description).toBe('I am [redacted:email], card [redacted:card-number], refund me');
  });

  it('content off (per service): names, tokens and the tree are kept, no message, argument or result text', async () => {
    const rows = await sql<{
      SpanName: string;
      SpanId: string;
      ParentSpanId: string;
      SpanAttributes: Record<string, string>;
      ev: Array<Record<string, string>>;
    }>(
      `SELECT SpanName, SpanId, ParentSpanId, SpanAttributes, Events.Attributes AS ev FROM sessiongraph.otel_traces WHERE ServiceName = 'content-off-json' ORDER BY SpanName`,
    );
    const [chat, tool, root] = rows;
    expect(root?.SpanAttributes['gen_ai.input.messages']).toBe('[redacted:content]');
    expect(root?.SpanAttributes['gen_ai.agent.name']).toBe('support');
    expect(chat?.SpanAttributes).toMatchObject({
      'gen_ai.output.messages': '[redacted:content]',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': '1200',
    });
    expect(chat?.ev).toEqual([{ content: '[redacted:content]' }]);
    expect(tool?.SpanAttributes).toMatchObject({
      'gen_ai.tool.name': 'refund',
      'gen_ai.tool.call.arguments': '[redacted:content]',
      'gen_ai.tool.call.result': '[redacted:content]',
    });
    expect([chat?.ParentSpanId, tool?.ParentSpanId, root?.ParentSpanId]).toEqual([root?.SpanId, root?.SpanId, '']);
    const { session } = (await (
      await fetch(`${collector.url}/api/sessions/${sessionIdOf(traceIds['content-off-json'] ?? '')}`)
    ).json()) as { session: Record<string, unknown> };
    expect(session).toMatchObject({
      tokens_used: 1280,
      tools_invoked: ['refund'],
      error_count: 1,
      turns: 1,
      description: '[redacted:content]',
    });
  });

  it('counts redactions by rule on /metrics', async () => {
    const families = parsePrometheusText(await (await fetch(`${collector.url}/metrics`)).text());
    const count = (rule: string): number =>
      families.get('sessiongraph_redactions_total')?.samples.find((s) => s.labels.rule === rule)?.value ?? 0;
    for (const rule of [
      'email',
      'api-key',
      'bearer-token',
      'card-number',
      'employee-id',
      'content',
      'key:*.api_key',
      'key:enduser.id',
    ])
      expect(count(rule), rule).toBeGreaterThan(0);
  });
});
