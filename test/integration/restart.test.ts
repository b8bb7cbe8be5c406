/**
 * The collector as a user runs it: the real command in a child process on the embedded engine.
 * Data stored before a restart is still there after it, and SIGTERM drains and exits 0.
 */
import { describe, expect, it } from 'vitest';
import { spawnCollector } from '../helpers/cli.ts';
import { openStoppedDataDir, tempDir } from '../helpers/collector.ts';

function exportRequest(service: string, spans: number): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            spans: Array.from({ length: spans }, (_, i) => ({
              traceId: '0af7651916cd43dd8448eb211c80319c',
              spanId: (i + 1).toString(16).padStart(16, '0'),
              name: `step-${i}`,
              startTimeUnixNano: '1767225600000000000',
              endTimeUnixNano: '1767225600250000000',
            })),
          },
        ],
      },
    ],
  });
}

describe('restart on the embedded engine', () => {
  it('keeps data across restarts and exits 0 on SIGTERM', async () => {
    const dataDir = tempDir();
    const args = ['serve', '--port', '0', '--data-dir', dataDir];

    const first = await spawnCollector(args);
    const res1 = await fetch(`${first.url}/v1/traces`, {
      method: 'POST',
      body: exportRequest('before-restart', 3),
      headers: { 'content-type': 'application/json' },
    });
    expect(res1.status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toMatch(/SIGTERM received: draining[\s\S]*stopped/);

    const second = await spawnCollector(args);
    const res2 = await fetch(`${second.url}/v1/traces`, {
      method: 'POST',
      body: exportRequest('after-restart', 2),
      headers: { 'content-type': 'application/json' },
    });
    expect(res2.status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    // The children are gone, so this process may open the same data directory.
    const storage = openStoppedDataDir(dataDir);
    const rows = await storage.select<{ s: string; n: string }>(
      'SELECT ServiceName AS s, count() AS n FROM sessiongraph.otel_traces GROUP BY s ORDER BY s',
    );
    await storage.close();
    expect(rows.map((r) => [r.s, Number(r.n)])).toEqual([
      ['after-restart', 2],
      ['before-restart', 3],
    ]);
  });
});
