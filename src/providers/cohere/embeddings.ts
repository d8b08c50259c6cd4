// Canonical embeddings ⇄ Cohere v2 Embed (POST /v2/embed): texts in, float vectors by type out.

import { badRequest, badUpstreamResponse, unsupportedParam } from '../../core/errors.ts';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../core/types.ts';

const INPUT_TYPES = new Set(['search_document', 'search_query', 'classification', 'clustering']);

/** The request fields this adapter reads: the OpenAI ones plus Cohere's input_type, which has no OpenAI counterpart. */
const KNOWN_FIELDS = new Set(['model', 'input', 'encoding_format', 'dimensions', 'user', 'input_type']);

interface CohereEmbedBody {
  model: string;
  texts: string[];
  input_type: string;
  embedding_types: ['float'];
  output_dimension?: number;
}

interface CohereEmbedResponse {
  embeddings?: { float?: number[][] };
  meta?: { billed_units?: { input_tokens?: number }; tokens?: { input_tokens?: number } };
}

/**
 * Cohere's v3+ embedding models need to know what the text is for. OpenAI clients send no such thing, so stored
 * documents (`search_document`) are assumed; a client embedding queries sends `input_type: "search_query"` beside the
 * usual fields (the OpenAI SDKs pass unknown fields through as extra body parameters).
 */
export function buildEmbedBody(req: EmbeddingsRequest, model: string, provider: string): CohereEmbedBody {
  for (const [key, value] of Object.entries(req)) {
    if (!KNOWN_FIELDS.has(key) && value != null) {
      throw unsupportedParam(provider, key, 'Cohere embeddings have no equivalent; remove it.');
    }
  }
  const inputType = req.input_type ?? 'search_document';
  if (typeof inputType !== 'string' || !INPUT_TYPES.has(inputType)) {
    throw badRequest(`input_type must be one of ${[...INPUT_TYPES].join(', ')}`, 'input_type');
  }
  const body: CohereEmbedBody = { model, texts: inputTexts(req.input), input_type: inputType, embedding_types: ['float'] };
  if (req.dimensions != null) body.output_dimension = req.dimensions;
  return body;
}

function inputTexts(input: EmbeddingsRequest['input']): string[] {
  const texts = Array.isArray(input) ? input : [input];
  if (texts.length === 0) throw badRequest('input must not be empty', 'input');
  return texts.map((text, i) => {
    if (typeof text !== 'string') {
      throw badRequest(`input holds token ids (at input[${i}]); Cohere embeds text only, so send the text itself`, 'input');
    }
    return text;
  });
}

export function parseEmbedBody(body: unknown, model: string): EmbeddingsResponse {
  const vectors = (body as CohereEmbedResponse | null)?.embeddings?.float;
  if (!Array.isArray(vectors)) throw badUpstreamResponse('cohere: the embed response has no embeddings.float list');
  const meta = (body as CohereEmbedResponse).meta;
  const tokens = meta?.billed_units?.input_tokens ?? meta?.tokens?.input_tokens ?? 0;
  return {
    object: 'list',
    data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
