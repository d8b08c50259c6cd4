// GET /health: the process is alive. GET /ready: it is accepting traffic (503 while shutting down, so a load
// balancer drains it before it stops).

import type { FastifyInstance } from 'fastify';
import type { Services } from '../../server/services.ts';

export function registerHealthRoutes(app: FastifyInstance, { config, limiter, usageSink }: Services, isClosing: () => boolean): void {
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_req, reply) => {
    if (isClosing()) return reply.code(503).send({ status: 'shutting_down' });
    // Counts only (no error texts: this route needs no key): how many requests went through unchecked because the
    // limits backend was unreachable, and how far the usage ledger is behind.
    const { queued, journaled, committed, failures, lost } = usageSink.status();
    return {
      status: 'ready',
      providers: [...config.providers.keys()],
      limits: { backend: limiter.backendName, backend_errors: limiter.backendErrors },
      usage_ledger: { queued, journaled, committed, failures, lost },
    };
  });
}
