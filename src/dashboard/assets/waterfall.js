// The span waterfall of a session: the span tree indented, one bar per span on a shared time
// axis, kinds told apart by a text label and an icon as well as colour, errors in red with an
// "error" label. Hand-written HTML/CSS, not a chart library: no library we would serve (uPlot
// included) draws a span tree with nested, labelled, selectable bars, and rows that are real
// buttons keep it keyboard- and screen-reader-usable for free.
import { codeBlock, dl, fill, h, link } from './dom.js';
import { count, duration, kindBadge, time } from './format.js';

/** Start and end of a transcript entry in ms (sub-ms precision from `end_ns` and `duration_ms`). */
function timing(entry) {
  let end = Date.parse(entry.end);
  if (typeof entry.end_ns === 'string' && /^\d+$/.test(entry.end_ns)) end = Number(BigInt(entry.end_ns) / 1000n) / 1000;
  const start = Number.isFinite(entry.duration_ms) ? end - entry.duration_ms : Date.parse(entry.start);
  return { start: Number.isFinite(start) ? start : end, end };
}

/**
 * Orders the transcript as a tree (depth-first, children by start time). A span whose parent
 * never arrived is shown at the top level, marked; a cycle of parent ids cannot loop.
 */
export function spanTree(transcript) {
  const byId = new Map(transcript.map((e) => [e.span_id, e]));
  const children = new Map();
  const roots = [];
  for (const e of transcript) {
    if (e.parent_span_id && byId.has(e.parent_span_id) && e.parent_span_id !== e.span_id) {
      if (!children.has(e.parent_span_id)) children.set(e.parent_span_id, []);
      children.get(e.parent_span_id).push(e);
    } else roots.push(e);
  }
  const byStart = (a, b) => timing(a).start - timing(b).start || a.span_id.localeCompare(b.span_id);
  const rows = [];
  const seen = new Set();
  const visit = (e, depth) => {
    if (seen.has(e.span_id)) return;
    seen.add(e.span_id);
    rows.push({ entry: e, depth, orphan: depth === 0 && e.parent_span_id !== '' && !byId.has(e.parent_span_id) });
    for (const c of (children.get(e.span_id) ?? []).sort(byStart)) visit(c, depth + 1);
  };
  roots.sort(byStart).forEach((e) => visit(e, 0));
  transcript
    .filter((e) => !seen.has(e.span_id))
    .sort(byStart)
    .forEach((e) => visit(e, 0));
  return rows;
}

/** About five round tick values (ms) from 0 to `total`. */
function ticks(total) {
  const raw = total / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out = [];
  for (let t = 0; t <= total + 1e-9 && out.length < 12; t += step) out.push(t);
  return out;
}

/**
 * The waterfall element. `decisions`: the session's decisions (a span carrying one is drawn as a
 * decision; an event decision gets a ◆ marker at its time). `onSelect(entry, { pointer })` runs on click or
 * Enter / Space; arrow keys, Home and End move between rows.
 */
