// How figures are shown: money with enough digits for a fraction of a cent, counts with
// thousands separators, times in the browser's local time with the ISO value in a tooltip.
import { h } from './dom.js';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** `$0.0123`, `$0.000042`, `$12.35`; null (unpriced) is an em dash. */
export function money(value) {
  if (value === null || value === undefined || !Number.isFinite(Number(value))) return '—';
  const v = Number(value);
  if (v === 0) return '$0.00';
  const abs = Math.abs(v);
  if (abs >= 1)
    return `${v < 0 ? '-' : ''}$${abs.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  // Three significant digits for small amounts, at least two decimals, trailing zeros dropped.
  const digits = Math.min(9, Math.max(2, Math.ceil(-Math.log10(abs)) + 2));
  let text = abs.toFixed(digits).replace(/0+$/, '');
  if (/\.\d$/.test(text)) text += '0';
  if (text.endsWith('.')) text += '00';
  return `${v < 0 ? '-' : ''}$${text}`;
}

/** `12,345`; null is an em dash. */
export function count(value) {
  if (value === null || value === undefined || !Number.isFinite(Number(value))) return '—';
  return integer.format(Number(value));
}

/** A ratio (0–1) as `12.5%`. */
export function percent(ratio) {
  if (ratio === null || ratio === undefined || !Number.isFinite(Number(ratio))) return '—';
  const p = Number(ratio) * 100;
  return `${p === 0 || p >= 10 ? p.toFixed(0) : p.toFixed(1)}%`;
}

/** `340 ms`, `2.4 s`, `3 min 5 s`, `2 h 4 min`. */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return '—';
  const v = Number(ms);
  if (v === 0) return '0 ms';
  if (v < 1) return `${v.toFixed(2)} ms`;
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`;
  if (v < 3_600_000) return `${Math.floor(v / 60_000)} min ${Math.round((v % 60_000) / 1000)} s`;
  return `${Math.floor(v / 3_600_000)} h ${Math.round((v % 3_600_000) / 60_000)} min`;
}

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** A `<time>` in local time, its ISO value in `datetime` and `title`. */
export function time(iso) {
  if (!iso) return h('span', { class: 'muted', text: '—' });
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return h('span', { text: String(iso) });
  return h('time', { datetime: iso, title: iso, text: dateTime.format(d) });
}

/** A status badge: its word is always shown (colour is a second cue, never the only one). */
export function statusBadge(status) {
  const s = String(status || 'unknown');
  const icon =
    { completed: '✓', failed: '✕', abandoned: '⊘', active: '●', proposed: '○', accepted: '✓', rejected: '✕' }[s] ?? '•';
  return h(
    'span',
    { class: ['badge', `status-${/^[a-z_-]+$/.test(s) ? s : 'other'}`] },
    h('span', { 'aria-hidden': 'true', text: `${icon} ` }),
    s,
  );
}

/** The agent's name, or a marked "unknown agent". */
export function agentLabel(name) {
  return name ? name : h('span', { class: 'muted', text: 'unknown agent' });
}

/** What a span is, as text and icon: the waterfall and the evidence list use the same words. */
export const KINDS = {
  agent: { label: 'Agent', icon: '▣' },
  llm: { label: 'LLM', icon: '✦' },
  embedding: { label: 'Embed', icon: '≋' },
  tool: { label: 'Tool', icon: '⚙' },
  decision: { label: 'Decision', icon: '◆' },
  span: { label: 'Span', icon: '·' },
};

/** A kind badge: icon and word, coloured by kind. */
export function kindBadge(kind) {
  const k = KINDS[kind] ? kind : 'span';
  return h(
    'span',
    { class: ['kind', `kind-${k}`] },
    h('span', { 'aria-hidden': 'true', text: `${KINDS[k].icon} ` }),
    KINDS[k].label,
  );
}
