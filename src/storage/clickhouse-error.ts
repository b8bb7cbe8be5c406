/**
 * Recognises an error raised by the ClickHouse engine itself (it understood the request and
 * refused it) as opposed to a transport failure. Checked by shape, not `instanceof`: chDB
 * builds its errors with its own copy of @clickhouse/client-common's ClickHouseError class.
 */
export interface EngineError extends Error {
  code: string;
  type?: string;
}

/** True for `{ code: '<digits>' }` errors as both the HTTP client and chDB raise them. */
export function isEngineError(err: unknown): err is EngineError {
  return err instanceof Error && typeof (err as Partial<EngineError>).code === 'string' && /^\d+$/.test((err as EngineError).code);
}
