// POST /v1/images/generations

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../server/services.ts';
import { parseBody } from '../validation.ts';
import { modelField } from './operation-schemas.ts';
import { passOn } from './passthrough.ts';

// OpenAI falls back to dall-e-2 without a model; the gateway needs one to route by, so it is required here.
// Streamed image generation (partial images as events) is not relayed yet: refused rather than failed after the work.
const imagesSchema = z.looseObject({ model: modelField, stream: z.literal(false, { error: 'streamed image generation is not supported by this gateway; leave stream unset' }).optional() });

export function registerImageRoutes(app: FastifyInstance, services: Services): void {
  app.post('/v1/images/generations', (req, reply) => {
    const body = parseBody(imagesSchema, req.body);
    return passOn(services, req, reply, { operation: 'images', model: body.model, body, delivery: 'json' });
  });
}
