// base64 embeddings are an OpenAI wire feature (little-endian float32 bytes) that the OpenAI SDK asks for by default.
// OpenAI-wire providers produce them themselves; for any other provider the gateway asks for floats and packs them,
// so every provider serves SDK clients that never set encoding_format.

import type { EmbeddingsRequest, EmbeddingsResponse } from '../core/types.ts';

export function needsPacking(req: EmbeddingsRequest, format: string): boolean {
  return req.encoding_format === 'base64' && format !== 'openai';
}

export function asFloatRequest(req: EmbeddingsRequest): EmbeddingsRequest {
  return { ...req, encoding_format: 'float' };
}

export function packBase64(response: EmbeddingsResponse): EmbeddingsResponse {
  return {
    ...response,
    data: response.data.map((d) => ({
      ...d,
      embedding: typeof d.embedding === 'string' ? d.embedding : Buffer.from(new Float32Array(d.embedding).buffer).toString('base64'),
    })),
  };
}
