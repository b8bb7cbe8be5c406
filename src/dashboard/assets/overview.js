// Overview (`/`): cost, tokens, sessions and error rate over time, filtered by time range,
// agent and model (all in the URL), the top agents by cost, and the failed / abandoned counts.
import { api, query } from './api.js';
import { PALETTE, STATUS_COLOURS, trendChart } from './charts.js';
import { fill, h, link, message } from './dom.js';
import { count, money, percent } from './format.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Time ranges: how far back, and the bucket that suits it. */
export const RANGES = {
  '24h': { label: 'Last 24 hours', back: DAY, bucket: 'hour' },
  '7d': { label: 'Last 7 days', back: 7 * DAY, bucket: 'hour' },
  '30d': { label: 'Last 30 days', back: 30 * DAY, bucket: 'day' },
  '90d': { label: 'Last 90 days', back: 90 * DAY, bucket: 'day' },
  '26w': { label: 'Last 26 weeks', back: 182 * DAY, bucket: 'week' },
};
const DEFAULT_RANGE = '30d';
const STATUS_ORDER = ['completed', 'failed', 'abandoned', 'active'];

/** The from/to of a range, on whole buckets (UTC hours or days), ending after the current one. */
export function rangeBounds(rangeKey, now = Date.now()) {
  const range = RANGES[rangeKey] ?? RANGES[DEFAULT_RANGE];
  const step = range.bucket === 'hour' ? HOUR : DAY;
  const to = Math.floor(now / step) * step + step;
  const from = Math.floor((now - range.back) / step) * step;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucket: range.bucket };
}

