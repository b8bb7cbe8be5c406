/**
 * Runs the real `sessiongraph` command (bin/sessiongraph.mjs) as a child process, the way a
 * user's `npm start` does, and waits for its "listening" line or its exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve(import.meta.dirname, '../../bin/sessiongraph.mjs');

/** A collector running as a child process. */
export interface CollectorProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process wrote to stderr so far. */
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/** Starts `sessiongraph <args>`; resolves when it listens, rejects with its output if it exits first. */
export function spawnCollector(args: string[], env: Record<string, string> = {}): Promise<CollectorProcess> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m?.[1]) {
        child.stderr?.off('data', onData);
        resolve({ child, url: m[1], output: () => output, exited });
      }
    };
    child.stderr?.on('data', onData);
    void exited.then((code) => reject(new Error(`sessiongraph exited with ${code} before listening:\n${output}`)));
  });
}

/** Runs `sessiongraph <args>` to completion and returns its exit code and output. */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, output };
}
