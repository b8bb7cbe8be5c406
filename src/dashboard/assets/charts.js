// Time-series charts with uPlot (served from the package's node_modules, see
// collector/routes/dashboard.ts): small, fast, canvas-drawn, no dependencies. Each chart
// also carries its numbers as a table (for screen readers, keyboards and copy-paste) and as
// `data-points` (how many buckets the API reported), which the browser test reads.
import { h } from './dom.js';

const STEP_MS = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000 };
const MONDAY = Date.UTC(1970, 0, 5);
/** Tick steps of a value axis that counts things: 1, 2, 5, 10, 20, 50… */
const WHOLE_STEPS = Array.from({ length: 36 }, (_, i) => [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3));

/** Series colours, distinguishable for the common colour-vision deficiencies (Okabe–Ito). */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
/** Session status colours, matching the badges in style.css. */
export const STATUS_COLOURS = { completed: '#009E73', failed: '#C62828', abandoned: '#E69F00', active: '#0072B2' };

/**
 * Bucket start times (ms) from `fromMs` to `toMs`, plus any time the API reported off that grid.
 * The API leaves out empty buckets; the chart puts them back (as zero for counts, as gaps for rates).
 */
export function bucketTimes(fromMs, toMs, bucket, reported) {
  const step = STEP_MS[bucket] ?? STEP_MS.day;
  const first = reported.length > 0 ? Math.min(...reported) : undefined;
  // Align to the API's own buckets when it reported one (its weeks may start on any day).
  const anchor = first ?? (bucket === 'week' ? MONDAY : 0);
  const start = anchor + Math.floor((fromMs - anchor) / step) * step;
  const times = new Set(reported);
  for (let t = start, n = 0; t < toMs && n < 5000; t += step, n++) times.add(t);
  return [...times].sort((a, b) => a - b);
}

/** One series' values on `times`: missing buckets are `fill` (0 or null). */
export function valuesOn(times, points, fill) {
  const byTime = new Map(points.map((p) => [Date.parse(p.time), p.value]));
  return times.map((t) => (byTime.has(t) ? byTime.get(t) : fill));
}

/**
 * A chart figure. `series`: [{ label, points, colour }] from one trends answer; `kind`: 'count'
 * (missing bucket = 0) or 'rate' (missing = gap); `format` renders a value; `integer` keeps the
 * value axis on whole numbers; `emptyText` says why there is nothing to draw. Returns the figure;
 * call `mount()` on it once it is in the document (uPlot measures its container).
 */
export function trendChart({
  title,
  caption,
  trend,
  series,
  kind,
  format,
  axisFormat,
  id,
  integer = false,
  emptyText = 'No data in this range.',
}) {
  const fromMs = Date.parse(trend.from);
  const toMs = Date.parse(trend.to);
  const reported = series.flatMap((s) => s.points.map((p) => Date.parse(p.time)));
  const times = bucketTimes(fromMs, toMs, trend.bucket, reported);
  const fill = kind === 'rate' ? null : 0;
  const columns = series.map((s) => valuesOn(times, s.points, fill));
  const pointCount = series.reduce(
    (n, s) => n + s.points.filter((p) => p.value !== null && p.value !== undefined).length,
    0,
  );

  const plot = h('div', { class: 'chart-plot' });
  const empty = pointCount === 0 ? h('p', { class: 'chart-empty', text: emptyText }) : null;
  const figure = h(
    'figure',
    { class: 'chart', id, dataset: { points: pointCount, series: series.length, metric: trend.metric } },
    h(
      'figcaption',
      {},
      h('span', { class: 'chart-title', text: title }),
      caption ? h('span', { class: 'chart-caption', text: caption }) : null,
    ),
    empty ?? plot,
    pointCount > 0 ? dataTable(title, times, series, columns, format, trend.bucket) : null,
  );

  figure.mount = () => {
    if (pointCount === 0 || !globalThis.uPlot) return undefined;
    const uPlot = globalThis.uPlot;
    const utc = trend.bucket !== 'hour';
    const opts = {
      width: Math.max(plot.clientWidth, 200),
      height: 200,
      // Day and week buckets are UTC days: label them as such; hours in local time.
      tzDate: utc ? (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC') : (ts) => new Date(ts * 1000),
      scales: { x: { time: true }, y: { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      legend: { show: series.length > 1 },
      cursor: { drag: { x: false, y: false } },
      series: [
        {
          value: (u, v) =>
            v === null
              ? '—'
              : new Date(v * 1000).toLocaleString(
                  undefined,
                  utc ? { timeZone: 'UTC', dateStyle: 'medium' } : { dateStyle: 'medium', timeStyle: 'short' },
                ),
        },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.colour,
          width: 2,
          fill: series.length === 1 && kind !== 'rate' ? `${s.colour}22` : undefined,
          spanGaps: false,
          points: { show: kind === 'rate' || times.length <= 45, size: 5 },
          value: (u, v) => (v === null || v === undefined ? '—' : format(v)),
        })),
      ],
      axes: [
        {},
        {
          size: 64,
          values: (u, splits) => splits.map((v) => (axisFormat ?? format)(v)),
          ...(integer ? { incrs: WHOLE_STEPS } : {}),
        },
      ],
    };
    const chart = new uPlot(opts, [times.map((t) => t / 1000), ...columns], plot);
    let frame = 0;
    const resize = new ResizeObserver(() => {
      // Resized on the next frame, outside the observer's callback: no layout loop.
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        const width = Math.max(plot.clientWidth, 200);
        if (width !== chart.width) chart.setSize({ width, height: 200 });
      });
    });
    resize.observe(plot);
    return () => {
      resize.disconnect();
      cancelAnimationFrame(frame);
      chart.destroy();
    };
  };
  return figure;
}

function dataTable(title, times, series, columns, format, bucket) {
  const rows = times
    .map((t, i) => ({ t, values: columns.map((c) => c[i]) }))
    .filter((r) => r.values.some((v) => v !== null && v !== 0));
  const when = (t) =>
    new Date(t).toLocaleString(
      undefined,
      bucket === 'hour' ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium', timeZone: 'UTC' },
    );
  return h(
    'details',
    { class: 'chart-table' },
    h('summary', {}, 'Table', h('span', { class: 'visually-hidden', text: ` of ${title}` })),
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {
              scope: 'col',
              text: bucket === 'hour' ? 'Hour' : bucket === 'week' ? 'Week (UTC)' : 'Day (UTC)',
            }),
            series.map((s) => h('th', { scope: 'col', text: s.label })),
          ),
        ),
        h(
          'tbody',
          {},
          rows.map((r) =>
            h(
              'tr',
              {},
              h(
                'th',
                { scope: 'row' },
                h('time', {
                  datetime: new Date(r.t).toISOString(),
                  title: new Date(r.t).toISOString(),
                  text: when(r.t),
                }),
              ),
              r.values.map((v) => h('td', { class: 'num', text: v === null ? '—' : format(v) })),
            ),
          ),
        ),
      ),
    ),
  );
}
