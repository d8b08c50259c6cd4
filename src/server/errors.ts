// Maps anything thrown while serving a request to the GatewayError the client sees. Fastify's own errors (body too
// large, bad JSON, wrong media type) get the same OpenAI error shape as the gateway's; anything unexpected is a 500
// that reveals nothing internal.

import type { FastifyReply } from 'fastify';
import { errorTypeFor, GatewayError, INTERNAL_ERROR } from '../core/errors.ts';

export function toGatewayError(err: unknown, bodyLimit: number): GatewayError {
  if (err instanceof GatewayError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError(413, 'request_too_large', `The request body is larger than this gateway's limit of ${bodyLimit} bytes (server.body_limit)`, { code: 'request_too_large' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError(415, 'invalid_request_error', 'Send the request body as JSON with Content-Type: application/json', { code: 'unsupported_media_type' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError(400, 'invalid_request_error', 'The request body is empty; send a JSON object', { code: 'invalid_json' });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GatewayError(400, 'invalid_request_error', 'Content-Length does not match the body sent', { code: 'invalid_request' });
  }
  if (err instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new GatewayError(400, 'invalid_request_error', `The request body is not valid JSON: ${e.message}`, { code: 'invalid_json' });
  }
  // Recursion over the client's JSON (schema conversion, token estimates, serialisation) is what overflows the stack.
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    return new GatewayError(400, 'invalid_request_error', 'The request body is nested too deeply', { code: 'invalid_request' });
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return new GatewayError(e.statusCode, errorTypeFor(e.statusCode), e.message ?? 'Bad request', { code: e.code ?? null });
  }
  return INTERNAL_ERROR;
}

/** An error body in a surface's own shape (OpenAI's by default; Anthropic's and Gemini's on their surfaces). */
export type ErrorShape = (err: GatewayError) => unknown;

export const openaiErrorShape: ErrorShape = (err) => err.toOpenAI();

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set by a surface whose clients expect errors in another shape: `app.post(path, { config: { errorShape } }, …)`. */
    errorShape?: ErrorShape;
  }
}

export function sendError(reply: FastifyReply, err: GatewayError, shape: ErrorShape = openaiErrorShape): FastifyReply {
  if (err.provider) reply.header('x-switchboard-provider', err.provider);
  return reply.code(err.status).headers(err.headers).send(shape(err));
}
