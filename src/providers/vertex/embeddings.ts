// Canonical embeddings ⇄ the Vertex AI text embeddings API (`:predict`, which serves text-embedding-* and
// gemini-embedding-001). Vertex does not take the Gemini API's batchEmbedContents body: it wants one instance per text
// and answers one prediction per instance, in order.

import { badUpstreamResponse } from '../../core/errors.ts';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../core/types.ts';
import { inputTexts } from '../gemini/embeddings.ts';

export interface PredictBody {
  instances: { content: string }[];
  parameters: { autoTruncate: boolean; outputDimensionality?: number };
}

interface PredictResponse {
  predictions?: { embeddings?: { values?: unknown; statistics?: { token_count?: number } } }[];
}

/** `user` has no Vertex field and changes nothing about the vectors, so it is left out rather than refused. */
export function buildPredictBody(req: EmbeddingsRequest): PredictBody {
  return {
    instances: inputTexts(req.input).map((content) => ({ content })),
    // Vertex cuts an over-long text down by default and says so only in a statistics flag; OpenAI refuses it, and a
    // vector of half a document passed off as the whole is worse than the error.
    parameters: { autoTruncate: false, ...(req.dimensions != null && { outputDimensionality: req.dimensions }) },
  };
}

export function parsePredictBody(body: unknown, model: string): EmbeddingsResponse {
  const predictions = (body as PredictResponse | null)?.predictions;
  if (!Array.isArray(predictions)) throw badUpstreamResponse('vertex: the predict response has no predictions list');
  let tokens = 0;
  const data = predictions.map((prediction, index) => {
    const values = prediction?.embeddings?.values;
    if (!Array.isArray(values)) throw badUpstreamResponse(`vertex: predictions[${index}] has no embedding values`);
    tokens += prediction.embeddings?.statistics?.token_count ?? 0;
    return { object: 'embedding' as const, index, embedding: values as number[] };
  });
  return { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}
