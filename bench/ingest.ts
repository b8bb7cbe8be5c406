/**
 * `npm run bench`: the collector as a user runs it (`sessiongraph serve`, its own process, a
 * fresh data directory), driven by exporters in another process with realistic agent traffic
 * (traffic.ts: 512-span OTLP protobuf requests made by the official serializer), beside the
 * ceiling measured in the same run on the same rows (ceiling.ts). Modes: sustained load, 70% of
 * it paced, a lone exporter's 20-span requests, one long session sent as 20-span requests, and
 * the read-side latencies over a store seeded with BENCH_READ_SPANS spans (seed-reads.ts).
 * The sustained run also gives a per-stage profile (decode, prepare = facts and serialisation,
 * journal, raw insert, facts insert, roll-up) from the collector's /metrics counters.
 * Prints one table (figure, value, target, ratio) and writes it as JSON to
 * bench/results/latest.json so runs can be compared across commits. BENCH_QUICK=1 is a ~1-minute
 * version. Nothing here asserts: speed goals live here, never in timed tests.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeTraceRequestProtobuf } from '../src/otlp/decode-protobuf.ts';
import { sessionIdOf } from '../src/mapping/ids.ts';
import { spawnCollector } from '../test/helpers/cli.ts';
import { tempDir } from '../test/helpers/collector.ts';
import { writeBodies } from './bodies-file.ts';
import type { SenderOptions, SenderResult } from './sender.ts';
import { agentSessions, requestBodies } from './traffic.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const LOAD_SPANS = Number(process.env.BENCH_LOAD_SPANS ?? (QUICK ? 40_000 : 200_000));
const LONG_SPANS = Number(process.env.BENCH_LONG_SPANS ?? (QUICK ? 5_000 : 100_000));
const LONE_REQUESTS = QUICK ? 100 : 300;
const READ_SPANS = Number(process.env.BENCH_READ_SPANS ?? (QUICK ? 1_000_000 : 10_000_000));
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const BATCH_MAX_SPANS = 5000; // the collector's default --batch-max-spans
const HERE = import.meta.dirname;

interface Row {
  figure: string;
  value: number | string;
  unit: string;
  target: string;
  /** value ÷ target where "≥" (higher is better), target ÷ value where "≤"; ≥ 1 meets it. */
  ratio: number | undefined;
}

const rows: Row[] = [];
function report(figure: string, value: number, unit: string, target?: { atLeast?: number; atMost?: number }): void {
  const ratio =
    target?.atLeast !== undefined
      ? value / target.atLeast
      : target?.atMost !== undefined
        ? target.atMost / value
        : undefined;
  const shown =
    target?.atLeast !== undefined ? `≥ ${target.atLeast}` : target?.atMost !== undefined ? `≤ ${target.atMost}` : '';
  rows.push({
    figure,
    value: Math.round(value * 100) / 100,
    unit,
    target: shown,
    ratio: ratio === undefined ? undefined : Math.round(ratio * 100) / 100,
  });
  console.error(`  ${figure}: ${Math.round(value * 100) / 100} ${unit}${shown ? ` (target ${shown})` : ''}`);
}

function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)] ?? NaN;
}
const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** Runs a bench script in a process of its own and returns its one JSON line. */
function child<T>(script: string, args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, script), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as T)
        : reject(new Error(`${script} exited ${code}`)),
    );
  });
}

const send = (options: SenderOptions): Promise<SenderResult> =>
  child<SenderResult>('sender.ts', [JSON.stringify(options)]);

/** The collector's /metrics text. */
async function scrape(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** The collector's ingest stage counters (seconds by stage) from /metrics. */
async function stageSeconds(url: string): Promise<Record<string, number>> {
  const text = await scrape(url);
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^sessiongraph_ingest_stage_seconds_total\{stage="(\w+)"\} ([\d.e+-]+)$/gm))
    out[m[1] ?? ''] = Number(m[2]);
  return out;
}

/** Cumulative counts of the roll-up lag histogram on /metrics, by upper bound (seconds). */
async function lagBuckets(url: string): Promise<Map<number, number>> {
  const text = await scrape(url);
  const out = new Map<number, number>();
  for (const m of text.matchAll(/^sessiongraph_rollup_lag_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm))
    out.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
  return out;
}

