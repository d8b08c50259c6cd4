// POST /v1/completions: the legacy text completions API, for OpenAI-wire providers only. A chat-only provider is not
// sent a translation (the prompt as one user message): a chat model answers a prompt, it does not continue the text,
// so suffix, echo, best_of and logprobs over the prompt would all mean something else.

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../server/services.ts';
import { parseBody } from '../validation.ts';
import { modelField } from './operation-schemas.ts';
import { passOn } from './passthrough.ts';

const completionsSchema = z.looseObject({ model: modelField, stream: z.boolean().nullish() });

export function registerCompletionsRoutes(app: FastifyInstance, services: Services): void {
  app.post('/v1/completions', (req, reply) => {
    const body = parseBody(completionsSchema, req.body);
    return passOn(services, req, reply, { operation: 'completions', model: body.model, body, delivery: body.stream === true ? 'events' : 'json' });
  });
}
