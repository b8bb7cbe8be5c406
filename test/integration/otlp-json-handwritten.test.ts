/**
 * Hand-written OTLP/JSON over a real loopback port: the forms producers other than the JS SDK
 * send (bare 64-bit numbers, enum names, snake_case keys, uppercase hex, unknown fields) must be
 * stored exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../../collector/server.ts';
import { queryRows, startTestCollector, tempDir } from '../helpers/collector.ts';

let collector: RunningCollector;

beforeAll(async () => {
  collector = await startTestCollector(tempDir());
});

afterAll(async () => {
  await collector?.close();
});

describe('hand-written OTLP/JSON', () => {
  it('stores bare and quoted 64-bit values, enum names and numbers, snake_case keys and uppercase hex exactly', async () => {
    // A raw string, not JSON.stringify: the bare integers below must reach the collector unrounded.
    const body = `{
      "resource_spans": [{
        "resource": {
          "attributes": [
            { "key": "service.name", "value": { "string_value": "handwritten" } },
            { "key": "res.int", "value": { "int_value": 12 } }
          ],
          "dropped_attributes_count": 0
        },
        "unknown_resource_spans_field": { "nested": [1, 2, { "x": null }] },
        "scope_spans": [{
          "scope": { "name": "hand-scope", "version": "0.0.1" },
          "spans": [
            {
              "trace_id": "5B8EFFF798038103D269B633813FC60C",
              "span_id": "EEE19B7EC3C1B174",
              "trace_state": "k1=v1",
              "name": "a-snake",
              "kind": "SPAN_KIND_SERVER",
              "start_time_unix_nano": 1767225600000000001,
              "end_time_unix_nano": 1767225600000001002,
              "attributes": [
                { "key": "int.quoted", "value": { "int_value": "9007199254740993" } },
                { "key": "int.bare", "value": { "int_value": 9007199254740993 } },
                { "key": "int.min", "value": { "intValue": "-9223372036854775808" } }
              ],
              "events": [{
                "time_unix_nano": 1767225600000000999,
                "name": "bare-time",
                "attributes": [{ "key": "flag", "value": { "bool_value": false } }]
              }],
              "links": [{
                "trace_id": "5B8EFFF798038103D269B633813FC60D",
                "span_id": "EEE19B7EC3C1B175",
                "trace_state": "lk=lv",
                "attributes": [{ "key": "l", "value": { "string_value": "linked" } }]
              }],
              "status": { "code": "STATUS_CODE_ERROR", "message": "bad things" },
              "flags": 769,
              "an_unknown_field": { "deep": { "deeper": [1767225600000000001, "x"] } }
            },
            {
              "traceId": "5b8efff798038103d269b633813fc60c",
              "spanId": "0000000000000ABC",
              "parentSpanId": "EEE19B7EC3C1B174",
              "name": "b-camel",
              "kind": 3,
              "startTimeUnixNano": "1767225600999999999",
              "endTimeUnixNano": "1767225601000000000",
              "attributes": [{ "key": "d", "value": { "doubleValue": 0.25 } }],
              "events": [{ "timeUnixNano": "1767225600999999999", "name": "string-time" }],
              "status": { "code": 1 }
            }
          ]
        }]
      }],
      "unknownTopLevel": true
    }`;
    const res = await postJson(body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});

    const rows = await storedRows('handwritten');
    const resource = { 'service.name': 'handwritten', 'res.int': '12' };
    const common = {
      ServiceName: 'handwritten',
      ResourceAttributes: resource,
      ScopeName: 'hand-scope',
      ScopeVersion: '0.0.1',
    };
    expect(rows).toEqual([
      {
        ...common,
        ts_text: '2026-01-01 00:00:00.000000001',
        TraceId: '5b8efff798038103d269b633813fc60c',
        SpanId: 'eee19b7ec3c1b174',
        ParentSpanId: '',
        TraceState: 'k1=v1',
        SpanName: 'a-snake',
        SpanKind: 'Server',
        SpanAttributes: {
          'int.quoted': '9007199254740993',
          'int.bare': '9007199254740993',
          'int.min': '-9223372036854775808',
        },
        Duration: '1001',
        StatusCode: 'Error',
        StatusMessage: 'bad things',
        ev_ts_text: ['2026-01-01 00:00:00.000000999'],
        'Events.Name': ['bare-time'],
        'Events.Attributes': [{ flag: 'false' }],
        'Links.TraceId': ['5b8efff798038103d269b633813fc60d'],
        'Links.SpanId': ['eee19b7ec3c1b175'],
        'Links.TraceState': ['lk=lv'],
        'Links.Attributes': [{ l: 'linked' }],
      },
      {
        ...common,
        ts_text: '2026-01-01 00:00:00.999999999',
        TraceId: '5b8efff798038103d269b633813fc60c',
        SpanId: '0000000000000abc',
        ParentSpanId: 'eee19b7ec3c1b174',
        TraceState: '',
        SpanName: 'b-camel',
        SpanKind: 'Client',
        SpanAttributes: { d: '0.25' },
        Duration: '1',
        StatusCode: 'Ok',
        StatusMessage: '',
        ev_ts_text: ['2026-01-01 00:00:00.999999999'],
        'Events.Name': ['string-time'],
        'Events.Attributes': [{}],
        'Links.TraceId': [],
        'Links.SpanId': [],
        'Links.TraceState': [],
        'Links.Attributes': [],
      },
    ]);
  });

  it('stores doubles whose shortest form has 16 or more fractional digits (0.1 + 0.2, Math.random())', async () => {
    // JSON.stringify writes these as bare numbers; the SDK's JSON exporter sends them the same way.
    const values = [0.1 + 0.2, 0.8444218515250481, 0.00036899999999999997];
    const body = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'long-doubles' } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: '0af7651916cd43dd8448eb211c80319c',
                  spanId: 'b7ad6b7169203331',
                  name: 'doubles',
                  startTimeUnixNano: '1767225600000000000',
                  endTimeUnixNano: '1767225600000000000',
                  attributes: values.map((v, i) => ({ key: `d${i}`, value: { doubleValue: v } })),
                },
              ],
            },
          ],
        },
      ],
    });
    expect(body).toContain('"doubleValue":0.30000000000000004');
    const res = await postJson(body);
    expect(res.status, await res.clone().text()).toBe(200);
    const [row] = await storedRows('long-doubles');
    expect(row?.SpanAttributes).toEqual({
      d0: '0.30000000000000004',
      d1: '0.8444218515250481',
      d2: '0.00036899999999999997',
    });
  });
});

// ───────────────────────────── helpers ─────────────────────────────

function postJson(body: string): Promise<Response> {
  return fetch(`${collector.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
}

/** Rows of one service, with DateTime64 values as UTC text and Duration as exact decimal text. */
async function storedRows(service: string): Promise<Array<Record<string, unknown>>> {
  const rows = await queryRows(
    collector.storage,
    `SELECT * REPLACE (toString(Duration) AS Duration), toString(Timestamp, 'UTC') AS ts_text,
            arrayMap(t -> toString(t, 'UTC'), Events.Timestamp) AS ev_ts_text
     FROM sessiongraph.otel_traces WHERE ServiceName = {s:String} ORDER BY SpanName`,
    { s: service },
  );
  return rows.map(({ Timestamp: _t, 'Events.Timestamp': _e, ...rest }) => rest);
}
