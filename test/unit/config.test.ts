import { describe, expect, it } from 'vitest';
import { ConfigError, parseByteSize, parseConfig, parseFlags } from '../../src/config.ts';
import { runCli } from '../helpers/cli.ts';

describe('parseConfig', () => {
  it('defaults to the embedded engine on 127.0.0.1:4318 under ./data', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 4318, dataDir: './data', maxBodyBytes: 64 * 1024 * 1024 });
    expect(c.clickhouse).toEqual({
      url: undefined,
      user: 'default',
      password: '',
      database: 'sessiongraph',
      readUser: undefined,
      readPassword: '',
    });
  });

  it('flags win over environment variables', () => {
    const c = parseConfig(
      { SESSIONGRAPH_PORT: '5000', SESSIONGRAPH_HOST: '0.0.0.0' },
      parseFlags(['--port', '6000', '--data-dir=/tmp/x', '--insecure']),
    );
    expect(c).toMatchObject({ port: 6000, host: '0.0.0.0', dataDir: '/tmp/x' });
  });

  it.each([
    [{ SESSIONGRAPH_PORT: 'abc' }, 'SESSIONGRAPH_PORT="abc" is invalid: expected an integer from 0 to 65535'],
    [{ SESSIONGRAPH_PORT: '70000' }, 'SESSIONGRAPH_PORT="70000" is invalid'],
    [{ SESSIONGRAPH_MAX_BODY_SIZE: 'lots' }, 'SESSIONGRAPH_MAX_BODY_SIZE="lots" is invalid'],
    [{ CLICKHOUSE_URL: 'localhost:8123' }, 'CLICKHOUSE_URL="localhost:8123" is invalid: expected an http(s) URL'],
    [{ CLICKHOUSE_DATABASE: 'x; DROP TABLE y' }, 'CLICKHOUSE_DATABASE="x; DROP TABLE y" is invalid'],
    [{ SESSIONGRAPH_BATCH_MAX_SPANS: '0' }, 'SESSIONGRAPH_BATCH_MAX_SPANS="0" is invalid'],
    [
      { SESSIONGRAPH_IDLE_TIMEOUT: 'soon' },
      'SESSIONGRAPH_IDLE_TIMEOUT="soon" is invalid: expected a duration from 100ms to 1d',
    ],
    [{ SESSIONGRAPH_BODY_TIMEOUT: '0' }, 'SESSIONGRAPH_BODY_TIMEOUT="0" is invalid: expected a duration'],
    [{ SESSIONGRAPH_MAX_CONNECTIONS: '0' }, 'SESSIONGRAPH_MAX_CONNECTIONS="0" is invalid: expected an integer from 1'],
  ])('rejects %j naming the variable and value', (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
  });

  it('names the flag when the bad value came from a flag', () => {
    expect(() => parseConfig({}, parseFlags(['--port', '-1']))).toThrow('--port="-1" is invalid');
    expect(() => parseFlags(['--prot', '1'])).toThrow('unknown option --prot');
    expect(() => parseFlags(['--port'])).toThrow('option --port needs a value');
  });

  it('closes idle connections and stalled bodies after 60 s and caps connections at 4096 by default', () => {
    expect(parseConfig({})).toMatchObject({ idleTimeoutMs: 60_000, bodyTimeoutMs: 60_000, maxConnections: 4096 });
    expect(
      parseConfig(
        { SESSIONGRAPH_IDLE_TIMEOUT: '75s' },
        parseFlags(['--body-timeout', '1500ms', '--max-connections=20']),
      ),
    ).toMatchObject({
      idleTimeoutMs: 75_000,
      bodyTimeoutMs: 1500,
      maxConnections: 20,
    });
  });

  it('listens for OTLP/gRPC on 4317, on any free port while --port is 0, or not at all with off / -1', () => {
    expect(parseConfig({}).grpcPort).toBe(4317);
    expect(parseConfig({ SESSIONGRAPH_GRPC_PORT: '5317' }).grpcPort).toBe(5317);
    expect(parseConfig({ SESSIONGRAPH_PORT: '0' }).grpcPort).toBe(0);
    expect(parseConfig({ SESSIONGRAPH_PORT: '0', SESSIONGRAPH_GRPC_PORT: '4317' }).grpcPort).toBe(4317);
    expect(parseConfig({}, parseFlags(['--port', '0', '--grpc-port', '0'])).grpcPort).toBe(0);
    expect(parseConfig({}, parseFlags(['--grpc-port', 'off'])).grpcPort).toBeUndefined();
    expect(parseConfig({ SESSIONGRAPH_GRPC_PORT: 'OFF' }).grpcPort).toBeUndefined();
    expect(parseConfig({}, parseFlags(['--grpc-port', '-1'])).grpcPort).toBeUndefined();
    expect(parseConfig({ SESSIONGRAPH_GRPC_PORT: '4317' }, parseFlags(['--grpc-port=off'])).grpcPort).toBeUndefined();
  });

  it.each([
    [
      { SESSIONGRAPH_GRPC_PORT: 'grpc' },
      'SESSIONGRAPH_GRPC_PORT="grpc" is invalid: expected an integer from 0 to 65535, or off',
    ],
    [{ SESSIONGRAPH_GRPC_PORT: '65536' }, 'SESSIONGRAPH_GRPC_PORT="65536" is invalid'],
    [{ SESSIONGRAPH_GRPC_PORT: '-2' }, 'SESSIONGRAPH_GRPC_PORT="-2" is invalid'],
    [{ SESSIONGRAPH_PORT: '4317' }, 'SESSIONGRAPH_GRPC_PORT="4317" is invalid: it is also the OTLP/HTTP port'],
    [{ SESSIONGRAPH_GRPC_PORT: '4318' }, 'SESSIONGRAPH_GRPC_PORT="4318" is invalid: it is also the OTLP/HTTP port'],
  ])('rejects the gRPC port %j naming the variable and value', (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
  });

  it('parses byte sizes', () => {
    expect(parseByteSize('1048576')).toBe(1048576);
    expect(parseByteSize('64MiB')).toBe(64 * 1024 * 1024);
    expect(parseByteSize('512kb')).toBe(512 * 1024);
    expect(parseByteSize('1GiB')).toBe(1024 ** 3);
    expect(parseByteSize('1.5MiB')).toBeUndefined();
  });
});

describe('the sessiongraph command', () => {
  it('--help lists every option with its environment variable', async () => {
    const { code, output } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const needle of [
      '--port',
      'SESSIONGRAPH_PORT',
      '--clickhouse-url',
      'CLICKHOUSE_URL',
      '--max-body-size',
      'SESSIONGRAPH_DATA_DIR',
      '--idle-timeout',
      '--body-timeout',
      'SESSIONGRAPH_MAX_CONNECTIONS',
      '--grpc-port',
      'SESSIONGRAPH_GRPC_PORT',
    ]) {
      expect(output).toContain(needle);
    }
  });

  it('a bad value stops the start with exit code 2 and the variable named', async () => {
    const { code, output } = await runCli(['serve'], { SESSIONGRAPH_PORT: 'eighty' });
    expect(code).toBe(2);
    expect(output).toContain('sessiongraph: SESSIONGRAPH_PORT="eighty" is invalid');
  });
});
