// Token estimates for when no provider can count: gpt-tokenizer's o200k encoding over the text a request carries.
// Tokenizers differ between model families by some percent either way; an estimate is what the caller asked for.

import { countTokens } from 'gpt-tokenizer';

/** Anthropic's and OpenAI's charge for a large image is of this order; without decoding the image there is no better figure. */
export const IMAGE_TOKENS = 1600;

/** Tokens of every string in a JSON-like value (message texts, tool schemas, tool inputs), plus a fixed figure per image. */
export function estimateTokens(value: unknown): number {
  let texts = '';
  let images = 0;
  const walk = (v: unknown, key?: string): void => {
    if (typeof v === 'string') {
      // Base64 image data is charged by the picture's size, not its text length.
      if (key === 'data' || v.startsWith('data:image/')) return;
      texts += `${v}\n`;
    } else if (Array.isArray(v)) {
      for (const item of v) walk(item);
    } else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'image' || o.type === 'image_url') images++;
      for (const [k, item] of Object.entries(o)) walk(item, k);
    }
  };
  walk(value);
  return countTokens(texts) + images * IMAGE_TOKENS;
}
