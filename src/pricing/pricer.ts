/**
 * Cost of one LLM call in USD (SPEC §3): the user's price overrides first, then the bundled
 * `@pydantic/genai-prices` table (offline, no auto-update). `null` means unpriced — never 0.
 */
import { calcPrice } from '@pydantic/genai-prices';

/** Prices of one model in USD per million tokens; cache prices default to the input price. */
export interface ModelPrice {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}

/** Token counts to price; `input` includes the cache tokens (OpenTelemetry's meaning). */
export interface PricedUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** Prices a call, or returns null when the model is unknown to both sources. */
export type Pricer = (usage: PricedUsage, model: string, provider: string, at: Date) => number | null;

// OpenTelemetry provider names → genai-prices provider ids (CONVENTIONS.md pitfalls).
const PROVIDER_IDS: Record<string, string> = {
  'aws.bedrock': 'aws',
  x_ai: 'x-ai',
  'azure.ai.openai': 'azure',
  'azure.ai.inference': 'azure',
  mistral_ai: 'mistral',
};

/** genai-prices provider id for a provider name as instrumentations report it. */
export function toPriceProviderId(provider: string): string {
  const p = provider.toLowerCase();
  if (p.startsWith('gcp.')) return 'google';
  return PROVIDER_IDS[p] ?? p;
}

/** A pricer over the bundled table with `overrides` (model id, case-insensitive) taking precedence. */
export function createPricer(overrides: ReadonlyMap<string, ModelPrice> = new Map()): Pricer {
  // A session is re-priced whenever it is rolled up again: the table lookup (model matching) costs
  // far more than the rest of a roll-up, so answers are remembered, by every input, in a bounded map.
  const remembered = new Map<string, number | null>();
  const price = tablePricer(overrides);
  return (usage, model, provider, at) => {
    const key = `${model}|${provider}|${at.getTime()}|${usage.input}|${usage.output}|${usage.cacheRead}|${usage.cacheWrite}`;
    const known = remembered.get(key);
    if (known !== undefined) return known;
    const answer = price(usage, model, provider, at);
    if (remembered.size >= REMEMBERED_PRICES) remembered.delete(remembered.keys().next().value as string);
    remembered.set(key, answer);
    return answer;
  };
}

/** How many priced calls createPricer remembers (oldest forgotten first). */
const REMEMBERED_PRICES = 200_000;

function tablePricer(overrides: ReadonlyMap<string, ModelPrice>): Pricer {
  return (usage, model, provider, at) => {
    if (model === '') return null;
    const override = overrides.get(model.toLowerCase());
    if (override) return priceWith(override, usage);
    // The table rejects cache counts above input; such spans were already corrected upstream,
    // but keep the table call safe for any caller.
    const input = Math.max(usage.input, usage.cacheRead + usage.cacheWrite);
    const tableUsage = {
      input_tokens: input,
      output_tokens: usage.output,
      cache_read_tokens: usage.cacheRead,
      cache_write_tokens: usage.cacheWrite,
    };
    const providerId = provider ? toPriceProviderId(provider) : undefined;
    const result =
      (providerId ? calcPrice(tableUsage, model, { providerId, timestamp: at }) : null) ??
      calcPrice(tableUsage, model, { timestamp: at });
    return result ? result.total_price : null;
  };
}

function priceWith(price: ModelPrice, usage: PricedUsage): number {
  const uncached = Math.max(0, usage.input - usage.cacheRead - usage.cacheWrite);
  return (
    (uncached * price.input +
      usage.cacheRead * (price.cacheRead ?? price.input) +
      usage.cacheWrite * (price.cacheWrite ?? price.input) +
      usage.output * price.output) /
    1e6
  );
}
