// DOM building without markup strings: every value reaches the page as a text node or an
// attribute value, never as HTML, because span attributes and model outputs are written by
// whoever sends traces (the collector's clients), not by us.

/**
 * Creates an element. `props`: `class`, `text`, `dataset` (object), `style` (CSS custom
 * properties and plain properties, set through the CSSOM), `on` (event → handler), `hidden`,
 * and any other key as an attribute (`null`/`false` skips it, `true` sets it empty).
 * Children: nodes, strings (text), numbers, arrays; `null`/`false`/`undefined` are skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
    else if (key === 'style') {
      for (const [k, v] of Object.entries(value)) {
        if (k.startsWith('--')) el.style.setProperty(k, String(v));
        else el.style[k] = v;
      }
    } else if (key === 'on') for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    else if (key === 'hidden') el.hidden = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** Appends children (see `h`) to `el`. */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces `el`'s children (see `h`; unlike `replaceChildren`, null is skipped, not shown as "null"). */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A same-origin link the router handles (a real href: middle-click, copy and open-in-tab work). */
export function link(href, ...children) {
  return h('a', { href }, ...children);
}

/** A `{ label: value }` description list; falsy values show an em dash. */
export function dl(entries, className = 'fields') {
  return h(
    'dl',
    { class: className },
    entries
      .filter(Boolean)
      .map(([label, value]) =>
        h(
          'div',
          {},
          h('dt', { text: label }),
          h('dd', {}, value === '' || value === null || value === undefined ? '—' : value),
        ),
      ),
  );
}

/** A section with a heading. */
export function section(title, ...children) {
  return h('section', { class: 'panel' }, h('h2', { text: title }), ...children);
}

/** A block of monospace text: pretty-printed when it is JSON, as is otherwise. */
export function codeBlock(text, label) {
  let shown = text ?? '';
  if (/^\s*[[{]/.test(shown)) {
    try {
      shown = JSON.stringify(JSON.parse(shown), null, 2);
    } catch {
      // Not JSON after all: shown as sent.
    }
  }
  return h(
    'pre',
    { class: 'code', tabindex: '0', 'aria-label': label },
    shown === '' ? h('span', { class: 'muted', text: '(empty)' }) : shown,
  );
}

/** A message box (error, notice) with `role` alert or status. */
export function message(kind, ...children) {
  return h('div', { class: `message message-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}

/**
 * The header row of a sortable table: each column a button (keyboard-reachable) that sorts by it
 * — again to reverse — with `aria-sort` on the active column. `onSort(next)` gets the new
 * `{ key, dir }`; text columns start ascending, numbers descending.
 */
export function sortableHeader(columns, sort, onSort) {
  return h(
    'tr',
    {},
    columns.map((c) => {
      const active = c.key === sort.key;
      return h(
        'th',
        {
          scope: 'col',
          class: c.num ? 'num' : '',
          'aria-sort': active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none',
        },
        h(
          'button',
          {
            type: 'button',
            class: 'sort',
            on: {
              click: () =>
                onSort(
                  active
                    ? { key: c.key, dir: sort.dir === 'asc' ? 'desc' : 'asc' }
                    : { key: c.key, dir: c.text ? 'asc' : 'desc' },
                ),
            },
          },
          c.label,
          h('span', {
            class: 'sort-mark',
            'aria-hidden': 'true',
            text: active ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ' ↕',
          }),
        ),
      );
    }),
  );
}
