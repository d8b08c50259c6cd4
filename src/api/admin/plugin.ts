// The admin API as a Fastify plugin: every route of the table behind admin authentication, plus the OpenAPI document
// generated from the same table.

import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../server/services.ts';
import { adminAuthenticator } from './auth.ts';
import { openApiDocument } from './openapi.ts';
import { Download, invoke } from './route.ts';
import { ADMIN_ROUTES } from './routes/index.ts';

export const ADMIN_PREFIX = '/admin/v1';

/** `/orgs/{org_id}` → `/orgs/:org_id`. */
const fastifyPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

/** Register with `app.register(adminApi(services), { prefix: ADMIN_PREFIX })`. */
export function adminApi(services: Services): FastifyPluginAsync {
  return async (app) => {
    const authenticate = adminAuthenticator(services.config, services.store);
    const document = openApiDocument(ADMIN_ROUTES, ADMIN_PREFIX);

    // The description of the API is public, like the API's own error messages; it holds no data.
    app.get('/openapi.json', async () => document);

    for (const route of ADMIN_ROUTES) {
      app.route({
        method: route.method,
        url: fastifyPath(route.path),
        handler: async (req, reply) => {
          const actor = await authenticate(req.headers.authorization);
          const result = await invoke(route, services, actor, { params: req.params, query: req.query, body: req.body }, req.id);
          if (result instanceof Download) {
            return reply
              .header('cache-control', 'no-store')
              .header('content-type', result.contentType)
              .header('content-disposition', `attachment; filename="${result.filename}"`)
              .send(Readable.from(result.body));
          }
          // Answers may hold a key's secret (create, rotate): no cache along the way may keep them.
          return reply.code(route.status ?? 200).header('cache-control', 'no-store').send(result);
        },
      });
    }
  };
}