/** Renders the overview into `ctx.main`. */
export async function overviewPage(ctx) {
  const params = ctx.query;
  const state = {
    range: RANGES[params.get('range')] ? params.get('range') : DEFAULT_RANGE,
    agent: params.get('agent') ?? '',
    model: params.get('model') ?? '',
  };
  ctx.setTitle('Overview');

  const rangeSelect = h(
    'select',
    { id: 'f-range' },
    Object.entries(RANGES).map(([k, r]) => h('option', { value: k, text: r.label, selected: k === state.range })),
  );
  const agentSelect = h('select', { id: 'f-agent' }, h('option', { value: '', text: 'All agents' }));
  const modelSelect = h('select', { id: 'f-model' }, h('option', { value: '', text: 'All models' }));
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Overview filters', on: { submit: (e) => e.preventDefault() } },
    h('label', {}, h('span', { text: 'Time range' }), rangeSelect),
    h('label', {}, h('span', { text: 'Agent' }), agentSelect),
    h('label', {}, h('span', { text: 'Model' }), modelSelect),
  );
  const content = h(
    'div',
    { class: 'overview-content', 'aria-live': 'polite' },
    h('p', { class: 'loading', text: 'Loading…' }),
  );
  fill(ctx.main, h('div', { class: 'page-head' }, h('h1', { text: 'Overview', tabindex: '-1' })), form, content);

  let unmount = [];
  ctx.onLeave(() => unmount.forEach((f) => f()));
  let loads = 0;

  const load = async () => {
    const mine = ++loads;
    const { from, to, bucket } = rangeBounds(state.range);
    const common = { bucket, from, to, agent: state.agent, model: state.model };
    const trend = (metric, extra = {}) =>
      api(`/api/trends${query({ metric, ...common, ...extra })}`, { signal: ctx.signal });
    // Six requests: what a browser sends at once to one HTTP/1.1 origin.
    const [agents, models, costByAgent, tokens, sessions, errorRate] = await Promise.all([
      api('/api/agents', { signal: ctx.signal }),
      // The model list ignores the model filter, or it would shrink to the chosen one.
      api(`/api/trends${query({ metric: 'sessions', ...common, model: '', group_by: 'model' })}`, {
        signal: ctx.signal,
      }),
      trend('cost', { group_by: 'agent' }),
      trend('tokens'),
      trend('sessions', { group_by: 'status' }),
      trend('error_rate'),
    ]);
    if (mine !== loads) return;
    const cost = sumOfGroups(costByAgent);
    fillOptions(
      agentSelect,
      'All agents',
      [...new Set(agents.agents.map((a) => a.agent_name).filter(Boolean))].sort(),
      state.agent,
    );
    fillOptions(
      modelSelect,
      'All models',
      models.series
        .map((s) => s.group)
        .filter((g) => g && g !== 'all')
        .sort(),
      state.model,
    );

    unmount.forEach((f) => f());
    unmount = [];
    const byStatus = new Map(sessions.series.map((s) => [s.group, s]));
    const total = (t) =>
      t.series.reduce((n, s) => (s.total === null || n === null ? null : n + Number(s.total ?? 0)), 0);
    const sessionTotal = total(sessions);
    const statusCount = (s) => Number(byStatus.get(s)?.total ?? 0);
    const listHref = (status) => `/sessions${query({ status, agent: state.agent, from, to })}`;
    const unpriced = [...(costByAgent.unpriced_models ?? [])].sort();

    const tiles = h(
      'div',
      { class: 'tiles' },
      tile('stat-cost', 'Cost', money(total(cost)), total(cost), unpriced.length ? `excludes unpriced models` : null),
      tile('stat-tokens', 'Tokens', count(total(tokens)), total(tokens)),
      tile('stat-sessions', 'Sessions', count(sessionTotal), sessionTotal),
      tile(
        'stat-error-rate',
        'Error rate',
        percent(errorRate.series[0]?.total ?? null),
        errorRate.series[0]?.total ?? null,
      ),
      tile(
        'stat-failed',
        'Failed sessions',
        link(listHref('failed'), count(statusCount('failed'))),
        statusCount('failed'),
        null,
        'bad',
      ),
      tile(
        'stat-abandoned',
        'Abandoned sessions',
        link(listHref('abandoned'), count(statusCount('abandoned'))),
        statusCount('abandoned'),
        null,
        'warn',
      ),
    );
    const one = (t, label, colour) => t.series.map((s) => ({ label, points: s.points, colour }));
    const axisMoney = (v) => (v === 0 ? '$0' : money(v));
    const axisCount = (v) => (Math.abs(v) >= 1000 ? `${+(v / 1000).toFixed(1)}k` : count(v));
    const statusSeries = [...sessions.series]
      .sort((a, b) => rank(a.group) - rank(b.group))
      .map((s, i) => ({
        label: s.group,
        points: s.points,
        colour: STATUS_COLOURS[s.group] ?? PALETTE[(i + 4) % PALETTE.length],
      }));
    const charts = [
      trendChart({
        id: 'chart-cost',
        title: 'Cost (USD)',
        trend: cost,
        series: one(cost, 'cost', PALETTE[0]),
        kind: 'count',
        format: money,
        axisFormat: axisMoney,
        emptyText:
          unpriced.length && cost.series[0]?.points.length ? `No price known for ${unpriced.join(', ')}.` : undefined,
      }),
      trendChart({
        id: 'chart-tokens',
        title: 'Tokens',
        trend: tokens,
        series: one(tokens, 'tokens', PALETTE[4]),
        kind: 'count',
        format: count,
        axisFormat: axisCount,
      }),
      trendChart({
        id: 'chart-sessions',
        title: 'Sessions by status',
        trend: sessions,
        series: statusSeries,
        kind: 'count',
        format: count,
        axisFormat: axisCount,
        integer: true,
      }),
      trendChart({
        id: 'chart-error-rate',
        title: 'Error rate',
        caption: state.model ? 'failed calls ÷ calls; a gap: no call' : 'failed sessions ÷ sessions; a gap: no session',
        trend: errorRate,
        series: one(errorRate, 'error rate', '#C62828'),
        kind: 'rate',
        format: percent,
      }),
    ];
    const bucketWord =
      bucket === 'hour' ? 'per hour (local time)' : bucket === 'week' ? 'per week (UTC)' : 'per day (UTC)';
    fill(
      content,
      tiles,
      unpriced.length
        ? message(
            'notice',
            'Cost leaves out models nobody prices: ',
            unpriced.join(', '),
            '. Set prices with --prices to include them.',
          )
        : null,
      h('h2', { class: 'section-title', text: `Trends ${bucketWord}` }),
      h('div', { class: 'charts' }, charts),
      topAgents(costByAgent),
      sessionTotal === 0
        ? message('notice', 'No sessions in this range. Send traces to /v1/traces, or try `npx sessiongraph demo`.')
        : null,
    );
    for (const chart of charts) {
      const stop = chart.mount();
      if (stop) unmount.push(stop);
    }
    ctx.main.dataset.ready = 'overview';
  };

  const apply = () => {
    state.range = rangeSelect.value;
    state.agent = agentSelect.value;
    state.model = modelSelect.value;
    ctx.pushQuery({ range: state.range === DEFAULT_RANGE ? '' : state.range, agent: state.agent, model: state.model });
    delete ctx.main.dataset.ready;
    load().catch(ctx.fail);
  };
  for (const select of [rangeSelect, agentSelect, modelSelect]) select.addEventListener('change', apply);
  await load();
}

