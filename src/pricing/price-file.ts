/**
 * `--prices FILE` (SESSIONGRAPH_PRICES): per-model prices in USD per million tokens, JSON or
 * YAML, overriding or extending the bundled table. Accepted shape, with or without `models:`:
 *
 *   models:
 *     my-finetune: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 }
 */
import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { ModelPrice } from './pricer.ts';

/** A price file that cannot be used; the message names the file, the model and the field. */
export class PriceFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PriceFileError';
  }
}

const FIELD_NAMES: Record<string, keyof ModelPrice> = {
  input: 'input',
  output: 'output',
  cache_read: 'cacheRead',
  'cache-read': 'cacheRead',
  cacheRead: 'cacheRead',
  cache_write: 'cacheWrite',
  'cache-write': 'cacheWrite',
  cacheWrite: 'cacheWrite',
};

/** Parses price-file text (JSON is valid YAML) into overrides keyed by lowercase model id. */
export function parsePriceFile(text: string, fileName: string): Map<string, ModelPrice> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new PriceFileError(`${fileName}: not valid JSON or YAML: ${(err as Error).message}`);
  }
  const root = isObject(doc) && isObject(doc.models) ? doc.models : doc;
  if (!isObject(root))
    throw new PriceFileError(
      `${fileName}: expected a map of model → prices, e.g. {"models": {"my-model": {"input": 3, "output": 15}}}`,
    );
  const out = new Map<string, ModelPrice>();
  for (const [model, value] of Object.entries(root)) {
    if (!isObject(value))
      throw new PriceFileError(
        `${fileName}: model ${JSON.stringify(model)}: expected {input, output, cache_read?, cache_write?}`,
      );
    const price: Partial<ModelPrice> = {};
    for (const [field, raw] of Object.entries(value)) {
      const key = FIELD_NAMES[field];
      if (!key)
        throw new PriceFileError(
          `${fileName}: model ${JSON.stringify(model)}: unknown field ${JSON.stringify(field)} (input, output, cache_read, cache_write)`,
        );
      if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 0) {
        throw new PriceFileError(
          `${fileName}: model ${JSON.stringify(model)}: ${field} must be a non-negative number of USD per million tokens, got ${JSON.stringify(raw)}`,
        );
      }
      price[key] = raw;
    }
    if (price.input === undefined || price.output === undefined) {
      throw new PriceFileError(`${fileName}: model ${JSON.stringify(model)}: input and output prices are required`);
    }
    out.set(model.toLowerCase(), price as ModelPrice);
  }
  return out;
}

/** Reads and parses a price file. */
export function loadPriceFile(path: string): Map<string, ModelPrice> {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new PriceFileError(`${path}: cannot read the price file: ${(err as Error).message}`);
  }
  return parsePriceFile(text, path);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