/** The q-quantile of the observations between two readings of lagBuckets, interpolated inside its bucket as Prometheus' histogram_quantile does. */
function lagQuantile(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    const count = counts[i] ?? 0;
    if (count >= rank) {
      const lower = i === 0 ? 0 : (bounds[i - 1] ?? 0);
      const upper = bounds[i] ?? Infinity;
      if (upper === Infinity) return lower;
      const below = i === 0 ? 0 : (counts[i - 1] ?? 0);
      return lower + ((upper - lower) * (rank - below)) / Math.max(1, count - below);
    }
  }
  return NaN;
}

/** Waits until no trace waits for its roll-up (the backlog gauge on /metrics is 0). */
async function rollUpsCaughtUp(url: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    const text = await scrape(url);
    if (/^sessiongraph_rollup_backlog_traces 0$/m.test(text)) return (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Peak RSS (VmHWM) in MiB and CPU seconds (user + system) of a process, from /proc. */
function processUsage(pid: number): { peakRssMiB: number; cpuSeconds: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(fields[11] ?? 0) + Number(fields[12] ?? 0); // utime, stime (fields 14, 15)
  return { peakRssMiB: hwm, cpuSeconds: ticks / 100 };
}

function spanCount(bodies: readonly Uint8Array[]): number {
  return bodies.reduce((n, b) => n + decodeTraceRequestProtobuf(b).spans.length, 0);
}

async function main(): Promise<void> {
  const work = tempDir('sessiongraph-bench-');
  console.error(`bench${QUICK ? ' (quick)' : ''}: preparing traffic in ${work}`);
  const load = requestBodies(agentSessions(Math.ceil(LOAD_SPANS / 35), 20261202), 512);
  const loadSpans = spanCount(load);
  const long = requestBodies(agentSessions(1, 7, LONG_SPANS), 20);
  const lone = requestBodies(agentSessions(LONE_REQUESTS, 11, 20), 20);
  const files = {
    load: path.join(work, 'load.bin'),
    long: path.join(work, 'long.bin'),
    lone: path.join(work, 'lone.bin'),
  };
  writeBodies(files.load, load);
  writeBodies(files.long, long);
  writeBodies(files.lone, lone);

  // Decode alone, for the per-stage picture.
  const sample = load[0] ?? new Uint8Array();
  const sampleSpans = decodeTraceRequestProtobuf(sample).spans.length;
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    decodeTraceRequestProtobuf(sample);
    times.push(performance.now() - t);
  }
  report('decode, protobuf', (percentile(times, 0.5) * 1000) / sampleSpans, 'µs/span');

  const collector = await spawnCollector([
    'serve',
    '--data-dir',
    path.join(work, 'data'),
    '--port',
    '0',
    '--grpc-port',
    'off',
  ]);
  const pid = collector.child.pid ?? 0;
  try {
    console.error(
      `collector ${collector.url} (pid ${pid}); sustained load: ${loadSpans} spans, ${load.length} requests, ${CONCURRENCY} senders`,
    );
    const cpuBefore = processUsage(pid).cpuSeconds;
    const stagesBefore = await stageSeconds(collector.url);
    const sustained = await send({
      url: collector.url,
      bodiesFile: files.load,
      mode: 'load',
      concurrency: CONCURRENCY,
      spansPerRequest: 512,
    });
    const rate = loadSpans / sustained.seconds;
    const cpu = processUsage(pid).cpuSeconds - cpuBefore;
    const stagesAfter = await stageSeconds(collector.url);
    report('sustained ingest', rate, 'spans/s');
    report('ack p50 at full load', percentile(sustained.latenciesMs, 0.5), 'ms');
    report('ack p99 at full load', percentile(sustained.latenciesMs, 0.99), 'ms');
    report('collector CPU per span (engine included)', (cpu / loadSpans) * 1e6, 'µs');
    // Where a span's time goes: decode and prepare on the event loop, the statements of its batch
    // (one batch at a time on the ingest connection) — µs per span, summed over the sustained run.
    for (const [stage, seconds] of Object.entries(stagesAfter)) {
      report(`stage ${stage}`, ((seconds - (stagesBefore[stage] ?? 0)) * 1e6) / loadSpans, 'µs/span');
    }

    report('roll-ups caught up after the full load in', await rollUpsCaughtUp(collector.url), 's');

    const lagBefore = await lagBuckets(collector.url);
    const paced = await send({
      url: collector.url,
      bodiesFile: files.load,
      mode: 'load',
      concurrency: CONCURRENCY,
      spansPerRequest: 512,
      rate: rate * 0.7,
    });
    report('ack p99 at 70% of the sustained rate', percentile(paced.latenciesMs, 0.99), 'ms', { atMost: 250 });
    await rollUpsCaughtUp(collector.url);
    report(
      'session lag (ack → session) p99 at 70% of the sustained rate',
      lagQuantile(lagBefore, await lagBuckets(collector.url), 0.99),
      's',
      { atMost: 2 },
    );

    const loneRun = await send({ url: collector.url, bodiesFile: files.lone, mode: 'sequential', spansPerRequest: 20 });
    report('lone exporter, 20-span request: ack p50', percentile(loneRun.latenciesMs, 0.5), 'ms', { atMost: 30 });

    console.error(`long session: ${LONG_SPANS} spans as ${long.length} requests of 20`);
    const longRun = await send({ url: collector.url, bodiesFile: files.long, mode: 'sequential', spansPerRequest: 20 });
    const tenth = Math.max(1, Math.floor(longRun.latenciesMs.length / 10));
    const first = mean(longRun.latenciesMs.slice(0, tenth));
    const last = mean(longRun.latenciesMs.slice(-tenth));
    report('long session: mean ack, first tenth', first, 'ms');
    report('long session: mean ack, last tenth ÷ first tenth', last / first, '×', { atMost: 1.5 });
    // Exactness, not lag: once the roll-ups have caught up (an API read waits at most 2 s).
    await rollUpsCaughtUp(collector.url);
    await checkLongSession(collector.url, long);

    report('collector peak RSS (engine included)', processUsage(pid).peakRssMiB, 'MiB', { atMost: 1536 });
  } finally {
    collector.child.kill('SIGTERM');
    await collector.exited;
  }

  const collectorStorage = await storeLoadOnce(path.join(work, 'storage'), files.load);
  const ceiling = await child<{ rows: number; seconds: number }>('ceiling.ts', [
    files.load,
    path.join(work, 'ceiling'),
    String(BATCH_MAX_SPANS),
  ]);
  const ceilingRate = ceiling.rows / ceiling.seconds;
  report('ceiling: the same otel_traces rows inserted by the engine alone', ceilingRate, 'rows/s');
  const sustainedRow = rows.find((r) => r.figure === 'sustained ingest');
  if (sustainedRow && typeof sustainedRow.value === 'number') {
    report('sustained ingest ÷ ceiling', sustainedRow.value / ceilingRate, '×', { atLeast: 0.8 });
  }
  await measureStorage(collectorStorage, path.join(work, 'ceiling'), loadSpans);
  await measureReads(path.join(work, 'reads'));

  printTable();
  const out = path.join(HERE, 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(
    path.join(out, 'latest.json'),
    `${JSON.stringify({ at: new Date().toISOString(), quick: QUICK, rows }, null, 2)}\n`,
  );
  fs.rmSync(work, { recursive: true, force: true });
}

interface StorageFigures {
  tables: Record<string, { bytes: number; rows: number }>;
  total: number;
}

/** The realistic load sent once to a collector on a fresh directory, stopped: its data directory. */
async function storeLoadOnce(dir: string, bodiesFile: string): Promise<string> {
  const collector = await spawnCollector(['serve', '--data-dir', dir, '--port', '0', '--grpc-port', 'off']);
  try {
    await send({ url: collector.url, bodiesFile, mode: 'load', concurrency: CONCURRENCY, spansPerRequest: 512 });
  } finally {
    collector.child.kill('SIGTERM');
    await collector.exited;
  }
  return dir;
}

/**
 * Bytes per span on disk after merges: every table of the collector's store (the load sent once)
 * beside otel_traces alone as the OpenTelemetry Collector's exporter DDL keeps the same spans (the
 * ceiling's store, copied into a table with the exporter's own DDL).
 */
async function measureStorage(collectorDir: string, exporterDir: string, spans: number): Promise<void> {
  const [ours, exporter] = await Promise.all([
    child<StorageFigures>('storage.ts', [collectorDir]),
    child<StorageFigures>('storage.ts', [exporterDir, 'exporter']),
  ]);
  for (const [table, { bytes }] of Object.entries(ours.tables))
    report(`storage: ${table}`, bytes / spans, 'bytes/span');
  report('storage: whole store', ours.total / spans, 'bytes/span');
  const exporterBytes = exporter.tables.exporter_otel_traces?.bytes ?? NaN;
  report('storage: the exporter alone (otel_traces, its DDL)', exporterBytes / spans, 'bytes/span');
  report('storage: whole store ÷ exporter alone', ours.total / exporterBytes, '×', { atMost: 1.3 });
}

/** Read-side latencies over a seeded store (seed-reads.ts): the auditor's and the SRE's reads. */
async function measureReads(dir: string): Promise<void> {
  console.error(`reads: seeding ${READ_SPANS} spans straight into the engine`);
  const seed = await child<{
    spans: number;
    sessions: number;
    seedSeconds: number;
    sampleSessions: string[];
    sampleDecisions: string[];
    trendMs: number[];
  }>('seed-reads.ts', [dir, String(READ_SPANS)]);
  report(`reads: store seeded (${seed.spans} spans, ${seed.sessions} sessions)`, seed.seedSeconds, 's');
  const collector = await spawnCollector(['serve', '--data-dir', dir, '--port', '0', '--grpc-port', 'off']);
  try {
    const time = async (paths: readonly string[]): Promise<number[]> => {
      const out: number[] = [];
      for (const p of paths) {
        const t = performance.now();
        const res = await fetch(`${collector.url}${p}`);
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`GET ${p}: HTTP ${res.status}`);
        out.push(performance.now() - t);
      }
      return out;
    };
    const week = new Date(Date.now() - 7 * 86_400_000).toISOString();
    report(
      'reads: decision → session with evidence, p99',
      percentile(await time(seed.sampleDecisions.map((id) => `/api/decisions/${id}`)), 0.99),
      'ms',
      { atMost: 50 },
    );
    report(
      'reads: session by id with transcript, p99',
      percentile(await time(seed.sampleSessions.map((id) => `/api/sessions/${id}`)), 0.99),
      'ms',
      { atMost: 50 },
    );
    const byAgent = Array.from(
      { length: 100 },
      (_, i) => `/api/sessions?agent=agent-${i % 12}&from=${encodeURIComponent(week)}&limit=50`,
    );
    report('reads: sessions by agent and time range, p99', percentile(await time(byAgent), 0.99), 'ms', { atMost: 50 });
    report('reads: 30-day cost-by-agent trend, p99', percentile(seed.trendMs, 0.99), 'ms', { atMost: 200 });
  } finally {
    collector.child.kill('SIGTERM');
    await collector.exited;
  }
}

/** The long session's roll-up is exact: its tokens and counts equal a sum over the spans sent. */
async function checkLongSession(url: string, bodies: readonly Uint8Array[]): Promise<void> {
  const spans = bodies.flatMap((b) => decodeTraceRequestProtobuf(b).spans);
  const traceId = spans[0]?.TraceId ?? '';
  const tokens = spans.reduce(
    (n, s) =>
      n +
      Number(s.SpanAttributes['gen_ai.usage.input_tokens'] ?? 0) +
      Number(s.SpanAttributes['gen_ai.usage.output_tokens'] ?? 0),
    0,
  );
  const res = await fetch(`${url}/api/sessions/${sessionIdOf(traceId)}`);
  const session = ((await res.json()) as { session: { tokens_used: number; span_count: number } }).session;
  const exact = session.tokens_used === tokens && session.span_count === spans.length;
  rows.push({
    figure: 'long session roll-up exact (tokens, spans)',
    value: exact ? 'yes' : `no: ${session.tokens_used}/${tokens}, ${session.span_count}/${spans.length}`,
    unit: '',
    target: 'yes',
    ratio: undefined,
  });
}

function printTable(): void {
  const header = ['figure', 'value', 'target', 'ratio'];
  const lines = rows.map((r) => [
    r.figure,
    `${r.value} ${r.unit}`.trim(),
    r.target,
    r.ratio === undefined ? '' : String(r.ratio),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(fmt(header));
  console.log(widths.map((w) => '─'.repeat(w)).join('  '));
  for (const l of lines) console.log(fmt(l));
}

await main();
