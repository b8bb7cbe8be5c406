// Sessions (`/sessions`): the API's filters (agent, status, from, to, conversation id, page
// size, cursor) live in the URL, so a view can be shared; sorting is over the loaded page.
import { api, query } from './api.js';
import { fill, h, link, message, sortableHeader } from './dom.js';
import { agentLabel, count, money, statusBadge, time } from './format.js';

const STATUSES = ['completed', 'failed', 'abandoned', 'active'];
const LIMITS = ['25', '50', '100', '200'];
const FILTERS = ['agent', 'status', 'from', 'to', 'conversation_id', 'limit', 'cursor'];

/** The table's columns: how each sorts and how each cell is drawn. */
const COLUMNS = [
  {
    key: 'agent',
    label: 'Agent',
    text: true,
    value: (s) => s.agent_name,
    cell: (s) => [
      link(`/sessions/${s.id}`, agentLabel(s.agent_name)),
      h('span', { class: 'sub mono', text: s.id.slice(0, 8) }),
    ],
  },
  {
    key: 'status',
    label: 'Status',
    text: true,
    value: (s) => s.session_status,
    cell: (s) => statusBadge(s.session_status),
  },
  { key: 'start', label: 'Started', value: (s) => Date.parse(s.session_start), cell: (s) => time(s.session_start) },
  {
    key: 'conversation',
    label: 'Conversation',
    text: true,
    value: (s) => s.conversation_id,
    cell: (s) =>
      s.conversation_id
        ? link(`/sessions${query({ conversation_id: s.conversation_id })}`, s.conversation_id)
        : h('span', { class: 'muted', text: '—' }),
  },
  {
    key: 'cost',
    label: 'Cost',
    num: true,
    value: (s) => s.cost,
    cell: (s) => [
      money(s.cost),
      s.unpriced_models?.length
        ? h('span', { class: 'sub', title: `not priced: ${s.unpriced_models.join(', ')}`, text: ' + unpriced' })
        : null,
    ],
  },
  { key: 'tokens', label: 'Tokens', num: true, value: (s) => s.tokens_used, cell: (s) => count(s.tokens_used) },
  { key: 'turns', label: 'Turns', num: true, value: (s) => s.turns, cell: (s) => count(s.turns) },
  {
    key: 'tools',
    label: 'Tools',
    num: true,
    value: (s) => s.tool_call_count,
    cell: (s) => h('span', { title: (s.tools_invoked ?? []).join(', ') || 'no tools', text: count(s.tool_call_count) }),
  },
  {
    key: 'errors',
    label: 'Errors',
    num: true,
    value: (s) => s.error_count,
    cell: (s) => h('span', { class: s.error_count > 0 ? 'error-count' : '', text: count(s.error_count) }),
  },
];

