/**
 * Cost, token, session and error trends (`GET /api/trends`, `sessiongraph trends`): sessions by
 * time bucket of their start, optionally split by agent, model, service, status or environment.
 * Read from `agent_sessions FINAL`, so a session rewritten by late or duplicated spans counts once,
 * with the figures of its latest roll-up (which already counts each span once and never an
 * aggregate span on top of its children). By model, figures come from each session's
 * `model_usage` (its LLM calls, priced exactly as the session is), since one session may use
 * several models. A model nobody prices is reported in `unpriced_models`, never counted as $0.
 */
import { BadDataError } from '../errors.ts';
import { isUuid } from '../mapping/ids.ts';
import type { Storage } from '../storage/storage.ts';
import { parseIsoTime } from './graph-queries.ts';

export const TREND_METRICS = ['cost', 'tokens', 'sessions', 'errors', 'error_rate', 'p95_duration'] as const;
export const TREND_BUCKETS = ['hour', 'day', 'week'] as const;
export const TREND_GROUPS = ['agent', 'model', 'service', 'status', 'environment'] as const;
export type TrendMetric = (typeof TREND_METRICS)[number];
export type TrendBucket = (typeof TREND_BUCKETS)[number];
export type TrendGroup = (typeof TREND_GROUPS)[number];

/** Query-string parameters of `GET /api/trends`, as received. */
export interface TrendParams {
  metric?: string;
  bucket?: string;
  group_by?: string;
  from?: string;
  to?: string;
  agent?: string;
  model?: string;
}

export interface TrendPoint {
  /** Start of the bucket (UTC, ISO 8601). */
  time: string;
  /** null when nothing is known: only unpriced models (cost), no ended session (p95_duration), no call (error_rate by model). */
  value: number | null;
  unpriced_models: string[];
}

export interface TrendSeries {
  group: string;
  points: TrendPoint[];
  /** The metric over the whole range (not a sum of points for error_rate and p95_duration). */
  total: number | null;
}

export interface Trends {
  metric: TrendMetric;
  bucket: TrendBucket;
  group_by: TrendGroup | null;
  from: string;
  to: string;
  /** Ordered by total, largest first. Buckets without sessions are absent. */
  series: TrendSeries[];
  unpriced_models: string[];
}

const BUCKET_SECONDS: Record<TrendBucket, number> = { hour: 3600, day: 86_400, week: 7 * 86_400 };
/** Default range, ending now: 7 days of hours, 30 days, 26 weeks. */
const DEFAULT_BUCKETS: Record<TrendBucket, number> = { hour: 7 * 24, day: 30, week: 26 };
/** More buckets than this in one answer is a mistake (a year of hours): refused with a hint. */
const MAX_BUCKETS = 2000;

// Bucket starts in UTC (session_start is a UTC DateTime64); weeks start on Monday (ISO 8601).
const BUCKET_SQL: Record<TrendBucket, string> = {
  hour: 'toUnixTimestamp(toStartOfHour(session_start))',
  day: 'toUnixTimestamp(toStartOfDay(session_start))',
  week: "toUnixTimestamp(toDateTime(toMonday(session_start), 'UTC'))",
};

const GROUP_SQL: Record<TrendGroup, string> = {
  agent: "if(agent_name = '', 'unknown agent', agent_name)",
  model: 'u.model',
  service: 'service_name',
  status: 'session_status',
  environment: "if(environment = '', '(none)', environment)",
};

/**
 * value and unpriced models per metric: over sessions, or over (session, model) rows when split
 * or filtered by model. error_rate is failed sessions per session; by model, failed calls per call.
 */
const METRIC_SQL: Record<'session' | 'model', Record<TrendMetric, [value: string, unpriced: string]>> = {
  session: {
    cost: [
      'if(sum(cost) = 0 AND notEmpty(groupUniqArrayArray(unpriced_models)), NULL, toFloat64(sum(cost)))',
      'arraySort(groupUniqArrayArray(unpriced_models))',
    ],
    tokens: ['toFloat64(sum(tokens_used))', '[]'],
    sessions: ['toFloat64(count())', '[]'],
    errors: ['toFloat64(sum(error_count))', '[]'],
    error_rate: ["countIf(session_status = 'failed') / count()", '[]'],
    p95_duration: ['quantileExact(0.95)(duration_ms)', '[]'],
  },
  model: {
    cost: [
      'if(countIf(u.priced = 1) = 0, NULL, toFloat64(sumIf(u.cost, u.priced = 1)))',
      'arraySort(groupUniqArrayIf(u.model, u.priced = 0))',
    ],
    tokens: ['toFloat64(sum(u.tokens))', '[]'],
    sessions: ['toFloat64(count())', '[]'],
    errors: ['toFloat64(sum(u.errors))', '[]'],
    error_rate: ['sum(u.errors) / nullIf(sum(u.calls), 0)', '[]'],
    p95_duration: ['quantileExact(0.95)(duration_ms)', '[]'],
  },
};

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback?: T): T {
  if (value === undefined || value === '') {
    if (fallback !== undefined) return fallback;
    throw new BadDataError(`${name} is required: one of ${allowed.join(', ')}`);
  }
  if (!allowed.includes(value as T))
    throw new BadDataError(`${name} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`);
  return value as T;
}

