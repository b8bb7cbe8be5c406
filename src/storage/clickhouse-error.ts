/**
 * The one place a storage failure is classified. An error raised by the ClickHouse engine itself
 * (it understood the request and refused it) is recognised by shape, not `instanceof`: chDB
 * builds its errors with its own copy of @clickhouse/client-common's ClickHouseError class. Its
 * code then says whether the data was at fault or the server is unwell.
 */
import { BadDataError, UnavailableError } from '../errors.ts';

/** An error the engine raised: its numeric code as a string ('60', '252', …). */
export interface EngineError extends Error {
  code: string;
  type?: string;
}

/** True for `{ code: '<digits>' }` errors as both the HTTP client and chDB raise them. */
export function isEngineError(err: unknown): err is EngineError {
  return (
    err instanceof Error &&
    typeof (err as Partial<EngineError>).code === 'string' &&
    /^\d+$/.test((err as EngineError).code)
  );
}

/**
 * An error of the engine about the rows is the request's fault (400, never retried, so one bad
 * request cannot become a poison message); transport failures and the engine's own trouble
 * (listed below) are storage being unavailable (503, retried).
 */
export function classifyInsertError(err: unknown, noun: string): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (isEngineError(err) && !isServerTrouble(err)) {
    return new BadDataError(`storage refused the ${noun}: ${message.split('\n')[0]}`, { cause: err });
  }
  return new UnavailableError(`storage is unavailable: ${message.split('\n')[0]}`, 5, { cause: err });
}

/** True when the engine's error says the server is unwell or unreachable rather than the data bad. */
function isServerTrouble(err: EngineError): boolean {
  // Code 252 is shared: TOO_MANY_PARTS ("Too many parts …": merges lag behind inserts, so a
  // retry later succeeds) and "Too many partitions for single INSERT block" (this request's
  // spans fall on too many days: the same request fails the same way forever, and answering it
  // 503 would also mark storage unavailable for every other exporter). Only the message tells
  // them apart; the split above should keep the second from happening at all.
  if (err.code === '252' && TOO_MANY_PARTITIONS.test(err.message)) return false;
  return UNAVAILABLE_CODES.has(err.code);
}

const TOO_MANY_PARTITIONS = /too many partitions|max_partitions_per_insert_block/i;

// ClickHouse error codes that say the server is unwell or unreachable rather than the data bad:
// UNKNOWN_TABLE (60) and UNKNOWN_DATABASE (81) while a schema is missing, TIMEOUT_EXCEEDED (159),
// TOO_MANY_SIMULTANEOUS_QUERIES (202), SOCKET_TIMEOUT (209), NETWORK_ERROR (210),
// MEMORY_LIMIT_EXCEEDED (241), TABLE_IS_READ_ONLY (242), NOT_ENOUGH_SPACE (243), TOO_MANY_PARTS (252, but
// not its "too many partitions" variant: see isServerTrouble),
// ALL_CONNECTION_TRIES_FAILED (279), QUERY_WAS_CANCELLED (394), SYSTEM_ERROR (425),
// READONLY (164), ACCESS_DENIED (497), AUTHENTICATION_FAILED (516), KEEPER_EXCEPTION (999).
const UNAVAILABLE_CODES = new Set([
  '60',
  '81',
  '159',
  '164',
  '202',
  '209',
  '210',
  '241',
  '242',
  '243',
  '252',
  '279',
  '394',
  '425',
  '497',
  '516',
  '999',
]);