/** Renders the sessions list into `ctx.main`. */
export async function sessionsPage(ctx) {
  ctx.setTitle('Sessions');
  const q = ctx.query;
  const filters = Object.fromEntries(FILTERS.map((k) => [k, q.get(k) ?? '']));
  let sort = {
    key: COLUMNS.some((c) => c.key === q.get('sort')) ? q.get('sort') : '',
    dir: q.get('dir') === 'asc' ? 'asc' : 'desc',
  };

  const agentSelect = h(
    'select',
    { id: 'f-agent' },
    h('option', { value: '', text: 'All agents' }),
    filters.agent ? h('option', { value: filters.agent, text: filters.agent, selected: true }) : null,
  );
  const statusSelect = h(
    'select',
    { id: 'f-status' },
    h('option', { value: '', text: 'Any status' }),
    STATUSES.map((s) => h('option', { value: s, text: s, selected: s === filters.status })),
  );
  const fromInput = h('input', { id: 'f-from', type: 'date', value: filters.from.slice(0, 10) });
  const toInput = h('input', { id: 'f-to', type: 'date', value: filters.to.slice(0, 10) });
  const conversationInput = h('input', {
    id: 'f-conversation',
    type: 'text',
    value: filters.conversation_id,
    placeholder: 'any',
    spellcheck: 'false',
  });
  const limitSelect = h(
    'select',
    { id: 'f-limit' },
    LIMITS.map((l) => h('option', { value: l, text: l, selected: l === (filters.limit || '50') })),
  );
  const results = h('div', { class: 'results', 'aria-live': 'polite' }, h('p', { class: 'loading', text: 'Loading…' }));

  // A date input holds a day; keep the URL's own time when the day did not change.
  const dateValue = (input, old) => (input.value && old.slice(0, 10) === input.value ? old : input.value);
  const apply = () => {
    Object.assign(filters, {
      agent: agentSelect.value,
      status: statusSelect.value,
      from: dateValue(fromInput, filters.from),
      to: dateValue(toInput, filters.to),
      conversation_id: conversationInput.value.trim(),
      limit: limitSelect.value === '50' ? '' : limitSelect.value,
      cursor: '', // a new filter starts at the first page
    });
    pushUrl();
    load().catch(ctx.fail);
  };
  const pushUrl = (replace = false) =>
    ctx.pushQuery({ ...filters, sort: sort.key, dir: sort.key ? sort.dir : '' }, { replace });

  const form = h(
    'form',
    {
      class: 'filters',
      'aria-label': 'Session filters',
      on: {
        submit: (e) => {
          e.preventDefault();
          apply();
        },
      },
    },
    h('label', {}, h('span', { text: 'Agent' }), agentSelect),
    h('label', {}, h('span', { text: 'Status' }), statusSelect),
    h('label', {}, h('span', { text: 'Started from' }), fromInput),
    h('label', {}, h('span', { text: 'Started before' }), toInput),
    h('label', {}, h('span', { text: 'Conversation id' }), conversationInput),
    h('label', {}, h('span', { text: 'Per page' }), limitSelect),
    h('div', { class: 'filter-actions' }, h('button', { type: 'submit', text: 'Apply' }), link('/sessions', 'Clear')),
  );
  for (const control of [agentSelect, statusSelect, fromInput, toInput, limitSelect])
    control.addEventListener('change', apply);
  fill(ctx.main, h('div', { class: 'page-head' }, h('h1', { text: 'Sessions', tabindex: '-1' })), form, results);

  let page = { sessions: [], next_cursor: null };
  const renderTable = () => {
    const rows = sorted(page.sessions, sort);
    const head = sortableHeader(COLUMNS, sort, (next) => {
      sort = next;
      pushUrl(true);
      renderTable();
      results.querySelector(`th[aria-sort]:not([aria-sort="none"]) button`)?.focus();
    });
    const body = rows.map((s) =>
      h(
        'tr',
        { dataset: { sessionId: s.id, agent: s.agent_name, status: s.session_status } },
        COLUMNS.map((c) => h('td', { class: c.num ? 'num' : '', dataset: { label: c.label } }, c.cell(s))),
      ),
    );
    const pager = h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages' },
      filters.cursor
        ? link(
            `/sessions${query({ ...filters, cursor: '', sort: sort.key, dir: sort.key ? sort.dir : '' })}`,
            '← First page',
          )
        : null,
      page.next_cursor
        ? link(
            `/sessions${query({ ...filters, cursor: page.next_cursor, sort: sort.key, dir: sort.key ? sort.dir : '' })}`,
            'Next page →',
          )
        : null,
    );
    fill(
      results,
      h('p', {
        class: 'muted result-count',
        text: `${count(rows.length)} session${rows.length === 1 ? '' : 's'} on this page, newest first${sort.key ? '; sorted on this page' : ''}.`,
      }),
      rows.length === 0
        ? message('notice', 'No session matches these filters.')
        : h(
            'div',
            { class: 'table-scroll' },
            h(
              'table',
              { class: 'data sessions-table', id: 'sessions-table' },
              h('thead', {}, head),
              h('tbody', {}, body),
            ),
          ),
      pager,
    );
  };

  let loads = 0;
  const load = async () => {
    const mine = ++loads;
    delete ctx.main.dataset.ready;
    results.setAttribute('aria-busy', 'true');
    const answer = await api(`/api/sessions${query(filters)}`, { signal: ctx.signal });
    if (mine !== loads) return;
    page = answer;
    results.removeAttribute('aria-busy');
    renderTable();
    ctx.main.dataset.ready = 'sessions';
  };

  const agents = api('/api/agents', { signal: ctx.signal }).then((a) => {
    const names = [...new Set(a.agents.map((d) => d.agent_name).filter(Boolean))].sort();
    const list = filters.agent && !names.includes(filters.agent) ? [filters.agent, ...names] : names;
    fill(
      agentSelect,
      h('option', { value: '', text: 'All agents' }),
      list.map((n) => h('option', { value: n, text: n, selected: n === filters.agent })),
    );
  });
  await Promise.all([agents, load()]);
}

function sorted(sessions, sort) {
  const column = COLUMNS.find((c) => c.key === sort.key);
  if (!column) return sessions;
  const sign = sort.dir === 'asc' ? 1 : -1;
  return [...sessions].sort((a, b) => {
    const x = column.value(a);
    const y = column.value(b);
    const cmp = column.text ? String(x ?? '').localeCompare(String(y ?? '')) : (Number(x) || 0) - (Number(y) || 0);
    return sign * cmp || Date.parse(b.session_start) - Date.parse(a.session_start);
  });
}
