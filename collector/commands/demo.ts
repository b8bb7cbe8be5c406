/**
 * `sessiongraph demo`: sends a month of realistic agent sessions to a running collector using
 * the SDK itself (roadmap triage, support triage, release notes, billing), with a progress bar,
 * then prints where to look. `--sessions N` scales it; `--seed S` reproduces it exactly (ids
 * included, so re-sending the same seed changes nothing: the collector de-duplicates).
 */
import { DEMO_AGENTS, Dice, SimulatedClock, type DemoAgent, type RunOutcome } from '../../src/demo/workload.ts';
import { setClock } from '../../packages/sdk/src/clock.ts';
import { startTracing } from '../../packages/sdk/src/tracing.ts';
import { authHeaders, type ClientOptions } from './sql.ts';
import { sessionIdOf } from '../../src/mapping/ids.ts';

/** Options of the demo command. */
export interface DemoOptions {
  sessions: number;
  seed: number;
  /** Days back the sessions are spread over. */
  days: number;
}

const DAY_MS = 86_400_000;

/** Plans which agent runs when: roadmap triage nightly at 02:00 UTC, the others any time. */
function plan(options: DemoOptions, dice: Dice, now: number): Array<{ agent: DemoAgent; startMs: number }> {
  const total = DEMO_AGENTS.reduce((sum, a) => sum + a.weight, 0);
  const runs: Array<{ agent: DemoAgent; startMs: number }> = [];
  for (let i = 0; i < options.sessions; i++) {
    let r = dice.next() * total;
    const entry = DEMO_AGENTS.find((a) => (r -= a.weight) < 0) ?? DEMO_AGENTS[0];
    if (!entry) break;
    const daysAgo = dice.int(1, options.days);
    const startMs =
      entry.agent.name === 'roadmap-triage'
        ? Math.floor((now - daysAgo * DAY_MS) / DAY_MS) * DAY_MS + 2 * 3_600_000 + dice.int(0, 120_000)
        : now - daysAgo * DAY_MS + dice.int(0, DAY_MS - 3_600_000);
    runs.push({ agent: entry.agent, startMs });
  }
  return runs;
}

function progressBar(total: number): (done: number) => void {
  const tty = process.stderr.isTTY;
  let lastQuarter = -1;
  return (done) => {
    if (tty) {
      const width = 30;
      const filled = Math.round((done / total) * width);
      process.stderr.write(`\r  ${'█'.repeat(filled)}${'░'.repeat(width - filled)}  ${done}/${total} sessions`);
      if (done === total) process.stderr.write('\n');
    } else {
      const quarter = Math.floor((done / total) * 4);
      if (quarter !== lastQuarter) process.stderr.write(`  ${done}/${total} sessions sent\n`);
      lastQuarter = quarter;
    }
  };
}

/** Seeded trace/span ids, so a seed reproduces the exact same traces. */
function seededIds(dice: Dice): { generateTraceId(): string; generateSpanId(): string } {
  const hex = (n: number): string =>
    Array.from({ length: n }, () => Math.floor(dice.next() * 16).toString(16)).join('');
  return { generateTraceId: () => hex(32), generateSpanId: () => hex(16) };
}

/** Runs the demo against the collector at `client.url`; returns the exit code. */
export async function demoCommand(client: ClientOptions, options: DemoOptions): Promise<number> {
  try {
    const health = await fetch(`${client.url}/healthz`);
    if (!health.ok) throw new Error(`HTTP ${health.status}`);
  } catch (err) {
    process.stderr.write(
      `sessiongraph demo: no collector answers at ${client.url} (${(err as Error).message}). Start one with \`npm start\`, or pass --url.\n`,
    );
    return 1;
  }
  const dice = new Dice(options.seed);
  const ids = seededIds(new Dice(options.seed ^ 0x5eed));
  const runs = plan(options, dice, Date.now()).sort(
    (a, b) => a.agent.service.localeCompare(b.agent.service) || a.startMs - b.startMs,
  );
  process.stderr.write(
    `sessiongraph demo: ${runs.length} agent sessions over the last ${options.days} days → ${client.url} (seed ${options.seed})\n`,
  );
  const tick = progressBar(runs.length);
  const clock = new SimulatedClock(Date.now());
  const outcomes: Array<RunOutcome & { agent: string }> = [];
  setClock(clock.now);
  try {
    for (const service of [...new Set(runs.map((r) => r.agent.service))]) {
      // One tracer provider per service, as each agent would run in its own process.
      const tracing = startTracing({
        endpoint: client.url,
        serviceName: service,
        resourceAttributes: { 'deployment.environment.name': 'demo' },
        idGenerator: ids,
        ...(client.apiKey ? { headers: authHeaders(client) } : {}),
      });
      for (const run of runs.filter((r) => r.agent.service === service)) {
        clock.set(run.startMs);
        outcomes.push({ ...(await run.agent.run(dice, clock)), agent: run.agent.name });
        tick(outcomes.length);
      }
      await tracing.shutdown();
    }
  } finally {
    setClock(undefined);
  }
  return report(client, outcomes);
}

async function report(client: ClientOptions, outcomes: ReadonlyArray<RunOutcome & { agent: string }>): Promise<number> {
  const example =
    outcomes.find((o) => o.agent === 'roadmap-triage' && o.kind === 'completed' && o.decisionIds.length > 0) ??
    outcomes.find((o) => o.decisionIds.length > 0) ??
    outcomes[0];
  const count = (kind: RunOutcome['kind']): number => outcomes.filter((o) => o.kind === kind).length;
  if (example) {
    const res = await fetch(`${client.url}/api/sessions/${sessionIdOf(example.traceId)}`, {
      headers: authHeaders(client),
    });
    if (!res.ok) {
      process.stderr.write(
        `sessiongraph demo: the collector did not store the sessions (GET /api/sessions/${sessionIdOf(example.traceId)} → ${res.status}); see its log.\n`,
      );
      return 1;
    }
  }
  const decisions = outcomes.reduce((n, o) => n + o.decisionIds.length, 0);
  const lines = [
    '',
    `Sent ${outcomes.length} sessions: ${count('completed')} completed, ${count('failed')} failed, ${count('abandoned')} abandoned (no root), ${decisions} decisions.`,
    '',
    'Where to look:',
    `  ${client.url}/  (the dashboard)`,
    ...(example ? [`  ${client.url}/sessions/${sessionIdOf(example.traceId)}`] : []),
    '  npx sessiongraph sessions --agent roadmap-triage',
    ...(example ? [`  npx sessiongraph session ${sessionIdOf(example.traceId)}`] : []),
    ...(example?.decisionIds[0] ? [`  npx sessiongraph decision ${example.decisionIds[0]}`] : []),
    '  npx sessiongraph trends --metric cost --by agent',
    `  npx sessiongraph sql "SELECT toDate(session_start) AS day, agent_name, count() AS sessions, sum(cost) AS cost_usd, sum(error_count) AS errors FROM agent_sessions GROUP BY day, agent_name ORDER BY day, agent_name"`,
    `  ${client.url}/api/agents`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
  return 0;
}
