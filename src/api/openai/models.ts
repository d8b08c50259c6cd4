// GET /v1/models and GET /v1/models/{id}. Model ids may contain slashes (`anthropic/claude-sonnet-4-5`), hence the
// wildcard route (whose value the router has already URL-decoded). A key restricted to some models sees only those.
// The listing is not limited by allowed_surfaces: OpenAI's and Anthropic's SDKs both list models here.

import type { FastifyInstance } from 'fastify';
import { checkModel, visibleModels } from '../../identity/model-access.ts';
import { credentialOf } from '../../server/request.ts';
import type { Services } from '../../server/services.ts';

export function registerModelRoutes(app: FastifyInstance, { router, keyAuth }: Services): void {
  // Listing models needs the same key as using them; these routes do not run the pipeline, so they check it here.
  app.get('/v1/models', async (req) => {
    const identity = await keyAuth.authenticate(credentialOf(req), req.ip);
    return { object: 'list', data: visibleModels(identity, router) };
  });
  app.get<{ Params: { '*': string } }>('/v1/models/*', async (req) => {
    const identity = await keyAuth.authenticate(credentialOf(req), req.ip);
    const id = req.params['*'];
    const model = router.model(id);
    checkModel(identity, id, router.resolve(id));
    return model;
  });
}
