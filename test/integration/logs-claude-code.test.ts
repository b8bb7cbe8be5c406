/**
 * Claude Code's default telemetry (OTLP log events, CONVENTIONS.md) through `/v1/logs`:
 * `claude_code.api_request` and `claude_code.tool_decision` stored with every attribute the lead's
 * session mapping will need, and summed by the SQL the README gives SREs without counting a
 * retried export twice; then group commit under 40 concurrent exporters (figures logged).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { Logger } from '@opentelemetry/api-logs';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import type { RunningCollector } from '../../collector/server.ts';
import { queryRows, startTestCollector, tempDir } from '../helpers/collector.ts';
import { RecordingExporter, asText, sortByTime } from '../helpers/otel-records.ts';

let collector: RunningCollector;

beforeAll(async () => {
  collector = await startTestCollector(tempDir());
});

afterAll(async () => {
  await collector?.close();
});

const T0 = 1767225600; // 2026-01-01T00:00:00Z

describe('Claude Code events', () => {
  it('api_request and tool_decision are stored with every attribute; the README query sums cost by session', async () => {
    const records = await recordInMemory('claude-code', emitClaudeCodeSession);
    const exporter = new RecordingExporter(new ProtoExporter({ url: `${collector.url}/v1/logs` }));
    await new Promise<void>((resolve) => exporter.export(records, () => resolve()));
    expect(exporter.results).toEqual([{ code: ExportResultCode.SUCCESS }]);

    const rows = await queryRows<{
      Body: string;
      EventName: string;
      LogAttributes: Record<string, string>;
      ResourceAttributes: Record<string, string>;
    }>(
      collector.storage,
      `SELECT Body, EventName, LogAttributes, ResourceAttributes FROM sessiongraph.otel_logs WHERE ServiceName = 'claude-code' ORDER BY Timestamp`,
    );
    expect(rows).toEqual(
      sortByTime(records).map((r) => ({
        Body: r.body,
        EventName: '',
        LogAttributes: asText(r.attributes),
        ResourceAttributes: asText(r.resource.attributes),
      })),
    );
    expect(rows[0]?.LogAttributes).toEqual({
      'session.id': 'sess-a',
      'event.name': 'api_request',
      'event.timestamp': '2026-01-01T00:00:00.000Z',
      'event.sequence': '0',
      'user.account_uuid': 'acct-1',
      'organization.id': 'org-1',
      'terminal.type': 'vscode',
      'app.version': '2.1.0',
      model: 'claude-sonnet-4-5',
      input_tokens: '1200',
      output_tokens: '310',
      cache_read_tokens: '5000',
      cache_creation_tokens: '120',
      cost_usd: '0.0123',
      duration_ms: '2150',
      'prompt.id': 'p-1',
    });
    expect(rows.find((r) => r.Body === 'claude_code.tool_decision')?.LogAttributes).toMatchObject({
      'event.name': 'tool_decision',
      tool_name: 'Bash',
      decision: 'accept',
      source: 'config',
      'session.id': 'sess-a',
    });

    // An exporter retrying after a timeout sends the same records again: the README's query
    // must not count them twice.
    await new Promise<void>((resolve) => exporter.export(records, () => resolve()));
    expect(exporter.results).toEqual([{ code: ExportResultCode.SUCCESS }, { code: ExportResultCode.SUCCESS }]);

    // The query printed in the README for '/v1/logs'.
    const costs = await queryRows<Record<string, string | number>>(
      collector.storage,
      `SELECT LogAttributes['session.id'] AS session,
              count() AS requests,
              round(sum(toFloat64OrZero(LogAttributes['cost_usd'])), 6) AS cost_usd,
              sum(toUInt64OrZero(LogAttributes['input_tokens'])) AS input_tokens,
              sum(toUInt64OrZero(LogAttributes['output_tokens'])) AS output_tokens
       FROM (SELECT Timestamp, LogAttributes FROM sessiongraph.otel_logs
             WHERE ServiceName = 'claude-code' AND LogAttributes['event.name'] = 'api_request'
             LIMIT 1 BY Timestamp, LogAttributes)
       GROUP BY session ORDER BY cost_usd DESC`,
    );
    // 64-bit counts come back as numbers from chDB and as strings from a server: compare numbers.
    expect(
      costs.map(({ session, ...figures }) => ({
        session,
        ...Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Number(v)])),
      })),
    ).toEqual([
      { session: 'sess-a', requests: 2, cost_usd: 0.0468, input_tokens: 3600, output_tokens: 720 },
      { session: 'sess-b', requests: 1, cost_usd: 0.002, input_tokens: 400, output_tokens: 50 },
    ]);
  });
});

describe('group commit', () => {
  it('40 concurrent requests share inserts, and each is readable as soon as it is answered (figures logged)', async () => {
    const inserts = async (): Promise<number> => {
      const text = await (await fetch(`${collector.url}/metrics`)).text();
      return Number(/^sessiongraph_log_storage_inserts_total (\d+)$/m.exec(text)?.[1]);
    };
    const before = await inserts();
    const body = (n: number, records: number): string =>
      JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: `gc-${n}` } }] },
            scopeLogs: [
              {
                logRecords: Array.from({ length: records }, (_, i) => ({
                  timeUnixNano: String(1767225600000000000n + BigInt(i)),
                  body: { stringValue: `r${i}` },
                  attributes: [{ key: 'session.id', value: { stringValue: `s-${n}` } }],
                })),
              },
            ],
          },
        ],
      });
    const started = performance.now();
    const counts = await Promise.all(
      Array.from({ length: 40 }, async (_, n) => {
        const res = await fetch(`${collector.url}/v1/logs`, {
          method: 'POST',
          body: body(n, 25),
          headers: { 'content-type': 'application/json' },
        });
        expect(res.status).toBe(200);
        const [row] = await queryRows<{ c: number | string }>(
          collector.storage,
          'SELECT count() AS c FROM sessiongraph.otel_logs WHERE ServiceName = {s:String}',
          { s: `gc-${n}` },
        );
        return Number(row?.c);
      }),
    );
    const elapsed = performance.now() - started;
    expect(counts).toEqual(counts.map(() => 25));
    const used = (await inserts()) - before;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(20);

    const big = await recordInMemory('gc-big', (logger) => {
      for (let i = 0; i < 512; i++)
        logger.emit({
          timestamp: [T0, i],
          body: 'claude_code.api_request',
          context: ROOT_CONTEXT,
          attributes: { 'session.id': 's', model: 'claude-sonnet-4-5', input_tokens: 1000 + i, cost_usd: 0.01 },
        });
    });
    const encoded = ProtobufLogsSerializer.serializeRequest(big)!;
    const t = performance.now();
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${collector.url}/v1/logs`, {
        method: 'POST',
        body: Buffer.from(encoded),
        headers: { 'content-type': 'application/x-protobuf' },
      });
      expect(res.status).toBe(200);
    }
    const perRequest = (performance.now() - t) / 10;
    console.log(
      `logs group commit: 40 requests × 25 records in ${used} inserts, ${elapsed.toFixed(0)} ms; ` +
        `512-record protobuf request stored and answered in ${perRequest.toFixed(1)} ms (≈${Math.round(512_000 / perRequest)} records/s, one sender)`,
    );
  });
});

// ───────────────────────────── helpers ─────────────────────────────

/** A Claude Code session as its default telemetry reports it: api_request and tool_decision events. */
function emitClaudeCodeSession(logger: Logger): void {
  const common = {
    'user.account_uuid': 'acct-1',
    'organization.id': 'org-1',
    'terminal.type': 'vscode',
    'app.version': '2.1.0',
  };
  const apiRequest = (session: string, n: number, tokens: [number, number], cost: number): void =>
    logger.emit({
      timestamp: [T0 + n, 0],
      body: 'claude_code.api_request',
      context: ROOT_CONTEXT,
      attributes: {
        'session.id': session,
        'event.name': 'api_request',
        'event.timestamp': new Date((T0 + n) * 1000).toISOString(),
        'event.sequence': n,
        ...common,
        model: 'claude-sonnet-4-5',
        input_tokens: tokens[0],
        output_tokens: tokens[1],
        cache_read_tokens: 5000,
        cache_creation_tokens: 120,
        cost_usd: cost,
        duration_ms: 2150,
        'prompt.id': `p-${n + 1}`,
      },
    });
  apiRequest('sess-a', 0, [1200, 310], 0.0123);
  logger.emit({
    timestamp: [T0 + 1, 0],
    body: 'claude_code.tool_decision',
    context: ROOT_CONTEXT,
    attributes: {
      'session.id': 'sess-a',
      'event.name': 'tool_decision',
      'event.timestamp': new Date((T0 + 1) * 1000).toISOString(),
      'event.sequence': 1,
      ...common,
      tool_name: 'Bash',
      decision: 'accept',
      source: 'config',
    },
  });
  apiRequest('sess-a', 2, [2400, 410], 0.0345);
  apiRequest('sess-b', 3, [400, 50], 0.002);
}

/** Records made by the SDK for `service` (Claude Code's resource and event scope), kept in memory. */
async function recordInMemory(service: string, emit: (logger: Logger) => void): Promise<ReadableLogRecord[]> {
  const memory = new InMemoryLogRecordExporter();
  const resource = resourceFromAttributes({
    'service.name': service,
    'service.version': '2.1.0',
    'os.type': 'linux',
    'host.arch': 'arm64',
  });
  const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
  emit(provider.getLogger('com.anthropic.claude_code.events', '2.1.0'));
  await provider.forceFlush();
  return [...memory.getFinishedLogRecords()];
}
