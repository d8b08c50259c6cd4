// POST /v1/embeddings

import type { FastifyInstance } from 'fastify';
import { jsonText } from '../../core/json-text.ts';
import { requestContext, sendJson } from '../../server/request.ts';
import type { Services } from '../../server/services.ts';
import { parseEmbeddingsRequest } from './schemas.ts';

export function registerEmbeddingsRoutes(app: FastifyInstance, services: Services): void {
  const { pipeline, caller, pricing } = services;
  app.post('/v1/embeddings', async (req, reply) => {
    const body = parseEmbeddingsRequest(req.body);
    const ctx = requestContext(req, reply, {
      surface: 'openai',
      operation: 'embeddings',
      model: body.model,
      stream: false,
      sizing: { prompt: body.input, maxOutputTokens: 0 },
    });
    return pipeline.run(ctx, async () => {
      const response = await caller.embeddings(ctx, body);
      return sendJson(reply, ctx, jsonText(response), pricing);
    });
  });
}
