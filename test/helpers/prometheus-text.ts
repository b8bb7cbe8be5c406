/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests: every sample line
 * must parse, belong to a family announced by `# HELP` and `# TYPE` before it, appear once, and a
 * histogram's buckets must be cumulative with `le="+Inf"` equal to its `_count`. Written here
 * because the npm parser tried (parse-prometheus-text-format 1.1.1) drops the labels, `_sum` and
 * `_count` of labelled histograms, and the reference checker (promtool) comes with a 96 MB server.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\s*(,|$)/y;

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text);
    if (!m?.[1]) throw new Error(`bad labels in: ${line}`);
    if (m[1] in labels) throw new Error(`label ${m[1]} twice in: ${line}`);
    labels[m[1]] = (m[2] ?? '').replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    if (m[3] === '') break;
  }
  return labels;
}

/** A value as Prometheus reads it (Go's ParseFloat: NaN and Inf in any case). */
function parseValue(text: string, line: string): number {
  if (/^[+-]?inf(inity)?$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  const n = Number(text);
  if (text === '' || Number.isNaN(n)) throw new Error(`bad value in: ${line}`);
  return n;
}

/** Families by name; throws saying which line breaks the format. */
export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const familyOf = (sample: string): Family | undefined =>
    families.get(sample) ?? families.get(sample.replace(/_(bucket|sum|count|total|created)$/, ''));
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      const family = families.get(name) ?? { name, help: '', type: 'untyped' as const, samples: [] };
      if (kind === 'HELP') family.help = rest;
      else if (/^(counter|gauge|histogram|summary|untyped)$/.test(rest)) family.type = rest as Family['type'];
      else throw new Error(`bad type in: ${line}`);
      families.set(name, family);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m?.[1]) throw new Error(`not a sample line: ${line}`);
    const family = familyOf(m[1]);
    if (!family || family.help === '' || family.type === 'untyped')
      throw new Error(`sample before its # HELP and # TYPE: ${line}`);
    const labels = parseLabels(m[2] ?? '', line);
    const key = `${m[1]}{${Object.entries(labels)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}}`;
    if (seen.has(key)) throw new Error(`series twice: ${line}`);
    seen.add(key);
    family.samples.push({ name: m[1], labels, value: parseValue(m[3] ?? '', line) });
  }
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function checkHistogram(family: Family): void {
  const bySeries = new Map<string, Sample[]>();
  for (const s of family.samples) {
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    bySeries.set(key, [...(bySeries.get(key) ?? []), s]);
  }
  for (const samples of bySeries.values()) {
    const buckets = samples
      .filter((s) => s.name === `${family.name}_bucket`)
      .sort((a, b) => parseValue(a.labels.le ?? '', '') - parseValue(b.labels.le ?? '', ''));
    const count = samples.find((s) => s.name === `${family.name}_count`);
    if (!count || !samples.some((s) => s.name === `${family.name}_sum`))
      throw new Error(`${family.name}: a series without _sum or _count`);
    if (buckets.at(-1)?.labels.le !== '+Inf' || buckets.at(-1)?.value !== count.value)
      throw new Error(`${family.name}: le="+Inf" bucket differs from _count`);
    for (let i = 1; i < buckets.length; i++)
      if ((buckets[i]?.value ?? 0) < (buckets[i - 1]?.value ?? 0))
        throw new Error(`${family.name}: buckets not cumulative`);
  }
}

/** The count and sum of the histogram series whose labels include `labels` (0 when absent). */
export function histogramSeries(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string>,
): { count: number; sum: number } {
  const matches = (s: Sample): boolean => Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  const samples = families.get(name)?.samples.filter(matches) ?? [];
  return {
    count: samples.filter((s) => s.name === `${name}_count`).reduce((n, s) => n + s.value, 0),
    sum: samples.filter((s) => s.name === `${name}_sum`).reduce((n, s) => n + s.value, 0),
  };
}
