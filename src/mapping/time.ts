/** Span times are nanoseconds since the epoch as decimal strings (exact); these convert them. Pure. */

/** ns → Date (millisecond precision). */
export function nsToDate(ns: string): Date {
  return new Date(Number(BigInt(ns) / 1_000_000n));
}

/** ns → ISO 8601 UTC with milliseconds, the API's time format. */
export function nsToIso(ns: string): string {
  return nsToDate(ns).toISOString();
}
