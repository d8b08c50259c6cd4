// Creates the pipeline context for an HTTP request, wired so that the client closing its connection aborts the
// upstream call.

import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequestAbort } from '../http/abort.ts';
import { ClientAbortedError } from '../http/client.ts';
import { costOf } from '../usage/cost.ts';
import type { Pricing } from '../usage/pricing.ts';
import { newContext, type Operation, type RequestContext, type Sizing, type Surface } from '../pipeline/context.ts';

export function requestContext(
  req: FastifyRequest,
  reply: FastifyReply,
  init: { surface: Surface; operation: Operation; model: string; stream: boolean; sizing?: Sizing },
): RequestContext {
  const abort = new RequestAbort();
  // `close` fires once per response; `on` spares the wrapper `once` would allocate on every request.
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) abort.abort(new ClientAbortedError());
  });
  const ctx = newContext({
    id: req.id,
    // The gateway's own ids are unique already; a client's is made so.
    recordId: req.headers['x-request-id'] === req.id ? `${req.id}/${randomUUID()}` : req.id,
    surface: init.surface,
    operation: init.operation,
    model: init.model,
    stream: init.stream,
    abort,
    credential: credentialOf(req),
    clientIp: req.ip,
    headers: req.headers,
    body: req.body,
    sizing: init.sizing,
    response: reply.raw,
    startedAt: req.arrivedAt,
  });
  req.pipeline = ctx;
  return ctx;
}

/**
 * The key a client presents, the way each SDK family sends it: OpenAI (Bearer), Anthropic (x-api-key), Azure (api-key),
 * Google GenAI (x-goog-api-key).
 */
export function credentialOf(req: FastifyRequest): string | undefined {
  const authorization = req.headers.authorization;
  if (authorization?.startsWith('Bearer ')) return authorization.slice(7).trim();
  const key = req.headers['x-api-key'] ?? req.headers['api-key'] ?? req.headers['x-goog-api-key'];
  return typeof key === 'string' ? key : undefined;
}

/**
 * Sends a proxied JSON answer. x-request-id is already set (onRequest hook); the provider that answered is named, and
 * with `pricing`, what the answer cost. Plain header calls rather than a merged object: this runs on every request.
 */
export function sendJson(reply: FastifyReply, ctx: RequestContext, json: string, pricing?: Pricing): FastifyReply {
  if (ctx.target) reply.header('x-switchboard-provider', ctx.target.provider.name);
  if (pricing) {
    // Only a known price is sent: a 0 for a model nobody priced would read as free.
    const cost = costOf(ctx, pricing);
    if (cost?.priced) reply.header('x-switchboard-cost-usd', String(cost.usd));
  }
  ctx.payload?.answer(json);
  return reply.header('content-type', 'application/json; charset=utf-8').send(json);
}
