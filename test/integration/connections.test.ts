/**
 * Connections that hold a descriptor without sending a request (SPEC §7: one client never harms
 * another; NOTES: 21,000 silent sockets exhausted the process's descriptors). Silent, header-less
 * and idle keep-alive connections are closed after --idle-timeout; past --max-connections a new
 * connection gets a 503 with Retry-After and is closed, instead of the process running out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { startTestCollector, tempDir } from '../helpers/collector.ts';
import { closedWithin, rawConnections, sleep, uploadHead, type RawConnection } from '../helpers/raw-connection.ts';

const IDLE_TIMEOUT_MS = 2000;
const MAX_CONNECTIONS = 20;
const MAX_BODY = 1024 * 1024;
/** Room for a loaded machine: the bound checked is "closed within the idle timeout plus this". */
const SLACK_MS = 10_000;

let collector: RunningCollector;
const raw = rawConnections(() => collector.url);
const connect = raw.connect;

beforeAll(async () => {
  collector = await startTestCollector(tempDir(), {
    SESSIONGRAPH_IDLE_TIMEOUT: `${IDLE_TIMEOUT_MS}ms`,
    SESSIONGRAPH_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
    SESSIONGRAPH_MAX_BODY_SIZE: String(MAX_BODY),
  });
});
afterAll(async () => {
  raw.destroyAll();
  await collector?.close();
});

describe('idle connections', () => {
  it('a connection that sends nothing is closed after --idle-timeout', async () => {
    const conn = await connect();
    const lived = await closedWithin(conn, IDLE_TIMEOUT_MS + SLACK_MS);
    console.log(`a silent connection lived ${lived} ms (idle timeout ${IDLE_TIMEOUT_MS} ms)`);
    expect(lived).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 500);
  });

  it('a connection that sends part of its headers and stops is closed after --idle-timeout', async () => {
    const conn = await connect();
    conn.socket.write('POST /v1/traces HTTP/1.1\r\nHost: collector\r\nContent-Ty');
    const lived = await closedWithin(conn, IDLE_TIMEOUT_MS + SLACK_MS);
    console.log(
      `a connection with half its headers lived ${lived} ms: ${JSON.stringify(conn.received().split('\r\n')[0])}`,
    );
    expect(lived).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 500);
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('a keep-alive connection idle after its answer is closed after --idle-timeout', async () => {
    const conn = await connect();
    conn.socket.write('GET /healthz HTTP/1.1\r\nHost: collector\r\n\r\n');
    const lived = await closedWithin(conn, IDLE_TIMEOUT_MS + SLACK_MS);
    expect(conn.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(conn.received()).toMatch(new RegExp(`\\r\\nkeep-alive: timeout=${IDLE_TIMEOUT_MS / 1000}\\r\\n`, 'i'));
    expect(lived).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 500);
  });
});

describe('bodies past --max-body-size', () => {
  // The rest of such a body is never read: the connection closes so it is not parsed as a request.
  it.each([
    ['declared in Content-Length', (conn: RawConnection) => conn.socket.write(uploadHead(2 * MAX_BODY))],
    [
      'sent in chunks',
      (conn: RawConnection) => {
        conn.socket.write(
          'POST /v1/traces HTTP/1.1\r\nHost: collector\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
        );
        const chunk = 'x'.repeat(64 * 1024);
        for (let i = 0; i < 24; i++) conn.socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      },
    ],
  ])('a body over the limit %s is answered 413 and the connection closed', async (_how, send) => {
    const conn = await connect();
    send(conn);
    await closedWithin(conn, SLACK_MS);
    expect(conn.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(conn.received()).toMatch(/\r\nconnection: close\r\n/i);
    expect(conn.received()).toMatch(/exceeds the 1048576-byte limit/);
  });
});

describe('the connection cap', () => {
  it(`past ${MAX_CONNECTIONS} connections a new one gets 503 + Retry-After and is closed; once others close, new ones are served`, async () => {
    await sleep(500); // the connections of the tests above are gone
    // Stalled uploads: past their headers, so the idle timeout no longer applies; the body timeout (60 s) is far.
    const held = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) {
      const conn = await connect();
      conn.socket.write(`${uploadHead(1000)}{"resourceSpans"`);
      held.push(conn);
    }
    await sleep(300);
    expect(held.filter((c) => c.isClosed())).toEqual([]);

    const refused = await connect();
    refused.socket.write('GET /healthz HTTP/1.1\r\nHost: collector\r\n\r\n');
    await closedWithin(refused, SLACK_MS);
    const answer = refused.received();
    console.log(`connection ${MAX_CONNECTIONS + 1} of ${MAX_CONNECTIONS}: ${JSON.stringify(answer)}`);
    expect(answer).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(answer).toMatch(/\r\nRetry-After: \d+\r\n/i);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(held.filter((c) => c.isClosed())).toEqual([]);

    for (const conn of held) conn.socket.destroy();
    await expect
      .poll(
        async () => {
          const conn = await connect();
          conn.socket.write('GET /healthz HTTP/1.1\r\nHost: collector\r\nConnection: close\r\n\r\n');
          await closedWithin(conn, SLACK_MS);
          return conn.received().split('\r\n')[0];
        },
        { timeout: SLACK_MS, interval: 200 },
      )
      .toBe('HTTP/1.1 200 OK');
  }, 60_000);
});
