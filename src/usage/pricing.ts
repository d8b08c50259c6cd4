// What a request cost, from the bundled @pydantic/genai-prices data (never its remote update: prices change only with a
// release of the gateway) and the config's pricing section, which wins over it.

import { calcPrice, type ModelInfo, type Provider, type Usage as PriceUsage } from '@pydantic/genai-prices';
import type { ModelPrice } from '../config/schema.ts';
import type { Usage } from '../core/types.ts';

export interface Cost {
  usd: number;
  /** False when neither the config nor the bundled data has a price for the model: usd is then 0. */
  priced: boolean;
}

/**
 * The price data's provider id for each provider type. Types missing here (vllm, ollama, openai-compatible, …) serve
 * self-hosted or unknown models, so they are priced from the config only rather than by a guess from the model name.
 */
const PRICE_PROVIDER: Readonly<Record<string, string>> = {
  openai: 'openai',
  // The azure price data falls back to OpenAI's for the models Azure resells.
  'azure-openai': 'azure',
  anthropic: 'anthropic',
  gemini: 'google',
  vertex: 'google',
  bedrock: 'aws',
  mistral: 'mistral',
  cohere: 'cohere',
  groq: 'groq',
  deepseek: 'deepseek',
  xai: 'x-ai',
  together: 'together',
  fireworks: 'fireworks',
  openrouter: 'openrouter',
};

const UNPRICED: Cost = { usd: 0, priced: false };

/** Clients choose model names, so the memo is capped: past this many it starts over rather than grow without bound. */
const MEMO_LIMIT = 10_000;

export class Pricing {
  /**
   * Per "<provider name>/<model>": a provider holding just the one model that prices it, or null when nothing does. The
   * first request for a model searches the whole catalogue; later ones hand calcPrice a catalogue of one.
   */
  private readonly resolved = new Map<string, Resolved | null>();

  constructor(private readonly overrides: Readonly<Record<string, ModelPrice>> = {}) {}

  /**
   * `provider`: the configured provider (its name keys the config's overrides, as clients address models:
   * `<provider>/<model>`; its type picks the bundled prices).
   */
  cost(provider: { name: string; type: string }, providerModel: string, usage: Usage): Cost {
    const priced = this.lookup(provider, providerModel);
    if (!priced) return UNPRICED;
    if (priced.rates) {
      const usd = linearCost(priced.rates, usage);
      if (usd !== undefined) return { usd: roundUsd(usd), priced: true };
    }
    try {
      const result = calcPrice(priceUsage(usage), providerModel, { provider: priced.provider });
      return result ? { usd: roundUsd(result.total_price), priced: true } : UNPRICED;
    } catch {
      // The price data rejects inconsistent counts (cache reads above the prompt total); a provider's odd usage
      // numbers must not fail a request it has already answered.
      return UNPRICED;
    }
  }

  /** The model's context window in tokens, as the price data records it (not every entry does). */
  contextWindow(provider: { name: string; type: string }, providerModel: string): number | undefined {
    return this.lookup(provider, providerModel)?.provider.models[0]!.context_window;
  }

  private lookup(provider: { name: string; type: string }, providerModel: string): Resolved | null {
    const key = `${provider.name}/${providerModel}`;
    let priced = this.resolved.get(key);
    if (priced === undefined) {
      try {
        priced = this.resolve(key, provider.type, providerModel);
      } catch {
        // Price data the library cannot evaluate for this model: unpriced, never a failed request.
        priced = null;
      }
      if (this.resolved.size >= MEMO_LIMIT) this.resolved.clear();
      this.resolved.set(key, priced);
    }
    return priced;
  }

  private resolve(key: string, providerType: string, providerModel: string): Resolved | null {
    const override = this.overrides[key];
    if (override) return resolved(single(`config:${providerType}`, { id: providerModel, match: { equals: providerModel }, prices: configPrices(override) }), providerModel);
    const providerId = PRICE_PROVIDER[providerType];
    if (!providerId) return null;
    const found = calcPrice({ input_tokens: 0 }, providerModel, { providerId });
    if (!found) return null;
    // Matched again by exact id, since the catalogue's own match rules already chose this model for this id.
    return resolved(single(found.provider.id, { ...found.model, match: { equals: providerModel } }), providerModel);
  }
}

