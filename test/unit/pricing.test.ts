/**
 * Cost (SPEC §3): the bundled table with cache tokens against a hand calculation, the
 * precomputed cost attribute winning, unknown models listed as unpriced (never 0), and a
 * price file overriding the table.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rollUpTrace } from '../../src/mapping/roll-up.ts';
import { toSpanFacts } from '../../src/mapping/span-facts.ts';
import { createPricer, toPriceProviderId } from '../../src/pricing/pricer.ts';
import { loadPriceFile, parsePriceFile, PriceFileError } from '../../src/pricing/price-file.ts';
import type { SpanRow } from '../../src/otlp/span-row.ts';
import { tempDir } from '../helpers/collector.ts';
import { testSpan } from '../helpers/span-row.ts';

const AT = new Date('2026-11-20T00:00:00Z');

describe('bundled price table', () => {
  it('prices claude-sonnet-4-5 with cache reads and writes as a hand calculation does', () => {
    // 10,000 input tokens of which 6,000 cache reads and 2,000 cache writes, 500 output:
    // uncached 2,000 × $3 + 6,000 × $0.30 + 2,000 × $3.75 + 500 × $15 per million
    // = 6,000 + 1,800 + 7,500 + 7,500 = 22,800 µ$ = $0.0228
    const price = createPricer()(
      { input: 10_000, output: 500, cacheRead: 6_000, cacheWrite: 2_000 },
      'claude-sonnet-4-5',
      'anthropic',
      AT,
    );
    expect(price).toBeCloseTo(0.0228, 12);
  });

  it('prices gpt-4o with cached input: 1,000 input incl. 400 cached, 100 output', () => {
    // 600 × $2.50 + 400 × $1.25 + 100 × $10 per million = 1,500 + 500 + 1,000 µ$
    expect(
      createPricer()({ input: 1000, output: 100, cacheRead: 400, cacheWrite: 0 }, 'gpt-4o', 'openai', AT),
    ).toBeCloseTo(0.003, 12);
  });

  it('maps OpenTelemetry provider names and falls back to the model alone', () => {
    expect(toPriceProviderId('aws.bedrock')).toBe('aws');
    expect(toPriceProviderId('gcp.vertex_ai')).toBe('google');
    expect(toPriceProviderId('x_ai')).toBe('x-ai');
    expect(toPriceProviderId('azure.ai.openai')).toBe('azure');
    expect(toPriceProviderId('mistral_ai')).toBe('mistral');
    // an unknown provider name does not make a known model unpriced
    expect(
      createPricer()({ input: 1000, output: 0, cacheRead: 0, cacheWrite: 0 }, 'gpt-4o', 'my-gateway', AT),
    ).toBeCloseTo(0.0025, 12);
  });

  it('returns null (unpriced), not 0, for a model it does not know', () => {
    expect(
      createPricer()({ input: 1000, output: 100, cacheRead: 0, cacheWrite: 0 }, 'acme-llm-7b', 'acme', AT),
    ).toBeNull();
    expect(createPricer()({ input: 1000, output: 100, cacheRead: 0, cacheWrite: 0 }, '', '', AT)).toBeNull();
  });
});

describe('price file', () => {
  it('overrides and extends the table, from YAML or JSON', () => {
    const overrides = parsePriceFile(
      'models:\n  gpt-4o: { input: 1, output: 2 }\n  acme-llm-7b:\n    input: 0.5\n    output: 1.5\n    cache_read: 0.05\n',
      'prices.yaml',
    );
    const pricer = createPricer(overrides);
    // gpt-4o overridden: 1,000 × $1 + 100 × $2 per million (cache price defaults to the input price)
    expect(pricer({ input: 1000, output: 100, cacheRead: 400, cacheWrite: 0 }, 'GPT-4o', 'openai', AT)).toBeCloseTo(
      0.0012,
      12,
    );
    // acme added: 600 × 0.5 + 400 × 0.05 + 100 × 1.5 = 300 + 20 + 150 µ$
    expect(pricer({ input: 1000, output: 100, cacheRead: 400, cacheWrite: 0 }, 'acme-llm-7b', '', AT)).toBeCloseTo(
      0.00047,
      12,
    );
    const json = parsePriceFile('{"acme-llm-7b": {"input": 2, "output": 4}}', 'prices.json');
    expect(json.get('acme-llm-7b')).toEqual({ input: 2, output: 4 });
  });

  it.each([
    ['[1, 2]', /expected a map of model/],
    ['m: { input: 1 }', /model "m": input and output prices are required/],
    ['m: { input: -1, output: 1 }', /model "m": input must be a non-negative number/],
    ['m: { input: 1, output: 1, cached: 3 }', /model "m": unknown field "cached"/],
    ['m: [', /not valid JSON or YAML/],
  ])('refuses %j with a message naming the problem', (text, message) => {
    expect(() => parsePriceFile(text, 'p.yaml')).toThrow(PriceFileError);
    expect(() => parsePriceFile(text, 'p.yaml')).toThrow(message);
  });

  it('names a file it cannot read', () => {
    const missing = path.join(tempDir(), 'nope.yaml');
    expect(() => loadPriceFile(missing)).toThrow(`${missing}: cannot read the price file`);
    const file = path.join(tempDir(), 'ok.json');
    fs.writeFileSync(file, '{"x": {"input": 1, "output": 1}}');
    expect(loadPriceFile(file).size).toBe(1);
  });
});

const row = (spanId: string, parent: string, attrs: Record<string, string>): SpanRow => testSpan(spanId, parent, attrs);

describe('session cost', () => {
  const root = row('0000000000000001', '', { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'a' });
  const chat = (id: string, attrs: Record<string, string>): SpanRow =>
    row(id, '0000000000000001', {
      'gen_ai.operation.name': 'chat',
      'gen_ai.usage.input_tokens': '1000',
      'gen_ai.usage.output_tokens': '100',
      ...attrs,
    });
  const rollUp = (rows: SpanRow[], pricer = createPricer()) =>
    rollUpTrace(rows.map(toSpanFacts), { nowNs: 0n, abandonAfterNs: 0n, pricer }).session;

  it('a precomputed cost attribute wins over the table', () => {
    const s = rollUp([
      root,
      chat('0000000000000002', { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.cost': '0.5' }),
    ]);
    expect(Number(s.cost)).toBe(0.5);
  });

  it('an unknown model is listed as unpriced and adds nothing; known ones are still priced', () => {
    const s = rollUp([
      root,
      chat('0000000000000002', { 'gen_ai.request.model': 'acme-llm-7b' }),
      chat('0000000000000003', { 'gen_ai.request.model': 'gpt-4o' }), // 1000 × 2.5 + 100 × 10 = 3,500 µ$
      chat('0000000000000004', {}),
    ]);
    expect(s.unpriced_models).toEqual(['acme-llm-7b', 'unknown']);
    expect(Number(s.cost)).toBeCloseTo(0.0035, 9);
    expect(s.tokens_used).toBe(3 * 1100);
  });

  it('the override file wins over the table', () => {
    const s = rollUp(
      [root, chat('0000000000000002', { 'gen_ai.request.model': 'gpt-4o' })],
      createPricer(parsePriceFile('gpt-4o: {input: 10, output: 10}', 'p')),
    );
    expect(Number(s.cost)).toBeCloseTo(0.011, 9); // 1100 tokens × $10 per million
  });
});
