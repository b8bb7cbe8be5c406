/**
 * The shared base of the model stand-ins and of the OTLP capture server: a real HTTP server on
 * 127.0.0.1 (port 0) that records every request it receives, the shapes and option defaults every
 * model stand-in has (so anthropic.ts, openai.ts and gemini.ts hold only their API), plus JSON and
 * SSE writers.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FINAL_ANSWER, TOOL_CALLS } from './scenario.ts';

/** One request a stand-in received, body parsed when it is JSON. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** The raw body bytes, exactly as sent. */
  raw: Buffer;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: unknown;
}

/** A running loopback server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  /** Every request received, in arrival order. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A running model stand-in: the requests it answered as the scenario plays, and every request. */
export interface ModelStandIn<R extends RecordedRequest> {
  /** Base URL to point the client at. */
  url: string;
  /** The requests the stand-in answered, in arrival order. */
  requests: R[];
  /** Every request, including ones the stand-in does not serve. */
  all: RecordedRequest[];
  close(): Promise<void>;
}

/** A tool call a stand-in's first answer asks for. */
export interface StandInToolCall {
  id: string;
  name: string;
  arguments: Readonly<Record<string, unknown>>;
}

/** Which call a request was answered as: scenario call 0 or 1, or a side call (a request without tools). */
export type AnsweredCall = 0 | 1 | 'side';

/** A model request a stand-in answered: the model asked for, whether it streams, which call it was. */
export interface AnsweredRequest<C extends AnsweredCall = AnsweredCall> extends RecordedRequest {
  model: string;
  stream: boolean;
  call: C;
}

/** A stand-in's options, in the shape its API counts side-call usage; the defaults play scenario.ts. */
export interface StandInAnswers<SideUsage> {
  toolCalls?: readonly StandInToolCall[];
  finalAnswer?: string;
  /** Text and token counts of side calls (requests without tools). */
  sideText?: string;
  sideUsage?: SideUsage;
}

/** The options with scenario.ts's answers filled in where not given; side calls answer 'OK' with `sideUsage`. */
export function withScenarioDefaults<SideUsage>(
  options: StandInAnswers<SideUsage>,
  sideUsage: SideUsage,
): Required<StandInAnswers<SideUsage>> {
  return {
    toolCalls: options.toolCalls ?? TOOL_CALLS,
    finalAnswer: options.finalAnswer ?? FINAL_ANSWER,
    sideText: options.sideText ?? 'OK',
    sideUsage: options.sideUsage ?? sideUsage,
  };
}

/** Answers one recorded request. */
export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

/** Starts a recording server on 127.0.0.1:<free port> that hands each request to `handler`. */
export async function startRecordingServer(handler: Handler): Promise<RunningServer> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    void readRequest(req).then(
      async (recorded) => {
        requests.push(recorded);
        try {
          await handler(recorded, res);
        } catch (err) {
          if (!res.headersSent) writeJson(res, 500, { error: { message: String(err) } });
          else res.end();
        }
      },
      () => {
        res.statusCode = 400;
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readRequest(req: IncomingMessage): Promise<RecordedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  let body: unknown;
  if ((headers['content-type'] ?? '').includes('json') && raw.length > 0) {
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      body = undefined;
    }
  }
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    raw,
    body,
  };
}

/** Writes a JSON response. */
export function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** One server-sent event: `event:` line only when `event` is given. */
export interface SseEvent {
  event?: string;
  data: unknown;
}

/** How a server-sent-event stream is framed: extra headers, and whether it ends with `data: [DONE]` (Chat Completions). */
export interface SseOptions {
  headers?: Record<string, string>;
  done?: boolean;
}

/** Writes a whole server-sent-event stream, one event per write, then ends the response. */
export function writeSse(res: ServerResponse, events: readonly SseEvent[], options: SseOptions = {}): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...options.headers,
  });
  for (const e of events) {
    res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${JSON.stringify(e.data)}\n\n`);
  }
  if (options.done) res.write('data: [DONE]\n\n');
  res.end();
}

/** An OTLP/HTTP request as the capture server saw it. */
export interface CapturedOtlpRequest {
  /** `/v1/traces`, `/v1/logs`, `/v1/metrics`. */
  path: string;
  contentType: string;
  contentEncoding: string;
  raw: Buffer;
}

/** A running OTLP capture server. */
export interface OtlpCapture extends RunningServer {
  /** OTLP requests in arrival order (all signals). */
  captured: CapturedOtlpRequest[];
}

/**
 * An OTLP/HTTP capture server: stores every request body byte for byte, then forwards
 * `/v1/traces` to `forwardTo` (a collector base URL) and answers with the collector's answer.
 * Without `forwardTo`, or for other signals, it answers 200 with an empty OTLP response itself,
 * so exporters never retry and the capture holds each request exactly once.
 */
export async function startOtlpCapture(forwardTo?: string): Promise<OtlpCapture> {
  const captured: CapturedOtlpRequest[] = [];
  const server = await startRecordingServer(async (req, res) => {
    const contentType = req.headers['content-type'] ?? '';
    captured.push({
      path: req.path,
      contentType,
      contentEncoding: req.headers['content-encoding'] ?? '',
      raw: req.raw,
    });
    if (forwardTo && req.path === '/v1/traces') {
      const headers: Record<string, string> = { 'content-type': contentType };
      if (req.headers['content-encoding']) headers['content-encoding'] = req.headers['content-encoding'];
      const answer = await fetch(`${forwardTo}${req.path}`, { method: 'POST', body: new Uint8Array(req.raw), headers });
      const body = Buffer.from(await answer.arrayBuffer());
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? contentType });
      res.end(body);
      return;
    }
    if (contentType.includes('json')) writeJson(res, 200, {});
    else {
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
      res.end();
    }
  });
  return { ...server, captured };
}
