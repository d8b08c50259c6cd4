// The Fastify application: one route module per API surface, one error mapping for all of them.

import { timeOrderedId } from './request-id.ts';
import Fastify, { type FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors.ts';
import { ClientAbortedError } from '../http/client.ts';
import { ADMIN_PREFIX, adminApi } from '../api/admin/plugin.ts';
import { registerAnthropicRoutes } from '../api/anthropic/messages.ts';
import { registerGeminiRoutes } from '../api/gemini/routes.ts';
import { registerChatRoutes } from '../api/openai/chat.ts';
import { registerEmbeddingsRoutes } from '../api/openai/embeddings.ts';
import { registerAudioRoutes } from '../api/openai/audio.ts';
import { registerBatchRoutes } from '../api/openai/batch.ts';
import { registerCompletionsRoutes } from '../api/openai/completions.ts';
import { registerImageRoutes } from '../api/openai/images.ts';
import { registerModerationRoutes } from '../api/openai/moderations.ts';
import { registerModelRoutes } from '../api/openai/models.ts';
import { registerHealthRoutes } from '../api/health/routes.ts';
import { registerMetricsRoute } from '../api/metrics/route.ts';
import { registerKeyInfoRoutes } from '../api/key/info.ts';
import { registerResponsesRoutes } from '../api/responses/route.ts';
import { sendError, toGatewayError } from './errors.ts';
import { overheadHeader } from '../observability/overhead.ts';
import type { Services } from './services.ts';

/** A client's request id is echoed only if it is a sane token; anything else could inject into logs or headers. */
const REQUEST_ID = /^[\w.:@-]{1,128}$/;

export function buildApp(services: Services): FastifyInstance {
  const { config, logger } = services;
  const bodyLimit = config.server.body_limit;
  let closing = false;

  const app = Fastify({
    logger: false,
    bodyLimit,
    // LLM calls are long; the client, not the server, decides how long to wait.
    requestTimeout: 0,
    keepAliveTimeout: 75_000,
    return503OnClosing: true,
    genReqId: (req) => {
      const id = req.headers['x-request-id'];
      return typeof id === 'string' && REQUEST_ID.test(id) ? id : timeOrderedId();
    },
  });

  // The API speaks JSON only; without this, Fastify would hand a text/plain body to the routes as a string.
  app.removeContentTypeParser('text/plain');

  overheadHeader(app);
  app.addHook('onRequest', (req, reply, done) => {
    req.arrivedAt = performance.now();
    reply.header('x-request-id', req.id);
    done();
  });
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });

  app.setErrorHandler((err, req, reply) => {
    // The client is gone: nothing to answer and nothing wrong with the gateway.
    if (err instanceof ClientAbortedError) return reply.code(499).send();
    const error = toGatewayError(err, bodyLimit);
    if (req.pipeline === null) services.metrics?.refused(error.status);
    if (error.status >= 500 && !(err instanceof GatewayError)) logger.error({ err, request_id: req.id }, 'unhandled error');
    if (reply.sent || reply.raw.headersSent) return;
    // A surface with its own error shape (Anthropic, Gemini) names it in its route's config.
    return sendError(reply, error, req.routeOptions.config?.errorShape);
  });
  app.setNotFoundHandler((req, reply) => {
    services.metrics?.refused(404);
    return sendError(
      reply,
      new GatewayError(404, 'not_found_error', `No route ${req.method} ${req.url.split('?')[0]} on this gateway`, { code: 'unknown_route' }),
    );
  });

  registerHealthRoutes(app, services, () => closing);
  registerMetricsRoute(app, services);
  registerModelRoutes(app, services);
  registerKeyInfoRoutes(app, services);
  registerChatRoutes(app, services);
  registerEmbeddingsRoutes(app, services);
  registerCompletionsRoutes(app, services);
  registerImageRoutes(app, services);
  registerAudioRoutes(app, services);
  registerModerationRoutes(app, services);
  registerBatchRoutes(app, services);
  registerAnthropicRoutes(app, services);
  registerResponsesRoutes(app, services);
  registerGeminiRoutes(app, services);
  app.register(adminApi(services), { prefix: ADMIN_PREFIX });
  return app;
}
