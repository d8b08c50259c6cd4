// GET /v1/models and GET /v1/models/{id}. Model ids may contain slashes (`anthropic/claude-sonnet-4-5`), hence the
// wildcard route.

import type { FastifyInstance } from 'fastify';
import type { Services } from '../../server/services.ts';

export function registerModelRoutes(app: FastifyInstance, { router }: Services): void {
  app.get('/v1/models', async () => ({ object: 'list', data: router.models() }));
  app.get<{ Params: { '*': string } }>('/v1/models/*', async (req) => router.model(decodeURIComponent(req.params['*'])));
}
