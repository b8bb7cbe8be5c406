/**
 * Test helpers: raw TCP connections to a collector, for clients no HTTP library would imitate
 * (silent sockets, half-sent headers, bodies that stall or vanish).
 */
import net from 'node:net';

/** One raw connection: what it received, and whether and when the server closed it. */
export interface RawConnection {
  socket: net.Socket;
  /** Milliseconds since the connection was established. */
  age(): number;
  /** Everything received so far, as latin1 text. */
  received(): string;
  isClosed(): boolean;
  /** Resolves with the connection's age when it closes, whoever closes it. */
  closed: Promise<number>;
}

/** Connects to `url`'s host and port; resolves once the connection is established. */
export function openRaw(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname.replace(/^\[|\]$/g, ''));
    let data = '';
    let connectedAt = Date.now();
    let closed = false;
    // A server that closes with unread data resets the connection: that is a close, not a failure.
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
    });
    const closedAt = new Promise<number>((done) =>
      socket.on('close', () => {
        closed = true;
        done(Date.now() - connectedAt);
      }),
    );
    socket.once('error', reject);
    socket.once('connect', () => {
      connectedAt = Date.now();
      resolve({
        socket,
        age: () => Date.now() - connectedAt,
        received: () => data,
        isClosed: () => closed,
        closed: closedAt,
      });
    });
  });
}

/** Waits for the server to close `conn`; throws if it is still open after `ms`. */
export async function closedWithin(conn: RawConnection, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const tooLate = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `the connection is still open after ${ms} ms (received ${JSON.stringify(conn.received().slice(0, 80))})`,
          ),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([conn.closed, tooLate]);
  } finally {
    clearTimeout(timer);
  }
}

/** The head of a POST /v1/traces request declaring `contentLength` body bytes. */
export function uploadHead(contentLength: number, contentType = 'application/json'): string {
  return `POST /v1/traces HTTP/1.1\r\nHost: collector\r\nContent-Type: ${contentType}\r\nContent-Length: ${contentLength}\r\n\r\n`;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Raw connections opened by one test file, all destroyed by `destroyAll` (in afterAll). */
export function rawConnections(url: () => string): { connect(): Promise<RawConnection>; destroyAll(): void } {
  const open: RawConnection[] = [];
  return {
    async connect() {
      const conn = await openRaw(url());
      open.push(conn);
      return conn;
    },
    destroyAll() {
      for (const c of open) c.socket.destroy();
    },
  };
}
