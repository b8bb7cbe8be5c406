/**
 * Bytes of request bodies held in memory right now, a budget each writer keeps (batch-writer.ts)
 * beside its queue, shared by the HTTP and gRPC paths of its signal.
 */
import { OverloadedError } from '../errors.ts';

/** A request's share of the in-flight byte budget, given back by release(). */
export interface ByteLease {
  /** Takes `n` more bytes as they arrive; throws OverloadedError (429) past the budget. */
  add(n: number): void;
  /** Holds `n` bytes in all (the body after decompression). */
  resize(n: number): void;
  release(): void;
}

/** Bytes held by requests in flight, and the leases that hold them. */
export interface ByteBudget {
  readonly used: number;
  isFull(): boolean;
  lease(): ByteLease;
}

/**
 * A budget of `limit` bytes, counted as bytes arrive: a request that declares 64 MiB and sends
 * 10 bytes holds 10 bytes, so slow uploads cannot lock other exporters out. A request alone in
 * flight may exceed it (the body limit bounds it), as an empty writer takes any one request.
 */
export function createByteBudget(limit: number): ByteBudget {
  let used = 0;
  return {
    get used() {
      return used;
    },
    isFull: () => used >= limit,
    lease() {
      let held = 0;
      return {
        add(n) {
          if (used + n > limit && used > held) {
            throw new OverloadedError(
              `collector is at capacity (${used} bytes of request bodies in flight); retry later`,
            );
          }
          used += n;
          held += n;
        },
        resize(n) {
          used += n - held;
          held = n;
        },
        release() {
          used -= held;
          held = 0;
        },
      };
    },
  };
}
