// GET /health: the process is alive. GET /ready: it is accepting traffic (503 while shutting down, so a load
// balancer drains it before it stops).

import type { FastifyInstance } from 'fastify';
import type { Services } from '../../server/services.ts';

export function registerHealthRoutes(app: FastifyInstance, { config }: Services, isClosing: () => boolean): void {
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_req, reply) => {
    if (isClosing()) return reply.code(503).send({ status: 'shutting_down' });
    return { status: 'ready', providers: [...config.providers.keys()] };
  });
}
