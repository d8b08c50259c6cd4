// Canonical embeddings ⇄ Gemini batchEmbedContents: one EmbedContentRequest per input string, answered in order.

import { badRequest, unsupportedParam } from '../../core/errors.ts';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../core/types.ts';
import { badUpstream } from './chat.ts';

interface EmbedContentRequest {
  model: string;
  content: { parts: { text: string }[] };
  outputDimensionality?: number;
}

interface BatchEmbedContentsResponse {
  embeddings?: { values?: number[] }[];
  usageMetadata?: { promptTokenCount?: number; totalTokenCount?: number };
}

/** `model` is the bare id; every request inside the batch must name it as a resource. `user` has no Gemini field. */
export function buildEmbeddingsBody(req: EmbeddingsRequest, model: string, provider: string): { requests: EmbedContentRequest[] } {
  // The float-to-base64 packing would have to happen when the response is parsed, which does not see the request;
  // refusing is better than handing a client floats where it will decode base64.
  if (req.encoding_format === 'base64') {
    throw unsupportedParam(provider, 'encoding_format', "Gemini returns floats and this gateway does not repack them for Gemini; send encoding_format 'float'");
  }
  return {
    requests: inputTexts(req.input).map((text) => ({
      model: `models/${model}`,
      content: { parts: [{ text }] },
      ...(req.dimensions != null && { outputDimensionality: req.dimensions }),
    })),
  };
}

export function inputTexts(input: EmbeddingsRequest['input']): string[] {
  const texts = Array.isArray(input) ? input : [input];
  if (texts.length === 0) throw badRequest('input must not be empty', 'input');
  return texts.map((text, i) => {
    if (typeof text !== 'string') {
      throw badRequest(`input holds token ids (at input[${i}]); Gemini embeds text only, so send the text itself`, 'input');
    }
    return text;
  });
}

/** Gemini reports no token usage for embeddings today; when it does not, usage is 0 rather than a guess. */
export function parseEmbeddingsBody(body: unknown, model: string): EmbeddingsResponse {
  const res = (body ?? {}) as BatchEmbedContentsResponse;
  if (!Array.isArray(res.embeddings)) throw badUpstream('the batchEmbedContents response has no embeddings list');
  const data = res.embeddings.map((e, index) => {
    if (!Array.isArray(e.values)) throw badUpstream(`embeddings[${index}] has no values`);
    return { object: 'embedding' as const, index, embedding: e.values };
  });
  const prompt = res.usageMetadata?.promptTokenCount ?? 0;
  return { object: 'list', data, model, usage: { prompt_tokens: prompt, total_tokens: res.usageMetadata?.totalTokenCount ?? prompt } };
}
