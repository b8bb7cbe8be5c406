// Decision page (`/decisions/:id`): the decision with its context, rationale and consequences,
// the session that made it and its agent definition, and the evidence in order (the session's
// tool and LLM calls that ended before it, SPEC §5). Laid out to print (style.css @media print).
import { api } from './api.js';
import { codeBlock, dl, fill, h, link, section } from './dom.js';
import { agentLabel, count, duration, kindBadge, money, statusBadge, time } from './format.js';
import { normaliseId } from './session.js';

/** Renders one decision into `ctx.main`. */
export async function decisionPage(ctx) {
  const id = normaliseId(ctx.params[0]) ?? ctx.params[0];
  if (id !== ctx.params[0]) ctx.redirect(`/decisions/${id}`);
  ctx.setTitle(`Decision ${id.slice(0, 8)}`);
  const {
    decision: d,
    session: s,
    agent_definition: def,
    evidence,
  } = await api(`/api/decisions/${encodeURIComponent(id)}`, { signal: ctx.signal });
  ctx.setTitle(`${d.title || 'Decision'} · decision`);

  const prose = (text) => (text ? h('p', { class: 'prose', text }) : h('p', { class: 'muted', text: 'Not recorded.' }));
  fill(
    ctx.main,
    h(
      'nav',
      { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      s ? [link(`/sessions/${s.id}`, `${s.agent_name || 'unknown agent'} session`), ' › '] : null,
      'Decision ',
      h('span', { class: 'mono', text: d.id }),
    ),
    h(
      'div',
      { class: 'page-head' },
      h('h1', { tabindex: '-1', text: d.title || '(untitled decision)' }),
      statusBadge(d.status),
      h('button', { type: 'button', class: 'print-button', on: { click: () => window.print() }, text: 'Print' }),
    ),
    h('p', { class: 'muted' }, 'Decided ', time(d.decided_at), d.tags?.length ? ` · tags: ${d.tags.join(', ')}` : ''),
    d.description ? h('p', { class: 'prose lead', text: d.description }) : null,
    h(
      'div',
      { class: 'decision-body' },
      section('Context', prose(d.context)),
      section('Rationale', prose(d.rationale)),
      section('Consequences', prose(d.consequences)),
    ),
    h(
      'div',
      { class: 'two-col' },
      section(
        'Made in session',
        s
          ? dl([
              ['Session', link(`/sessions/${s.id}`, s.title || s.id)],
              ['Status', statusBadge(s.session_status)],
              ['Started', time(s.session_start)],
              ['Cost', money(s.cost)],
              ['Tokens', count(s.tokens_used)],
              ['Trace id', h('span', { class: 'mono', text: s.trace_id })],
              ['Span id', h('span', { class: 'mono', text: d.span_id })],
            ])
          : h(
              'p',
              { class: 'muted' },
              'The session (trace ',
              h('span', { class: 'mono', text: d.trace_id }),
              ') is not stored.',
            ),
      ),
      section(
        'Agent definition',
        def
          ? dl([
              ['Agent', agentLabel(def.agent_name)],
              ['Version', def.version],
              ['Key', h('span', { class: 'mono', text: def.agent_key })],
              ['Service', def.service_name],
              ['Id', h('span', { class: 'mono', text: def.id })],
            ])
          : h('p', { class: 'muted', text: 'No agent definition recorded for this session.' }),
      ),
    ),
    section(
      `Evidence (${evidence.length})`,
      h('p', {
        class: 'muted',
        text: 'The tool and LLM calls of the session that ended before the decision, in order.',
      }),
      evidence.length === 0
        ? h('p', { class: 'muted', text: 'No tool or LLM call ended before this decision.' })
        : h(
            'ol',
            { class: 'evidence', id: 'evidence' },
            evidence.map((e) =>
              h(
                'li',
                { class: ['evidence-item', e.error && 'is-error'], dataset: { spanId: e.span_id, kind: e.kind } },
                h(
                  'div',
                  { class: 'evidence-head' },
                  kindBadge(e.kind),
                  h('strong', { text: e.tool_name || e.name }),
                  e.model ? h('span', { class: 'muted', text: e.model }) : null,
                  e.error
                    ? h('span', {
                        class: 'wf-error',
                        text: `✕ error${e.status_message ? `: ${e.status_message}` : ''}`,
                      })
                    : null,
                  e.input_tokens !== undefined
                    ? h('span', {
                        class: 'muted',
                        text: `${count(e.input_tokens)} in · ${count(e.output_tokens)} out tokens`,
                      })
                    : null,
                  h('span', { class: 'evidence-time' }, 'ended ', time(e.end), ' · ', duration(e.duration_ms)),
                ),
                h(
                  'div',
                  { class: 'evidence-io' },
                  h('div', {}, h('h4', { text: 'Input' }), codeBlock(e.input, `Input of ${e.name}`)),
                  h('div', {}, h('h4', { text: 'Output' }), codeBlock(e.output, `Output of ${e.name}`)),
                ),
              ),
            ),
          ),
    ),
  );
  ctx.main.dataset.ready = 'decision';
}
