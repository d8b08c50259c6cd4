// Token estimates for when no provider can count: gpt-tokenizer's o200k encoding over the text a request carries.
// Tokenizers differ between model families by some percent either way; an estimate is what the caller asked for.

import { countTokens } from 'gpt-tokenizer';
import type { RequestContext } from '../pipeline/context.ts';

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

/** A message's or a stream delta's generated content: text, reasoning, tool names and arguments, without the envelope. */
export interface Generated {
  content?: unknown;
  reasoning_content?: string;
  tool_calls?: readonly { function?: { name?: string; arguments?: string } }[];
}

/** The generated text of messages or deltas, joined as the model produced it (so a streamed answer counts as a whole one). */
export function generatedText(pieces: readonly Generated[]): string {
  let text = '';
  for (const p of pieces) {
    if (typeof p.content === 'string') text += p.content;
    if (p.reasoning_content) text += p.reasoning_content;
    for (const call of p.tool_calls ?? []) text += (call.function?.name ?? '') + (call.function?.arguments ?? '');
  }
  return text;
}

/**
 * Usage for an answer whose provider reported none (some OpenAI-compatible servers, some streams): the prompt the
 * request carried and the output it got, counted by estimateTokens. The record is marked estimated.
 */
export function estimateUsage(ctx: RequestContext, output: unknown): void {
  const prompt = ctx.sizing ? estimateTokens(ctx.sizing.prompt) : 0;
  const completion = estimateTokens(output);
  ctx.usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  ctx.usageEstimated = true;
}
