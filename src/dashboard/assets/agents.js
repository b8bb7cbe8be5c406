// Agents (`/agents`): each agent definition with its version, sessions, failure rate, cost,
// tokens, errors and last run, sortable.
import { api, query } from './api.js';
import { fill, h, link, message, sortableHeader } from './dom.js';
import { agentLabel, count, money, percent, time } from './format.js';

const failureRate = (a) => (a.session_count > 0 ? a.failed_sessions / a.session_count : null);

const COLUMNS = [
  {
    key: 'agent',
    label: 'Agent',
    text: true,
    value: (a) => a.agent_name,
    cell: (a) => [
      a.agent_name ? link(`/sessions${query({ agent: a.agent_name })}`, a.agent_name) : agentLabel(''),
      h('span', { class: 'sub mono', text: a.agent_key }),
    ],
  },
  { key: 'version', label: 'Version', text: true, value: (a) => a.version, cell: (a) => a.version || '—' },
  { key: 'service', label: 'Service', text: true, value: (a) => a.service_name, cell: (a) => a.service_name || '—' },
  { key: 'sessions', label: 'Sessions', num: true, value: (a) => a.session_count, cell: (a) => count(a.session_count) },
  {
    key: 'failure',
    label: 'Failure rate',
    num: true,
    value: (a) => failureRate(a) ?? -1,
    cell: (a) =>
      h('span', {
        title: `${count(a.failed_sessions)} failed of ${count(a.session_count)}`,
        class: a.failed_sessions > 0 ? 'error-count' : '',
        text: percent(failureRate(a)),
      }),
  },
  { key: 'cost', label: 'Cost', num: true, value: (a) => a.total_cost, cell: (a) => money(a.total_cost) },
  { key: 'tokens', label: 'Tokens', num: true, value: (a) => a.total_tokens, cell: (a) => count(a.total_tokens) },
  { key: 'errors', label: 'Errors', num: true, value: (a) => a.error_count, cell: (a) => count(a.error_count) },
  { key: 'last', label: 'Last run', value: (a) => Date.parse(a.last_seen), cell: (a) => time(a.last_seen) },
];

/** Renders the agent definitions into `ctx.main`. */
export async function agentsPage(ctx) {
  ctx.setTitle('Agents');
  const { agents } = await api('/api/agents', { signal: ctx.signal });
  let sort = {
    key: COLUMNS.some((c) => c.key === ctx.query.get('sort')) ? ctx.query.get('sort') : 'cost',
    dir: ctx.query.get('dir') === 'asc' ? 'asc' : 'desc',
  };
  const holder = h('div', { class: 'table-scroll' });
  const render = () => {
    const column = COLUMNS.find((c) => c.key === sort.key) ?? COLUMNS[0];
    const sign = sort.dir === 'asc' ? 1 : -1;
    const rows = [...agents].sort(
      (a, b) =>
        sign *
        (column.text
          ? String(column.value(a) ?? '').localeCompare(String(column.value(b) ?? ''))
          : (Number(column.value(a)) || 0) - (Number(column.value(b)) || 0)),
    );
    fill(
      holder,
      h(
        'table',
        { class: 'data agents-table', id: 'agents-table' },
        h(
          'thead',
          {},
          sortableHeader(COLUMNS, sort, (next) => {
            sort = next;
            ctx.pushQuery({ sort: sort.key, dir: sort.dir }, { replace: true });
            render();
            holder.querySelector('th:not([aria-sort="none"]) button')?.focus();
          }),
        ),
        h(
          'tbody',
          {},
          rows.map((a) =>
            h(
              'tr',
              { dataset: { agentId: a.id } },
              COLUMNS.map((c) => h('td', { class: c.num ? 'num' : '', dataset: { label: c.label } }, c.cell(a))),
            ),
          ),
        ),
      ),
    );
  };
  fill(
    ctx.main,
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1', text: 'Agents' })),
    agents.length === 0
      ? message('notice', 'No agent definition yet: they appear with the first session of each agent.')
      : holder,
  );
  render();
  ctx.main.dataset.ready = 'agents';
}
