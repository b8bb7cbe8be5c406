/**
 * The demo's simulated agents: realistic runs built with the SDK helpers themselves (no
 * hand-made rows), on a simulated clock so a month of runs replays in seconds. Seeded, so
 * `--seed` reproduces the same workload.
 */
import { context, trace } from '@opentelemetry/api';
import { agentSession, decision, llmCall, toolCall } from '../../packages/sdk/src/helpers.ts';
import { nowHrTime } from '../../packages/sdk/src/clock.ts';

/** Seeded PRNG (mulberry32) with the helpers the workload needs. */
export class Dice {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
}

/** A simulated clock the demo advances as its agents "work". */
export class SimulatedClock {
  constructor(private ms: number) {}
  now = (): number => this.ms;
  set(ms: number): void {
    this.ms = ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** What one simulated run left behind, for the demo's closing hints. */
export interface RunOutcome {
  traceId: string;
  decisionIds: string[];
  kind: 'completed' | 'failed' | 'abandoned';
}

/** One simulated agent: its service, and how to run it once. */
export interface DemoAgent {
  name: string;
  service: string;
  run(dice: Dice, clock: SimulatedClock): Promise<RunOutcome>;
}

class DemoFailure extends Error {
  override name = 'UpstreamError';
}

const FEATURES = [
  'csv-export',
  'legacy-sync',
  'saved-views-v1',
  'dark-mode',
  'bulk-edit',
  'audit-log',
  'slack-digest',
  'public-api-v1',
];

/** Runs `body` as an agent session, or — for an abandoned run — under a root that never ends. */
async function session(
  kind: RunOutcome['kind'],
  options: Parameters<typeof agentSession>[0],
  body: (decisions: string[]) => Promise<string>,
): Promise<RunOutcome> {
  const decisions: string[] = [];
  let traceId = '';
  const inner = async (): Promise<string> => {
    traceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
    const out = await body(decisions);
    if (kind === 'failed') throw new DemoFailure('model provider returned 529 overloaded after 3 retries');
    return out;
  };
  if (kind === 'abandoned') {
    // The process "crashed": its root span never ends, so it is never exported.
    const root = trace.getTracer('sessiongraph-demo').startSpan(`invoke_agent ${options.agent.name}`, {
      startTime: nowHrTime(),
      attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': options.agent.name },
    });
    await context.with(trace.setSpan(context.active(), root), inner);
  } else {
    await agentSession(options, inner).catch((err: unknown) => {
      if (!(err instanceof DemoFailure)) throw err;
    });
  }
  return { traceId, decisionIds: decisions, kind };
}

function outcome(dice: Dice): RunOutcome['kind'] {
  const r = dice.next();
  return r < 0.05 ? 'abandoned' : r < 0.13 ? 'failed' : 'completed';
}

/** The nightly roadmap-triage agent of the seed: reads metrics and backlog, proposes deprecations. */
const roadmapTriage: DemoAgent = {
  name: 'roadmap-triage',
  service: 'product-ops',
  async run(dice, clock) {
    const day = new Date(clock.now()).toISOString().slice(0, 10);
    return session(
      outcome(dice),
      {
        agent: {
          name: 'roadmap-triage',
          version: '2.3.0',
          description: 'Nightly triage of the roadmap against usage metrics',
        },
        input: `Nightly roadmap triage for ${day}: review the backlog against the last 30 days of usage.`,
        conversationId: `nightly-${day}`,
        tags: ['nightly', 'roadmap'],
      },
      async (decisions) => {
        const usage: Record<string, number> = {};
        clock.advance(dice.int(50, 200));
        await llmCall({ model: 'claude-sonnet-4-5', provider: 'anthropic' }, (call) => {
          clock.advance(dice.int(1500, 4000));
          call.usage({
            inputTokens: 6200,
            outputTokens: dice.int(150, 400),
            cacheReadTokens: dice.chance(0.8) ? 5800 : 0,
            cacheWriteTokens: dice.chance(0.2) ? 5800 : 0,
          });
          call.output('I will read the backlog, then usage for each candidate feature.');
        });
        await toolCall('read_backlog', { team: 'core', status: 'open' }, () => {
          clock.advance(dice.int(200, 900));
          if (dice.chance(0.15)) throw new DemoFailure('backlog service returned 503');
          return { items: dice.int(40, 120) };
        }).catch(() =>
          toolCall(
            'read_backlog',
            { team: 'core', status: 'open', retry: 1 },
            () => (clock.advance(400), { items: 87 }),
          ),
        );
        for (const feature of FEATURES.slice(0, 7)) {
          usage[feature] = Number((dice.next() * (dice.chance(0.3) ? 0.01 : 0.4)).toFixed(4));
          await toolCall(
            'read_metrics',
            { feature, window: '30d' },
            () => (clock.advance(dice.int(100, 500)), { feature, weekly_active_share: usage[feature] }),
          );
        }
        const low = Object.entries(usage)
          .sort((a, b) => a[1] - b[1])
          .slice(0, 2);
        await llmCall({ model: 'claude-sonnet-4-5', provider: 'anthropic' }, (call) => {
          clock.advance(dice.int(3000, 9000));
          call.usage({
            inputTokens: 14_500,
            outputTokens: dice.int(600, 1400),
            cacheReadTokens: 6000,
            reasoningTokens: dice.int(200, 800),
          });
          call.output(
            `Propose deprecating ${low.map(([f]) => f).join(' and ')}: both under ${(Math.max(...low.map(([, u]) => u)) * 100).toFixed(1)}% weekly usage.`,
          );
        });
        for (const [feature, share] of low) {
          clock.advance(dice.int(10, 50));
          decisions.push(
            decision({
              title: `Deprecate ${feature}`,
              rationale: `${feature} was used by ${(share * 100).toFixed(2)}% of weekly active accounts over the last 30 days`,
              context: `nightly triage ${day}; backlog and 30-day metrics`,
              consequences: `announce deprecation; migrate the accounts still using ${feature}`,
              tags: ['deprecation', 'roadmap'],
            }),
          );
        }
        return `Proposed deprecating ${low.map(([f]) => f).join(' and ')}.`;
      },
    );
  },
};

/** A support agent routing tickets. */
const supportTriage: DemoAgent = {
  name: 'support-triage',
  service: 'support',
  async run(dice, clock) {
    const ticket = dice.int(1000, 9999);
    const model = dice.pick(['gpt-4o-mini', 'gpt-4o']);
    return session(
      outcome(dice),
      {
        agent: { name: 'support-triage', version: '1.8.1' },
        input: `Route ticket #${ticket}`,
        conversationId: `ticket-${ticket}`,
        userId: `customer-${dice.int(1, 400)}`,
      },
      async (decisions) => {
        await toolCall(
          'lookup_customer',
          { ticket },
          () => (clock.advance(dice.int(80, 300)), { plan: dice.pick(['free', 'team', 'enterprise']) }),
        );
        await toolCall(
          'search_kb',
          { ticket, top_k: 5 },
          () => (clock.advance(dice.int(150, 600)), { hits: dice.int(0, 5) }),
        );
        const turns = dice.int(1, 3);
        for (let i = 0; i < turns; i++) {
          await llmCall({ model, provider: 'openai' }, (call) => {
            clock.advance(dice.int(800, 2500));
            call.responseModel(model === 'gpt-4o' ? 'gpt-4o-2024-08-06' : 'gpt-4o-mini-2024-07-18');
            call.usage({
              inputTokens: dice.int(1200, 4000),
              outputTokens: dice.int(80, 300),
              cacheReadTokens: i > 0 ? 1024 : 0,
            });
            call.output(i === turns - 1 ? 'Route to billing, tier 2.' : 'Need the invoice history.');
          });
        }
        if (dice.chance(0.3)) {
          decisions.push(
            decision({
              title: `Escalate ticket #${ticket} to tier 2`,
              rationale: 'enterprise plan and a billing dispute',
              asEvent: true,
              tags: ['escalation'],
            }),
          );
        }
        await toolCall(
          'assign_ticket',
          { ticket, queue: 'billing-t2' },
          () => (clock.advance(dice.int(50, 200)), { ok: true }),
        );
        return `Ticket #${ticket} routed to billing tier 2.`;
      },
    );
  },
};

/** Release notes from merged PRs; the issue tracker sometimes fails. */
const releaseNotes: DemoAgent = {
  name: 'release-notes',
  service: 'release-bot',
  async run(dice, clock) {
    const version = `3.${dice.int(0, 9)}.${dice.int(0, 9)}`;
    return session(
      outcome(dice),
      { agent: { name: 'release-notes', version: '0.9.0' }, input: `Draft the release notes for ${version}.` },
      async () => {
        await toolCall(
          'list_merged_prs',
          { since: version },
          () => (clock.advance(dice.int(200, 700)), { prs: dice.int(5, 40) }),
        );
        for (let i = 0; i < dice.int(1, 3); i++) {
          await toolCall('fetch_issue', { id: dice.int(4000, 4999) }, () => {
            clock.advance(dice.int(100, 400));
            if (dice.chance(0.2)) throw new DemoFailure('issue tracker returned 502');
            return { title: 'Faster exports' };
          }).catch(() => undefined);
        }
        await llmCall({ model: 'claude-haiku-4-5', provider: 'anthropic' }, (call) => {
          clock.advance(dice.int(1000, 3000));
          call.usage({
            inputTokens: dice.int(3000, 9000),
            outputTokens: dice.int(200, 600),
            cacheReadTokens: dice.chance(0.6) ? 2500 : 0,
          });
          call.output(`Release ${version} ships faster exports and fixes login timeouts.`);
        });
        return `Release ${version} ships faster exports and fixes login timeouts.`;
      },
    );
  },
};

/** Refund decisions with a reasoning model and an in-house risk model nobody prices. */
const billingAssistant: DemoAgent = {
  name: 'billing-assistant',
  service: 'billing',
  async run(dice, clock) {
    const amount = dice.int(10, 900);
    return session(
      outcome(dice),
      {
        agent: { name: 'billing-assistant', id: 'billing-assistant-prod', version: '4.0.2' },
        input: `Customer asks for a refund of $${amount}.`,
      },
      async (decisions) => {
        await toolCall('get_invoice', { amount }, () => (clock.advance(dice.int(100, 300)), { paid: true }));
        await llmCall({ model: 'acme-risk-scorer-v2', provider: 'acme' }, (call) => {
          clock.advance(dice.int(200, 600));
          call.usage({ inputTokens: dice.int(300, 800), outputTokens: 20 });
          call.output(`risk=${dice.next().toFixed(2)}`);
        });
        await llmCall({ model: 'o3-mini', provider: 'openai' }, (call) => {
          clock.advance(dice.int(2000, 6000));
          call.usage({
            inputTokens: dice.int(2000, 5000),
            outputTokens: dice.int(400, 1200),
            reasoningTokens: dice.int(200, 900),
          });
          call.output(amount < 500 ? 'Approve the refund.' : 'Refer to a human: amount above the auto-approve limit.');
        });
        if (amount < 500) {
          decisions.push(
            decision({
              title: `Approve refund of $${amount}`,
              rationale: 'paid invoice, low risk, under the $500 auto-approve limit',
              status: 'accepted',
              tags: ['refund'],
            }),
          );
          await toolCall(
            'issue_refund',
            { amount },
            () => (clock.advance(dice.int(100, 400)), { refund_id: `re_${dice.int(1e5, 1e6)}` }),
          );
        }
        return amount < 500 ? `Refunded $${amount}.` : 'Referred to a human.';
      },
    );
  },
};

/** Every demo agent, with how often it runs relative to the others. */
export const DEMO_AGENTS: ReadonlyArray<{ agent: DemoAgent; weight: number }> = [
  { agent: roadmapTriage, weight: 2 },
  { agent: supportTriage, weight: 4 },
  { agent: releaseNotes, weight: 2 },
  { agent: billingAssistant, weight: 2 },
];
