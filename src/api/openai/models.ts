// GET /v1/models and GET /v1/models/{id}. Model ids may contain slashes (`anthropic/claude-sonnet-4-5`), hence the
// wildcard route (whose value the router has already URL-decoded).

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { credentialOf } from '../../server/request.ts';
import type { Services } from '../../server/services.ts';

export function registerModelRoutes(app: FastifyInstance, { router, authenticate }: Services): void {
  // Listing models needs the same key as using them; these routes do not run the pipeline, so they check it here.
  const onRequest = async (req: FastifyRequest) => authenticate(credentialOf(req), req.ip);
  app.get('/v1/models', { onRequest }, async () => ({ object: 'list', data: router.models() }));
  app.get<{ Params: { '*': string } }>('/v1/models/*', { onRequest }, async (req) => router.model(req.params['*']));
}
