/** The SELECT list that reads `otel_traces` rows back in the decoders' shape (otlp/span-row.ts: times as ns strings). */
export const RAW_SPAN_COLUMNS = `* REPLACE (
  toString(toUnixTimestamp64Nano(Timestamp)) AS Timestamp, toString(Duration) AS Duration,
  arrayMap(t -> toString(toUnixTimestamp64Nano(t)), Events.Timestamp) AS \`Events.Timestamp\`)`;
