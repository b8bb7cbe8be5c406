/**
 * Fault injection for outage tests: wraps the embedded engine's real connection (chDB) and
 * fails every call like an unreachable server while `down` is set. Data still goes to the
 * real engine when up — this simulates the network, not ClickHouse.
 */
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';

/** A switch for the outage. */
export interface Outage {
  down: boolean;
}

type Connection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/** A client over chDB at `path` whose calls fail while `outage.down`. */
export function createFlakyClient(path: string, outage: Outage): ClickHouseClient {
  const real = createChdbConnection({ path }) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const refuse = (): never => {
    const err = new Error('connect ECONNREFUSED 127.0.0.1:8123 (simulated outage)') as NodeJS.ErrnoException;
    err.code = 'ECONNREFUSED';
    throw err;
  };
  const wrapped = new Proxy(real, {
    get(target, prop: string) {
      const value = target[prop];
      if (typeof value !== 'function') return value;
      if (prop === 'close') return value.bind(target);
      return async (...args: unknown[]) => {
        if (outage.down) refuse();
        return value.apply(target, args);
      };
    },
  });
  return createClient({ connection: wrapped as unknown as Connection });
}
