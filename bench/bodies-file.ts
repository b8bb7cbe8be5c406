/**
 * Request bodies shared by the bench's processes through one file: each body as a 4-byte
 * big-endian length and its bytes. The orchestrator writes it once; the senders and the
 * ceiling read the very same requests.
 */
import fs from 'node:fs';

/** Writes `bodies` to `file`. */
export function writeBodies(file: string, bodies: readonly Uint8Array[]): void {
  const parts: Buffer[] = [];
  for (const body of bodies) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length);
    parts.push(length, Buffer.from(body));
  }
  fs.writeFileSync(file, Buffer.concat(parts));
}

/** Reads the bodies `writeBodies` wrote. */
export function readBodies(file: string): Uint8Array[] {
  const data = fs.readFileSync(file);
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length;) {
    const length = data.readUInt32BE(at);
    out.push(data.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return out;
}
