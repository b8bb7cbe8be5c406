/**
 * Graceful shutdown (SPEC §7): SIGTERM while exporters are sending stops accepting, stores
 * every request it answered 2xx, closes storage and exits 0 within a bounded time.
 */
import { describe, expect, it } from 'vitest';
import { agentRunSpans, exportBody } from '../helpers/agent-run.ts';
import { spawnCollector } from '../helpers/cli.ts';
import { openStoppedDataDir, tempDir } from '../helpers/collector.ts';

describe('SIGTERM under load', () => {
  it('answers what it accepted, stores it, and exits 0 quickly', async () => {
    const dataDir = tempDir();
    const collector = await spawnCollector(['serve', '--port', '0', '--data-dir', dataDir, '--batch-linger-ms', '50']);
    const acknowledged: string[] = [];
    let refused = 0;
    let n = 0;
    let stop = false;
    const senders = Array.from({ length: 6 }, async (_, id) => {
      while (!stop) {
        const traceId = `5d${id.toString(16)}${(n++).toString(16).padStart(29, '0')}`;
        try {
          const res = await fetch(`${collector.url}/v1/traces`, {
            method: 'POST',
            body: exportBody(agentRunSpans(traceId)),
            headers: { 'content-type': 'application/json' },
          });
          await res.arrayBuffer();
          if (res.status === 200) acknowledged.push(traceId);
          else refused++;
        } catch {
          refused++; // connection refused or closed once the server stops listening
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    await new Promise((r) => setTimeout(r, 800));
    const signalled = Date.now();
    collector.child.kill('SIGTERM');
    expect(await collector.exited).toBe(0);
    const exitMs = Date.now() - signalled;
    stop = true;
    await Promise.all(senders);
    expect(collector.output()).toMatch(/SIGTERM received: draining[\s\S]*stopped/);
    expect(exitMs).toBeLessThan(10_000);

    const storage = openStoppedDataDir(dataDir);
    try {
      const rows = await storage.select<{ trace: string; spans: number }>(
        'SELECT TraceId AS trace, uniqExact(SpanId) AS spans FROM sessiongraph.otel_traces GROUP BY TraceId',
      );
      const stored = new Map(rows.map((r) => [r.trace, r.spans]));
      expect(acknowledged.filter((t) => stored.get(t) !== 10)).toEqual([]);
      const sessions = await storage.select<{ n: number }>(
        "SELECT count() AS n FROM sessiongraph.agent_sessions FINAL WHERE session_status = 'completed'",
      );
      expect(sessions[0]?.n).toBeGreaterThanOrEqual(acknowledged.length);
      console.log(
        `shutdown: exited 0 in ${exitMs} ms; ${acknowledged.length} acknowledged requests all stored, ${refused} refused after the signal`,
      );
    } finally {
      await storage.close();
    }
  }, 60_000);
});
