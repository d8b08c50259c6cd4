// Gemini embedContent / batchEmbedContents ⇄ canonical embeddings, for targets that do not speak the Gemini API.

import { badRequest } from '../../core/errors.ts';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../core/types.ts';
import { notTranslatable } from './request.ts';
import type { EmbedContentRequest } from './wire.ts';

/**
 * One text per request, in order; `batch` says whether they came as batchEmbedContents' `requests` (for the names of
 * fields in errors). The canonical request has one `dimensions`, so the batch must agree on it.
 */
export function toEmbeddingsRequest(requests: EmbedContentRequest[], model: string, target: string, batch: boolean): EmbeddingsRequest {
  const input = requests.map((r, i) => {
    const param = batch ? `requests[${i}].` : '';
    // taskType and title change the vector Gemini computes; no other provider takes them.
    if (r.taskType !== undefined && r.taskType !== 'TASK_TYPE_UNSPECIFIED') throw notTranslatable(`${param}taskType`, target);
    if (r.title !== undefined) throw notTranslatable(`${param}title`, target);
    return r.content.parts
      .map((p, k) => {
        if (p.text === undefined) throw notTranslatable(`${param}content.parts[${k}]`, target, 'only text can be embedded there');
        return p.text;
      })
      .join('\n');
  });
  const dimensions = new Set(requests.map((r) => r.outputDimensionality));
  if (dimensions.size > 1) throw badRequest(`Every request of a batch must ask for the same outputDimensionality when routed to ${target}`, 'requests');
  const [size] = dimensions;
  return { model, input, ...(size !== undefined && { dimensions: size }) };
}

export interface ContentEmbedding {
  values: number[];
}

export function toContentEmbeddings(res: EmbeddingsResponse): ContentEmbedding[] {
  return res.data.map((d) => ({ values: d.embedding as number[] }));
}
