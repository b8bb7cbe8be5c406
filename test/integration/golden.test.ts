/**
 * Golden fixtures, one folder per convention family (test/fixtures/golden/*): each a realistic
 * run sent as its framework sends it (split requests, root last, a duplicate), with the expected
 * session, agent definition and decisions worked out by hand from SPEC.md and CONVENTIONS.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { startTestCollector, tempDir } from '../helpers/collector.ts';

const GOLDEN = path.resolve(import.meta.dirname, '../fixtures/golden');

interface Expected {
  about: string;
  requests: Array<{ file: string; contentType: string }>;
  /** OTLP log requests of the same run (Claude Code's events), sent to /v1/logs after the traces. */
  log_requests?: Array<{ file: string; contentType: string }>;
  session: Record<string, unknown> & { id: string; cost: number };
  agent_definition: Record<string, unknown>;
  decisions: Array<Record<string, unknown>>;
}

const fixtures = fs
  .readdirSync(GOLDEN, { withFileTypes: true })
  .filter((d) => d.isDirectory() && fs.existsSync(path.join(GOLDEN, d.name, 'expected.json')))
  .map((d) => ({
    name: d.name,
    expected: JSON.parse(fs.readFileSync(path.join(GOLDEN, d.name, 'expected.json'), 'utf8')) as Expected,
  }));

let collector: RunningCollector;
beforeAll(async () => {
  collector = await startTestCollector(tempDir());
});
afterAll(async () => {
  await collector?.close();
});

describe('golden fixtures', () => {
  it('covers every convention family', () => {
    expect(fixtures.map((f) => f.name).sort()).toEqual(
      expect.arrayContaining([
        'langfuse',
        'openinference',
        'openllmetry',
        'otel-genai',
        'vercel-ai-sdk-7',
        'vercel-ai-v4',
      ]),
    );
  });

  for (const { name, expected } of fixtures) {
    it(`${name}: session, agent definition and decisions equal the hand-written rows`, async () => {
      const sends = [
        ...expected.requests.map((r) => ({ ...r, path: '/v1/traces' })),
        ...(expected.log_requests ?? []).map((r) => ({ ...r, path: '/v1/logs' })),
      ];
      for (const request of sends) {
        const body = fs.readFileSync(path.join(GOLDEN, name, request.file));
        const res = await fetch(`${collector.url}${request.path}`, {
          method: 'POST',
          body,
          headers: { 'content-type': request.contentType },
        });
        expect(res.status, `${request.file}: ${await res.clone().text()}`).toBe(200);
        expect(await res.text()).not.toMatch(/rejectedSpans|rejectedLogRecords/);
      }
      const res = await fetch(`${collector.url}/api/sessions/${expected.session.id}`);
      expect(res.status).toBe(200);
      const got = (await res.json()) as {
        session: Record<string, unknown>;
        agent_definition: unknown;
        decisions: unknown[];
      };
      const { updated_at: _updated, cost, ...session } = got.session;
      const { cost: expectedCost, ...expectedSession } = expected.session;
      expect(session).toEqual(expectedSession);
      expect(cost).toBeCloseTo(expectedCost, 9);
      expect(got.agent_definition).toEqual(expected.agent_definition);
      expect(got.decisions).toEqual(expected.decisions);
    });
  }
});
