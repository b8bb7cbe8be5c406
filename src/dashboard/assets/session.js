// Session page (`/sessions/:id`): the derived fields, the agent definition, the decisions and
// the span waterfall; selecting a span shows its attributes, input and output.
import { api, query } from './api.js';
import { dl, fill, h, link, message, section } from './dom.js';
import { agentLabel, count, duration, money, statusBadge, time } from './format.js';
import { readSpanRecord } from './span-record.js';
import { spanDetail, waterfall } from './waterfall.js';

/** `abc…` with dashes or without, any case → the lowercase UUID form, or null. */
export function normaliseId(text) {
  const hex = String(text)
    .trim()
    .toLowerCase()
    .replace(/^urn:uuid:/, '')
    .replace(/[{}\s-]/g, '');
  if (!/^[0-9a-f]{32}$/.test(hex)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Renders one session into `ctx.main`. */
export async function sessionPage(ctx) {
  const id = normaliseId(ctx.params[0]) ?? ctx.params[0];
  if (id !== ctx.params[0]) ctx.redirect(`/sessions/${id}${location.search}`);
  ctx.setTitle(`Session ${id.slice(0, 8)}`);
  const data = await api(`/api/sessions/${encodeURIComponent(id)}`, { signal: ctx.signal });
  const { session: s, agent_definition: def, decisions, transcript } = data;
  ctx.setTitle(`${s.agent_name || 'unknown agent'} · session ${s.id.slice(0, 8)}`);

  const records = new Map();
  const record = (entry) => {
    if (!records.has(entry.span_id)) {
      const reading = readSpanRecord(s.trace_id, entry, ctx.signal).catch((err) => {
        records.delete(entry.span_id); // selecting the span again tries again
        throw err;
      });
      records.set(entry.span_id, reading);
    }
    return records.get(entry.span_id);
  };
  const detail = h(
    'aside',
    { class: 'panel wf-detail', 'aria-label': 'Selected span' },
    h('p', {
      class: 'muted',
      text: 'Select a span (click it, or Tab to it and press Enter) to see its attributes, input and output.',
    }),
  );
  const showSpan = (spanId, focus) => {
    const entry = transcript.find((e) => e.span_id === spanId);
    if (!entry) return;
    fill(
      detail,
      spanDetail(entry, decisions, {
        onSelectSpan: (parentId) => selectSpan(parentId, true),
        loadRecord: () => record(entry),
      }),
    );
    if (focus) detail.querySelector('h3')?.focus();
  };
  const selectSpan = (spanId, focusDetail = false) => {
    for (const b of chart.querySelectorAll('.wf-row'))
      b.setAttribute('aria-pressed', String(b.dataset.spanId === spanId));
    ctx.pushQuery({ span: spanId }, { replace: true });
    showSpan(spanId, focusDetail);
  };
  // On a narrow screen the detail is below the waterfall: a tap brings it into view.
  const onSelect = (entry, { pointer }) => {
    selectSpan(entry.span_id);
    if (pointer && matchMedia('(max-width: 900px)').matches) detail.scrollIntoView({ block: 'start' });
  };
  const chosen = ctx.query.get('span');
  const chart = waterfall(transcript, decisions, { selected: chosen, onSelect });
  if (chosen) showSpan(chosen, false);

  const tokens = [
    `${count(s.input_tokens)} in`,
    `${count(s.output_tokens)} out`,
    s.cache_read_tokens ? `${count(s.cache_read_tokens)} cache read` : '',
    s.cache_write_tokens ? `${count(s.cache_write_tokens)} cache write` : '',
    s.reasoning_tokens ? `${count(s.reasoning_tokens)} reasoning` : '',
  ].filter(Boolean);

  fill(
    ctx.main,
    h(
      'nav',
      { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      link('/sessions', 'Sessions'),
      ' › ',
      h('span', { class: 'mono', text: s.id }),
    ),
    h(
      'div',
      { class: 'page-head' },
      h('h1', { tabindex: '-1' }, agentLabel(s.agent_name), ' ', h('span', { class: 'h-sub', text: 'session' })),
      statusBadge(s.session_status),
    ),
    h(
      'p',
      { class: 'muted' },
      time(s.session_start),
      s.session_end ? [' → ', time(s.session_end)] : ' (no end: root span not received)',
    ),
    h(
      'div',
      { class: 'tiles' },
      miniTile('Cost', [
        money(s.cost),
        s.unpriced_models?.length ? h('span', { class: 'sub', text: ' + unpriced' }) : null,
      ]),
      miniTile('Tokens', count(s.tokens_used)),
      miniTile('Turns', count(s.turns)),
      miniTile('Duration', duration(s.duration_ms)),
      miniTile('Tool calls', count(s.tool_call_count)),
      miniTile('Errors', h('span', { class: s.error_count > 0 ? 'error-count' : '', text: count(s.error_count) })),
    ),
    section('Span waterfall', h('div', { class: 'wf-layout' }, chart, detail)),
    h(
      'div',
      { class: 'two-col' },
      section(
        'Session',
        dl([
          ['Id', h('span', { class: 'mono', text: s.id })],
          ['Trace id', h('span', { class: 'mono', text: s.trace_id })],
          ['Title', s.title],
          ['Input', s.description ? h('span', { class: 'prose', text: s.description }) : ''],
          ['Output', s.output_summary ? h('span', { class: 'prose', text: s.output_summary }) : ''],
          ['Tokens', tokens.join(' · ')],
          ['Models', (s.models ?? []).join(', ')],
          s.unpriced_models?.length ? ['Not priced', s.unpriced_models.join(', ')] : null,
          ['Tools', (s.tools_invoked ?? []).join(', ')],
          ['LLM calls', count(s.llm_call_count)],
          ['Spans', count(s.span_count)],
          ['Service', s.service_name],
          ['Environment', s.environment],
          [
            'Conversation',
            s.conversation_id
              ? link(`/sessions${query({ conversation_id: s.conversation_id })}`, s.conversation_id)
              : '',
          ],
          ['User', s.user_id],
          ['Tags', (s.tags ?? []).join(', ')],
          ['Last span', time(s.last_span_at)],
        ]),
      ),
      h(
        'div',
        {},
        section(
          'Agent definition',
          def
            ? dl([
                [
                  'Agent',
                  def.agent_name
                    ? link(`/sessions${query({ agent: def.agent_name })}`, def.agent_name)
                    : agentLabel(''),
                ],
                ['Version', def.version],
                ['Key', h('span', { class: 'mono', text: def.agent_key })],
                ['Service', def.service_name],
                ['Description', def.description],
                ['First seen', time(def.first_seen)],
                ['Last seen', time(def.last_seen)],
                ['Id', h('span', { class: 'mono', text: def.id })],
              ])
            : h('p', { class: 'muted', text: 'No agent definition: the session has no agent span (yet).' }),
        ),
        section(
          `Decisions (${decisions.length})`,
          decisions.length
            ? h(
                'ul',
                { class: 'decision-list' },
                decisions.map((d) =>
                  h(
                    'li',
                    {},
                    link(`/decisions/${d.id}`, d.title || d.id),
                    ' ',
                    statusBadge(d.status),
                    ' ',
                    time(d.decided_at),
                  ),
                ),
              )
            : h('p', { class: 'muted', text: 'This session made no decision.' }),
        ),
      ),
    ),
    transcript.length === 0 ? message('notice', 'No spans of this session are stored.') : null,
  );
  ctx.main.dataset.ready = 'session';
}

function miniTile(label, value) {
  return h(
    'div',
    { class: 'tile' },
    h('div', { class: 'tile-label', text: label }),
    h('div', { class: 'tile-value' }, value),
  );
}
