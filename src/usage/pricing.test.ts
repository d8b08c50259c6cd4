import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Usage } from '../core/types.ts';
import { calcPrice, findProvider } from '@pydantic/genai-prices';
import { Pricing, priceUsage } from './pricing.ts';

const usage = (prompt: number, completion: number, extra: Partial<Usage> = {}): Usage => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
  ...extra,
});

/** A configured provider named after its type, as the embedded default names them. */
const p = (type: string) => ({ name: type, type });

const pricing = new Pricing({
  'vllm/llama-3-70b': { input_per_mtok: 0.5, output_per_mtok: 1.5, cached_input_per_mtok: 0.1 },
  'openai/gpt-4o': { input_per_mtok: 1, output_per_mtok: 2 },
});

test('OpenAI gpt-4o-mini: list prices, and cached input at the cached rate', () => {
  assert.deepEqual(pricing.cost(p('openai'), 'gpt-4o-mini', usage(1000, 500)), { usd: 0.00045, priced: true });
  // 600 uncached at 0.15, 400 cached at 0.075, 500 out at 0.6 (per million).
  const cached = usage(1000, 500, { prompt_tokens_details: { cached_tokens: 400 } });
  assert.deepEqual(pricing.cost(p('openai'), 'gpt-4o-mini', cached), { usd: 0.00042, priced: true });
});

test('Azure OpenAI prices the models it resells at OpenAI prices', () => {
  assert.deepEqual(pricing.cost(p('azure-openai'), 'gpt-4o-mini', usage(1000, 500)), { usd: 0.00045, priced: true });
});

test('Anthropic: cache reads and cache writes at their own rates, both parts of the prompt total', () => {
  // 500 uncached at 3, 200 read at 0.3, 300 written at 3.75, 100 out at 15.
  const u = usage(1000, 100, { prompt_tokens_details: { cached_tokens: 200, cache_creation_tokens: 300 } });
  assert.deepEqual(pricing.cost(p('anthropic'), 'claude-sonnet-4-5', u), { usd: 0.004185, priced: true });
});

test('Gemini and Vertex price from Google, long prompts at the long-context tier', () => {
  assert.deepEqual(pricing.cost(p('gemini'), 'gemini-2.5-flash', usage(1000, 100)), { usd: 0.00055, priced: true });
  // Above 200k prompt tokens gemini-2.5-pro costs 2.5 in and 15 out instead of 1.25 and 10.
  assert.deepEqual(pricing.cost(p('vertex'), 'gemini-2.5-pro', usage(300_000, 100)), { usd: 0.7515, priced: true });
  assert.deepEqual(pricing.cost(p('gemini'), 'gemini-2.5-pro', usage(1000, 100)), { usd: 0.00225, priced: true });
});

test('reasoning tokens: part of the output, at the output rate unless the model prices them apart', () => {
  const reasoning = (n: number) => usage(1000, 1000, { completion_tokens_details: { reasoning_tokens: n } });
  assert.deepEqual(pricing.cost(p('openai'), 'o3-mini', reasoning(800)), pricing.cost(p('openai'), 'o3-mini', reasoning(0)));
  assert.deepEqual(pricing.cost(p('openai'), 'o3-mini', reasoning(800)), { usd: 0.0055, priced: true });
  // 1000 in at 2; 200 plain output at 8 and 800 reasoning at 3.
  assert.deepEqual(pricing.cost(p('openrouter'), 'perplexity/sonar-deep-research', reasoning(800)), { usd: 0.006, priced: true });
});

test('a custom model priced in config, cached input at its configured rate', () => {
  const u = usage(2_000_000, 1_000_000, { prompt_tokens_details: { cached_tokens: 1_000_000 } });
  assert.deepEqual(pricing.cost(p('vllm'), 'llama-3-70b', u), { usd: 0.5 + 0.1 + 1.5, priced: true });
});

test('a config override wins over the bundled price', () => {
  assert.deepEqual(pricing.cost(p('openai'), 'gpt-4o', usage(1_000_000, 1_000_000)), { usd: 3, priced: true });
});