/**
 * Per-token rates (USD per token) of a model whose price is flat: no price tiers by prompt length and no prices that
 * change by date or time of day. Such a price is linear in the token counts, so it is read off the price data once
 * (by pricing one token of each kind with calcPrice) and then applied by arithmetic: calcPrice's generic unit algebra
 * cost about a tenth of the gateway's CPU per request when run on every answer.
 */
interface Rates {
  request: number;
  input: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
  reasoning: number;
}

interface Resolved {
  provider: Provider;
  /** Undefined for tiered or time-dependent prices, which calcPrice works out per request. */
  rates: Rates | undefined;
}

/** `model`: the name the one model of `provider` matches, which is the provider's model id, not always the catalogue's. */
function resolved(provider: Provider, model: string): Resolved {
  const prices = provider.models[0]!.prices;
  const flat = !Array.isArray(prices) && Object.values(prices).every((price) => price === undefined || typeof price === 'number');
  return { provider, rates: flat ? ratesOf(provider, model) : undefined };
}

function ratesOf(provider: Provider, model: string): Rates {
  const total = (usage: PriceUsage) => calcPrice(usage, model, { provider })!.total_price;
  const request = total({});
  const per = (usage: PriceUsage) => total(usage) - request;
  return {
    request,
    input: per({ input_tokens: 1 }),
    cacheRead: per({ input_tokens: 1, cache_read_tokens: 1 }),
    cacheWrite: per({ input_tokens: 1, cache_write_tokens: 1 }),
    output: per({ output_tokens: 1 }),
    reasoning: per({ output_tokens: 1, output_reasoning_tokens: 1 }),
  };
}

/** Undefined for counts the price data would reject (more cached than prompt tokens), which calcPrice then judges. */
function linearCost(rates: Rates, usage: Usage): number | undefined {
  const cacheRead = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const cacheWrite = usage.prompt_tokens_details?.cache_creation_tokens ?? 0;
  const reasoning = usage.completion_tokens_details?.reasoning_tokens ?? 0;
  const uncached = usage.prompt_tokens - cacheRead - cacheWrite;
  const plainOutput = usage.completion_tokens - reasoning;
  if (uncached < 0 || plainOutput < 0 || cacheRead < 0 || cacheWrite < 0 || reasoning < 0) return undefined;
  return (
    rates.request +
    uncached * rates.input +
    cacheRead * rates.cacheRead +
    cacheWrite * rates.cacheWrite +
    plainOutput * rates.output +
    reasoning * rates.reasoning
  );
}

/** Summing the parts leaves float residue (0.0041849999999999995); a tenth of a nano-dollar is far below any price. */
function roundUsd(usd: number): number {
  return Math.round(usd * 1e10) / 1e10;
}

function single(id: string, model: ModelInfo): Provider {
  return { id, name: id, api_pattern: '', models: [model] };
}

function configPrices(price: ModelPrice): Record<string, number> {
  return {
    input_mtok: price.input_per_mtok,
    output_mtok: price.output_per_mtok,
    cache_read_mtok: price.cached_input_per_mtok ?? price.input_per_mtok,
    cache_write_mtok: price.cache_write_per_mtok ?? price.input_per_mtok,
  };
}

/**
 * The price data's usage: input_tokens is the whole prompt with cache reads and writes as parts of it, and reasoning
 * tokens are a part of output_tokens, priced at their own rate where a model has one and at the output rate otherwise.
 */
export function priceUsage(usage: Usage): PriceUsage {
  return {
    input_tokens: usage.prompt_tokens,
    cache_read_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    cache_write_tokens: usage.prompt_tokens_details?.cache_creation_tokens ?? 0,
    output_tokens: usage.completion_tokens,
    output_reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}
