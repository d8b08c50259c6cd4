// Creates the pipeline context for an HTTP request, wired so that the client closing its connection aborts the
// upstream call.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequestAbort } from '../http/abort.ts';
import { ClientAbortedError } from '../http/client.ts';
import { newContext, type Operation, type RequestContext, type Surface } from '../pipeline/context.ts';

export function requestContext(
  req: FastifyRequest,
  reply: FastifyReply,
  init: { surface: Surface; operation: Operation; model: string; stream: boolean },
): RequestContext {
  const abort = new RequestAbort();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) abort.abort(new ClientAbortedError());
  });
  return newContext({
    id: req.id,
    surface: init.surface,
    operation: init.operation,
    model: init.model,
    stream: init.stream,
    abort,
    credential: credentialOf(req),
    clientIp: req.ip,
  });
}

/** The key a client presents, the way each SDK family sends it: OpenAI (Bearer), Anthropic (x-api-key), Azure (api-key). */
export function credentialOf(req: FastifyRequest): string | undefined {
  const authorization = req.headers.authorization;
  if (authorization?.startsWith('Bearer ')) return authorization.slice(7).trim();
  const key = req.headers['x-api-key'] ?? req.headers['api-key'];
  return typeof key === 'string' ? key : undefined;
}

/** Headers every proxied answer carries. */
export function gatewayHeaders(ctx: RequestContext): Record<string, string> {
  return {
    'x-request-id': ctx.id,
    ...(ctx.target && { 'x-switchboard-provider': ctx.target.provider.name }),
  };
}