function timeParam(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = parseIsoTime(value);
  if (ms === undefined)
    throw new BadDataError(
      `${name} must be an ISO 8601 time between 1900 and 2262, such as 2026-11-24T00:00:00Z; got ${JSON.stringify(value)}`,
    );
  return ms;
}

/** Reads the trend the parameters ask for; throws BadDataError naming the bad parameter. */
export async function readTrends(storage: Storage, params: TrendParams, nowMs = Date.now()): Promise<Trends> {
  const metric = oneOf('metric', params.metric, TREND_METRICS);
  const bucket = oneOf('bucket', params.bucket, TREND_BUCKETS, 'day');
  const groupBy =
    params.group_by === undefined || params.group_by === '' ? null : oneOf('group_by', params.group_by, TREND_GROUPS);
  const toMs = timeParam('to', params.to) ?? nowMs;
  const fromMs = timeParam('from', params.from) ?? toMs - DEFAULT_BUCKETS[bucket] * BUCKET_SECONDS[bucket] * 1000;
  if (fromMs >= toMs) throw new BadDataError('from must be before to');
  const buckets = Math.ceil((toMs - fromMs) / 1000 / BUCKET_SECONDS[bucket]);
  if (buckets > MAX_BUCKETS)
    throw new BadDataError(
      `${buckets} ${bucket} buckets is more than ${MAX_BUCKETS}: choose a larger bucket or a shorter range`,
    );

  const byModel = groupBy === 'model' || Boolean(params.model);
  const where = [
    'toUnixTimestamp64Nano(session_start) >= {from:Int64}',
    'toUnixTimestamp64Nano(session_start) < {to:Int64}',
  ];
  const query: Record<string, unknown> = {
    from: (BigInt(fromMs) * 1_000_000n).toString(),
    to: (BigInt(toMs) * 1_000_000n).toString(),
  };
  if (params.agent) {
    query.agent = params.agent;
    where.push(isUuid(params.agent) ? 'agent_definition_id = {agent:UUID}' : 'agent_name = {agent:String}');
  }
  if (params.model) {
    query.model = params.model;
    where.push('u.model = {model:String}');
  }
  const [value, unpriced] = METRIC_SQL[byModel ? 'model' : 'session'][metric];
  const group = groupBy ? GROUP_SQL[groupBy] : "'all'";
  const from = `${storage.database}.agent_sessions FINAL${byModel ? ' ARRAY JOIN model_usage AS u' : ''} WHERE ${where.join(' AND ')}`;
  type Row = { grp: string; time?: number; value: number | null; unpriced: string[] };
  // One scan: each group's buckets and, as a grouping set of its own, the group over the whole
  // range (error_rate and p95_duration are not sums of their buckets). grouping(time) is 1 on those.
  const rows = await storage.read<Row & { total: number }>(
    `SELECT ${group} AS grp, ${BUCKET_SQL[bucket]} AS time, ${value} AS value, ${unpriced} AS unpriced, grouping(time) AS total
     FROM ${from} GROUP BY GROUPING SETS ((grp, time), (grp)) ORDER BY grp, time`,
    query,
  );
  const number = (v: unknown): number | null =>
    v === null || v === undefined || Number.isNaN(Number(v)) ? null : Number(v);
  const totals = rows.filter((r) => Number(r.total) === 1);
  const points = new Map<string, TrendPoint[]>();
  for (const p of rows) {
    if (Number(p.total) === 1) continue;
    const point = {
      time: new Date(Number(p.time) * 1000).toISOString(),
      value: number(p.value),
      unpriced_models: p.unpriced,
    };
    const list = points.get(String(p.grp));
    if (list) list.push(point);
    else points.set(String(p.grp), [point]);
  }
  const series = totals
    .map((t) => ({ group: String(t.grp), points: points.get(String(t.grp)) ?? [], total: number(t.value) }))
    .sort(
      (a, b) => (b.total ?? -Infinity) - (a.total ?? -Infinity) || (a.group < b.group ? -1 : a.group > b.group ? 1 : 0),
    );
  return {
    metric,
    bucket,
    group_by: groupBy,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    series,
    unpriced_models: [...new Set(totals.flatMap((t) => t.unpriced))].sort(),
  };
}
