/**
 * The bench's exporters, in a process of their own so that sending costs the collector nothing:
 * `node --import tsx bench/sender.ts <json options>` posts the requests of a bodies file (see
 * bodies-file.ts) to a collector and prints one JSON line of results.
 * - `load`: `concurrency` senders back to back, optionally paced to `rate` spans/s in total;
 * - `sequential`: one sender, one request after another (a lone exporter, a long session).
 */
import { performance } from 'node:perf_hooks';
import { readBodies } from './bodies-file.ts';

/** What to send and how. */
export interface SenderOptions {
  url: string;
  bodiesFile: string;
  mode: 'load' | 'sequential';
  concurrency?: number;
  /** Spans per second in total (load mode); unpaced when absent. */
  rate?: number;
  /** Spans per request, for pacing and counting. */
  spansPerRequest: number;
}

/** What the sender measured: per-request ack latencies in order, and the wall time. */
export interface SenderResult {
  latenciesMs: number[];
  seconds: number;
  failures: Record<string, number>;
}

async function send(url: string, body: Uint8Array, failures: Record<string, number>): Promise<number> {
  const started = performance.now();
  for (;;) {
    const res = await fetch(`${url}/v1/traces`, {
      method: 'POST',
      body: Buffer.from(body),
      headers: { 'content-type': 'application/x-protobuf' },
    });
    await res.arrayBuffer();
    if (res.status === 200) return performance.now() - started;
    failures[res.status] = (failures[res.status] ?? 0) + 1;
    // 429/503: back off as an exporter would, then send again (the latency includes the wait).
    if (res.status !== 429 && res.status !== 503) throw new Error(`HTTP ${res.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function run(options: SenderOptions): Promise<SenderResult> {
  const bodies = readBodies(options.bodiesFile);
  const latenciesMs = new Array<number>(bodies.length);
  const failures: Record<string, number> = {};
  const started = performance.now();
  if (options.mode === 'sequential') {
    for (let i = 0; i < bodies.length; i++)
      latenciesMs[i] = await send(options.url, bodies[i] ?? new Uint8Array(), failures);
  } else {
    let next = 0;
    const interval = options.rate ? (options.spansPerRequest / options.rate) * 1000 : 0;
    await Promise.all(
      Array.from({ length: options.concurrency ?? 8 }, async () => {
        while (next < bodies.length) {
          const i = next++;
          // Paced: request i leaves no earlier than i × interval after the start.
          const due = started + i * interval - performance.now();
          if (due > 0) await new Promise((r) => setTimeout(r, due));
          latenciesMs[i] = await send(options.url, bodies[i] ?? new Uint8Array(), failures);
        }
      }),
    );
  }
  return { latenciesMs, seconds: (performance.now() - started) / 1000, failures };
}

const options = JSON.parse(process.argv[2] ?? '{}') as SenderOptions;
process.stdout.write(`${JSON.stringify(await run(options))}\n`);
