/**
 * The collector's HTTP server (Node's, through @hono/node-server) with its timeouts and its
 * connection cap set on purpose, so that slow, idle or countless clients cost only themselves.
 */
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Config } from '../src/config.ts';
import type { Logger } from '../src/logger.ts';

/** The app's HTTP server: timeouts from the config, connections capped at --max-connections. */
export function createHttpServer(app: Hono, config: Config, logger: Logger): Server {
  const server = createNodeServer(app, config);
  capConnections(server, config.maxConnections, logger);
  warnIfDescriptorsShort(config.maxConnections, logger);
  return server;
}

/** Longest a client may take to send one whole request, headers and body, however it trickles. */
const REQUEST_DEADLINE_MS = 120_000;

/**
 * The HTTP server with Node's own timers set on purpose rather than left to defaults (measured on
 * Node 20.20: with only requestTimeout set, a socket that never sends a byte got Node's raw 408
 * after 60–90 s — headersTimeout's default 60 s, checked every 30 s — and a stalled body after
 * 120–150 s; in between each held a descriptor, and 21,000 of them ran the process out).
 * - headersTimeout = --idle-timeout: counted from the connection (or a keep-alive request's first
 *   byte) to the end of the headers, so it covers a socket that sends nothing at all as well as
 *   one dribbling its headers; Node answers 408 and closes.
 * - keepAliveTimeout = --idle-timeout between requests (Node closes a second after it advertises).
 * - requestTimeout: the whole-request deadline, for a body trickled a byte at a time just fast
 *   enough to beat --body-timeout (which the OTLP route applies between body chunks); 120 s, or
 *   the idle plus body timeouts if longer, so raising those is not undone by it.
 * - connectionsCheckingInterval: how often Node looks for the two above (default 30 s, which would
 *   let a 60 s timeout run to 90 s); a tenth of the idle timeout, at most 5 s.
 * - timeout (socket inactivity) stays 0: it would also fire while a request waits on storage.
 */
function createNodeServer(app: Hono, config: Config): Server {
  const server = createAdaptorServer({
    fetch: app.fetch,
    serverOptions: {
      headersTimeout: config.idleTimeoutMs,
      // Never below headersTimeout, which Node refuses.
      requestTimeout: Math.max(REQUEST_DEADLINE_MS, config.idleTimeoutMs + config.bodyTimeoutMs),
      keepAliveTimeout: config.idleTimeoutMs,
      connectionsCheckingInterval: Math.min(5000, Math.max(100, Math.floor(config.idleTimeoutMs / 10))),
    },
  }) as Server;
  server.timeout = 0;
  return server;
}

const REFUSAL_BODY = 'too many connections; retry in 5 seconds\n';

/** What a connection past the cap receives before it is closed. */
const TOO_MANY_CONNECTIONS =
  'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
  `Content-Length: ${Buffer.byteLength(REFUSAL_BODY)}\r\n\r\n${REFUSAL_BODY}`;

/** How long a refused connection may keep sending before it is cut, and how many may at once. */
const REFUSED_LINGER_MS = 2000;
const REFUSED_LINGERING_MAX = 1024;

/**
 * Answers connections past `max` with a raw 503 + Retry-After and closes them, before Node gives
 * them an HTTP parser, so a flood of sockets costs a bounded number of descriptors. Not
 * server.maxConnections: Node 20 closes those handles without a byte, which an exporter sees as
 * a network error with no Retry-After. Node's own 'connection' listener runs only for the
 * connections let in (emitting 'connection' is how an http.Server is handed a socket).
 */
function capConnections(server: Server, max: number, logger: Logger): void {
  const nodeListeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  let open = 0;
  let lingering = 0;
  const warn = rateLimitedWarning(
    logger,
    `connection limit reached (--max-connections ${max}): new connections are answered 503`,
  );
  server.on('connection', (socket: Socket) => {
    if (open < max) {
      open++;
      socket.once('close', () => open--);
      for (const listener of nodeListeners) listener.call(server, socket);
      return;
    }
    warn();
    const linger = lingering < REFUSED_LINGERING_MAX;
    if (linger) {
      lingering++;
      socket.once('close', () => lingering--);
    }
    refuseConnection(socket, linger);
  });
}

/**
 * Sends the 503 and closes. With `linger`, what the client already sent is read and dropped
 * first (a lingering close, as nginx does): closing a socket with unread bytes resets it, and the
 * reset can reach the client before it reads the 503. Without, it closes once the 503 is written.
 */
function refuseConnection(socket: Socket, linger: boolean): void {
  socket.on('error', () => {}); // a reset from a client being sent away is no news
  socket.end(TOO_MANY_CONNECTIONS);
  if (!linger) {
    socket.once('finish', () => socket.destroy());
    return;
  }
  socket.resume();
  socket.once('end', () => socket.destroy());
  const cut = setTimeout(() => socket.destroy(), REFUSED_LINGER_MS);
  socket.once('close', () => clearTimeout(cut));
}

/** Logs `message` with how often it happened, at most once a minute: one line, not one per event. */
function rateLimitedWarning(logger: Logger, message: string): () => void {
  let count = 0;
  let last = 0;
  return () => {
    count++;
    if (Date.now() - last < 60_000) return;
    logger.warn(message, { refused: count });
    count = 0;
    last = Date.now();
  };
}

/** Descriptors left to storage (chDB opens files per part) and the process beside the connections. */
const DESCRIPTOR_RESERVE = 1024;

/** Warns when the open-files limit (Linux /proc; unknown elsewhere) is too low for the cap to help. */
function warnIfDescriptorsShort(maxConnections: number, logger: Logger): void {
  let limit: number | undefined;
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    limit = m ? Number(m[1]) : undefined;
  } catch {
    limit = undefined;
  }
  if (limit !== undefined && limit < maxConnections + DESCRIPTOR_RESERVE) {
    logger.warn(
      `--max-connections ${maxConnections} leaves fewer than ${DESCRIPTOR_RESERVE} of the process's ${limit} open files (ulimit -n) to storage: ` +
        'raise the limit or lower --max-connections (SESSIONGRAPH_MAX_CONNECTIONS)',
    );
  }
}
