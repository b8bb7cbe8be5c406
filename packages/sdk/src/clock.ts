/**
 * Where the SDK's span times come from. Agents use the real clock (sub-millisecond); the demo
 * swaps in a simulated one to replay a month of runs in seconds.
 */
import type { HrTime } from '@opentelemetry/api';

/** Milliseconds since the epoch, fractional allowed. */
export type Clock = () => number;

const realClock: Clock = () => performance.timeOrigin + performance.now();
let current: Clock = realClock;

/** Replaces the clock the helpers stamp spans with; `undefined` restores the real one. */
export function setClock(clock: Clock | undefined): void {
  current = clock ?? realClock;
}

/** The current time as an OpenTelemetry HrTime ([seconds, nanoseconds]). */
export function nowHrTime(): HrTime {
  const ms = current();
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}