export function waterfall(transcript, decisions, { onSelect, selected }) {
  const rows = spanTree(transcript);
  if (rows.length === 0) return h('p', { class: 'muted', text: 'No spans stored for this session.' });
  const times = rows.map((r) => timing(r.entry));
  const t0 = Math.min(...times.map((t) => t.start));
  const total = Math.max(Math.max(...times.map((t) => t.end)) - t0, 0.001);
  const pct = (ms) => Math.min(100, Math.max(0, ((ms - t0) / total) * 100));
  const decisionsBySpan = new Map();
  for (const d of decisions) decisionsBySpan.set(d.span_id, [...(decisionsBySpan.get(d.span_id) ?? []), d]);

  const buttons = [];
  const select = (button, entry, pointer) => {
    for (const b of buttons) b.setAttribute('aria-pressed', String(b === button));
    onSelect(entry, { pointer });
  };
  const items = rows.map(({ entry, depth, orphan }, i) => {
    const { start, end } = times[i];
    const spanDecisions = decisionsBySpan.get(entry.span_id) ?? [];
    const kind = entry.kind === 'span' && spanDecisions.length > 0 ? 'decision' : entry.kind;
    const left = pct(start);
    const width = Math.max(pct(end) - left, 0.25);
    const label = `${kind}${entry.error ? ', error' : ''}: ${entry.name}, ${duration(entry.duration_ms)}`;
    const button = h(
      'button',
      {
        type: 'button',
        class: ['wf-row', `wf-${kind}`, entry.error && 'is-error'],
        dataset: { spanId: entry.span_id, kind, ...(entry.error ? { error: 'true' } : {}) },
        style: { '--depth': Math.min(depth, 16) },
        'aria-pressed': String(entry.span_id === selected),
        'aria-label': label,
        title: label,
      },
      h(
        'span',
        { class: 'wf-label' },
        kindBadge(kind),
        h('span', { class: 'wf-name', text: entry.name || '(unnamed span)' }),
        entry.error ? h('span', { class: 'wf-error', text: '✕ error' }) : null,
        orphan
          ? h('span', { class: 'wf-orphan', title: 'its parent span was not received', text: 'parent missing' })
          : null,
      ),
      h(
        'span',
        { class: 'wf-track' },
        h('span', { class: 'wf-bar', style: { left: `${left}%`, width: `${width}%` } }),
        h('span', {
          class: 'wf-time',
          style: { left: `calc(${left + width}% + 4px)` },
          text: duration(entry.duration_ms),
        }),
        kind === 'decision'
          ? null
          : spanDecisions.map((d) =>
              h('span', {
                class: 'wf-marker',
                style: { left: `${pct(Date.parse(d.decided_at))}%` },
                title: `decision: ${d.title}`,
                text: '◆',
              }),
            ),
      ),
    );
    // A click from Enter or Space has detail 0: keyboard users stay on the rows.
    button.addEventListener('click', (e) => select(button, entry, e.detail > 0));
    buttons.push(button);
    return h('li', {}, button);
  });

  const list = h('ol', { class: 'wf-rows', 'aria-label': 'Spans, in tree order' }, items);
  list.addEventListener('keydown', (e) => {
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    const next = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: buttons.length - 1 }[e.key];
    if (next === undefined || !buttons[next]) return;
    e.preventDefault();
    buttons[next].focus();
  });

  const axis = h(
    'div',
    { class: 'wf-axis', 'aria-hidden': 'true' },
    h('span', { class: 'wf-axis-label', text: `${count(rows.length)} spans · ${duration(total)}` }),
    h(
      'span',
      { class: 'wf-axis-track' },
      ticks(total).map((t) =>
        h('span', { class: 'wf-tick', style: { left: `${(t / total) * 100}%` }, text: t === 0 ? '0' : duration(t) }),
      ),
    ),
  );
  const legend = h(
    'ul',
    { class: 'wf-legend', 'aria-label': 'Legend' },
    ['agent', 'llm', 'tool', 'embedding', 'decision', 'span'].map((k) => h('li', {}, kindBadge(k))),
    h('li', {}, h('span', { class: 'kind kind-error', text: '✕ error' })),
  );
  return h('div', { class: 'waterfall', id: 'waterfall' }, legend, h('div', { class: 'wf-body' }, axis, list));
}

/** A key/value table of an attribute map, keys sorted. */
function attributeTable(map, label) {
  const entries = Object.entries(map ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return h('p', { class: 'muted', text: 'None.' });
  return h(
    'table',
    { class: 'data attrs', 'aria-label': label },
    h(
      'tbody',
      {},
      entries.map(([k, v]) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row', class: 'mono', text: k }),
          h('td', { class: 'mono', text: typeof v === 'string' ? v : JSON.stringify(v) }),
        ),
      ),
    ),
  );
}

