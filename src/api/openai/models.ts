// GET /v1/models and GET /v1/models/{id}. Model ids may contain slashes (`anthropic/claude-sonnet-4-5`), hence the
// wildcard route (whose value the router has already URL-decoded).

import type { FastifyInstance } from 'fastify';
import { credentialOf } from '../../server/request.ts';
import type { Services } from '../../server/services.ts';

export function registerModelRoutes(app: FastifyInstance, { router, authenticate }: Services): void {
  app.get('/v1/models', async (req) => {
    authenticate(credentialOf(req), req.ip);
    return { object: 'list', data: router.models() };
  });
  app.get<{ Params: { '*': string } }>('/v1/models/*', async (req) => {
    authenticate(credentialOf(req), req.ip);
    return router.model(req.params['*']);
  });
}