/** The groups of a trend added up per bucket, as the ungrouped trend (null: nothing priced). */
function sumOfGroups(trend) {
  const byTime = new Map();
  for (const s of trend.series) {
    for (const p of s.points) {
      const sum = byTime.get(p.time) ?? null;
      byTime.set(p.time, p.value === null ? sum : (sum ?? 0) + p.value);
    }
  }
  const points = [...byTime]
    .sort(([a], [b]) => Date.parse(a) - Date.parse(b))
    .map(([time, value]) => ({ time, value }));
  const totals = trend.series.map((s) => s.total).filter((t) => t !== null);
  const total = trend.series.length === 0 ? 0 : totals.length === 0 ? null : totals.reduce((a, b) => a + b, 0);
  return { ...trend, group_by: null, series: [{ group: 'all', points, total }] };
}

function rank(status) {
  const i = STATUS_ORDER.indexOf(status);
  return i < 0 ? STATUS_ORDER.length : i;
}

function fillOptions(select, allLabel, values, chosen) {
  const list = chosen && !values.includes(chosen) ? [chosen, ...values] : values;
  fill(
    select,
    h('option', { value: '', text: allLabel }),
    list.map((v) => h('option', { value: v, text: v, selected: v === chosen })),
  );
}

function tile(id, label, shown, value, note, tone) {
  return h(
    'div',
    {
      class: ['tile', tone && `tile-${tone}`],
      id,
      dataset: { value: value === null || value === undefined ? '' : value },
    },
    h('div', { class: 'tile-label', text: label }),
    h('div', { class: 'tile-value' }, shown),
    note ? h('div', { class: 'tile-note', text: note }) : null,
  );
}

// Hand-drawn (HTML bars), not uPlot: a ranked list of a few totals reads best as labelled bars
// with links to each agent's sessions, which is plain HTML; uPlot draws series over an axis.
function topAgents(costByAgent) {
  const rows = costByAgent.series
    .map((s) => ({ name: s.group, total: s.total === null || s.total === undefined ? null : Number(s.total) }))
    .sort((a, b) => (b.total ?? -1) - (a.total ?? -1))
    .slice(0, 8);
  const max = Math.max(0, ...rows.map((r) => r.total ?? 0));
  return h(
    'section',
    { class: 'panel top-agents', id: 'top-agents' },
    h('h2', { text: 'Top agents by cost' }),
    rows.length === 0
      ? h('p', { class: 'muted', text: 'No agent ran in this range.' })
      : h(
          'ol',
          { class: 'bar-list' },
          rows.map((r) =>
            h(
              'li',
              {},
              h(
                'span',
                { class: 'bar-name' },
                r.name && r.name !== 'all' && r.name !== 'unknown agent'
                  ? link(`/sessions${query({ agent: r.name })}`, r.name)
                  : h('span', { class: 'muted', text: 'unknown agent' }),
              ),
              h(
                'span',
                { class: 'bar-track', 'aria-hidden': 'true' },
                h('span', {
                  class: 'bar-fill',
                  style: { width: `${max > 0 ? Math.max(1, ((r.total ?? 0) / max) * 100) : 0}%` },
                }),
              ),
              h('span', { class: 'bar-value num', text: r.total === null ? 'unpriced' : money(r.total) }),
            ),
          ),
        ),
  );
}