/** The span's raw record (span-record.js): attributes, events, kind and scope, resource. */
function recordView(record) {
  if (!record) return h('p', { class: 'muted', text: 'The span’s raw record was not found.' });
  return [
    attributeTable(record.attributes, 'Span attributes'),
    h('p', { class: 'muted small' }, `Span kind ${record.span_kind || '—'} · scope ${record.scope || '—'}`),
    record.events.length
      ? [
          h('h4', { text: `Events (${record.events.length})` }),
          h(
            'ol',
            { class: 'events' },
            record.events.map((ev) =>
              h(
                'li',
                {},
                h('strong', { text: ev.name }),
                ' ',
                time(ev.time),
                attributeTable(ev.attributes, `Attributes of event ${ev.name}`),
              ),
            ),
          ),
        ]
      : null,
    h(
      'details',
      {},
      h('summary', { text: 'Resource attributes' }),
      attributeTable(record.resource, 'Resource attributes'),
    ),
  ];
}

/**
 * The selected span's fields, attributes, input and output. `loadRecord()` reads its raw record
 * (attributes and events) when the entry does not carry `attributes` itself.
 */
export function spanDetail(entry, decisions, { onSelectSpan, loadRecord } = {}) {
  const spanDecisions = decisions.filter((d) => d.span_id === entry.span_id);
  const kind = entry.kind === 'span' && spanDecisions.length > 0 ? 'decision' : entry.kind;
  const attrs = h(
    'div',
    { class: 'span-attrs', dataset: { state: 'loading' } },
    h('p', { class: 'muted', text: 'Loading attributes…' }),
  );
  Promise.resolve(
    entry.attributes && typeof entry.attributes === 'object'
      ? { attributes: entry.attributes, resource: {}, scope: '', span_kind: '', events: [] }
      : loadRecord?.(),
  )
    .then((record) => {
      fill(attrs, recordView(record ?? null));
      attrs.dataset.state = 'ready';
    })
    .catch((err) => {
      if (err?.name === 'AbortError') return;
      fill(attrs, h('p', { class: 'muted', text: `The attributes could not be read: ${err?.message ?? err}` }));
      attrs.dataset.state = 'error';
    });
  const parent = entry.parent_span_id
    ? onSelectSpan
      ? h('button', {
          type: 'button',
          class: 'link-button mono',
          on: { click: () => onSelectSpan(entry.parent_span_id) },
          text: entry.parent_span_id,
        })
      : h('span', { class: 'mono', text: entry.parent_span_id })
    : 'none (trace root)';
  return h(
    'div',
    { class: ['span-detail', entry.error && 'is-error'], id: 'span-detail', dataset: { spanId: entry.span_id } },
    h('h3', { tabindex: '-1' }, kindBadge(kind), ' ', entry.name || '(unnamed span)'),
    entry.error
      ? h(
          'p',
          { class: 'error-text' },
          '✕ Error',
          entry.status_message ? `: ${entry.status_message}` : ` (status ${entry.status_code || 'unset'})`,
        )
      : null,
    dl([
      ['Span id', h('span', { class: 'mono', text: entry.span_id })],
      ['Parent span', parent],
      ['Started', time(entry.start)],
      ['Ended', time(entry.end)],
      ['Duration', duration(entry.duration_ms)],
      ['Status', [entry.status_code || 'Unset', entry.status_message ? ` — ${entry.status_message}` : '']],
      entry.tool_name ? ['Tool', entry.tool_name] : null,
      entry.model ? ['Model', entry.model] : null,
      entry.input_tokens !== undefined ? ['Input tokens', count(entry.input_tokens)] : null,
      entry.output_tokens !== undefined ? ['Output tokens', count(entry.output_tokens)] : null,
    ]),
    spanDecisions.length
      ? h(
          'div',
          {},
          h('h4', { text: 'Decisions' }),
          h(
            'ul',
            {},
            spanDecisions.map((d) => h('li', {}, link(`/decisions/${d.id}`, d.title || d.id))),
          ),
        )
      : null,
    h('h4', { text: 'Input' }),
    codeBlock(entry.input, 'Input'),
    h('h4', { text: 'Output' }),
    codeBlock(entry.output, 'Output'),
    h('h4', { text: 'Attributes' }),
    attrs,
  );
}
