// POST /v1/moderations

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../server/services.ts';
import { parseBody } from '../validation.ts';
import { modelField } from './operation-schemas.ts';
import { passOn } from './passthrough.ts';

/** OpenAI's own default, which SDK users rely on by leaving the model out; it routes to the OpenAI provider. */
export const DEFAULT_MODERATION_MODEL = 'omni-moderation-latest';

const moderationsSchema = z.looseObject({ model: modelField.optional() });

export function registerModerationRoutes(app: FastifyInstance, services: Services): void {
  app.post('/v1/moderations', (req, reply) => {
    const body = parseBody(moderationsSchema, req.body);
    const model = body.model ?? DEFAULT_MODERATION_MODEL;
    return passOn(services, req, reply, { operation: 'moderations', model, body, delivery: 'json' });
  });
}
