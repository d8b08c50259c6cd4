// GET /metrics (config metrics.path): the Prometheus scrape endpoint. Unauthenticated, as scrapers expect: it holds
// counts and names of routes and providers, never keys or prompts; team and key labels are ids, and only when enabled.

import type { FastifyInstance } from 'fastify';
import type { Services } from '../../server/services.ts';

export function registerMetricsRoute(app: FastifyInstance, services: Services): void {
  const metrics = services.metrics;
  if (!metrics) return;
  app.get(services.config.metrics.path, async (_req, reply) => reply.header('content-type', metrics.contentType).send(await metrics.text()));
}