test('a model nobody prices costs 0 and says so', () => {
  assert.deepEqual(pricing.cost(p('openai'), 'no-such-model', usage(1000, 100)), { usd: 0, priced: false });
  // A self-hosted type is never priced by a guess from the model's name.
  assert.deepEqual(pricing.cost(p('vllm'), 'gpt-4o-mini', usage(1000, 100)), { usd: 0, priced: false });
});

test('repeated lookups give the same answer from the memo', () => {
  const fresh = new Pricing();
  const first = fresh.cost(p('anthropic'), 'claude-sonnet-4-5', usage(1000, 100));
  assert.deepEqual(fresh.cost(p('anthropic'), 'claude-sonnet-4-5', usage(1000, 100)), first);
  assert.deepEqual(fresh.cost(p('anthropic'), 'claude-sonnet-4-5', usage(2000, 200)), { usd: first.usd * 2, priced: true });
});

test('a model id that the catalogue matches by a rule rather than by its own id (Bedrock ids) is priced too', () => {
  const id = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
  const expected = calcPrice(priceUsage(usage(1000, 100)), id, { providerId: 'aws' });
  assert.ok(expected && expected.model.id !== id, 'the catalogue names this model differently');
  assert.deepEqual(pricing.cost(p('bedrock'), id, usage(1000, 100)), { usd: Math.round(expected.total_price * 1e10) / 1e10, priced: true });
});

test('overrides are keyed by the configured provider name, so two servers of one type can be priced apart', () => {
  const named = new Pricing({ 'gpu-a/llama-3-70b': { input_per_mtok: 1, output_per_mtok: 1, cached_input_per_mtok: 1, cache_write_per_mtok: 1 } });
  assert.equal(named.cost({ name: 'gpu-a', type: 'vllm' }, 'llama-3-70b', usage(1_000_000, 0)).usd, 1);
  assert.equal(named.cost({ name: 'gpu-b', type: 'vllm' }, 'llama-3-70b', usage(1_000_000, 0)).priced, false);
});

test('every catalogue model of every priced provider type costs what calcPrice says, for varied usage', () => {
  // Flat prices take a precomputed per-token path and tiered or dated ones go through calcPrice: both must agree with
  // calcPrice itself on every model, including usage it rejects (more cached than prompt tokens).
  const fresh = new Pricing();
  let seed = 7;
  const random = (max: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return Math.floor((seed / 2 ** 31) * max);
  };
  let compared = 0;
  for (const [type, providerId] of Object.entries({ openai: 'openai', anthropic: 'anthropic', gemini: 'google', bedrock: 'aws', mistral: 'mistral', deepseek: 'deepseek', openrouter: 'openrouter' })) {
    for (const model of findProvider({ providerId })!.models) {
      for (let i = 0; i < 4; i++) {
        const prompt = random(i === 3 ? 400_000 : 20_000);
        const u = usage(prompt, random(5_000), {
          prompt_tokens_details: { cached_tokens: random(prompt + 10), cache_creation_tokens: random(prompt / 4 + 1) },
          completion_tokens_details: { reasoning_tokens: random(3_000) },
        });
        let expected: { usd: number; priced: boolean };
        try {
          const price = calcPrice(priceUsage(u), model.id, { providerId });
          expected = price ? { usd: Math.round(price.total_price * 1e10) / 1e10, priced: true } : { usd: 0, priced: false };
        } catch {
          expected = { usd: 0, priced: false };
        }
        const actual = fresh.cost(p(type), model.id, u);
        assert.equal(actual.priced, expected.priced, `${type}/${model.id}`);
        assert.ok(Math.abs(actual.usd - expected.usd) <= 1e-9 * Math.max(1, expected.usd), `${type}/${model.id}: ${actual.usd} != ${expected.usd}`);
        compared++;
      }
    }
  }
  assert.ok(compared > 500, `compared ${compared}`);
});
