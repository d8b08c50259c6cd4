// Cohere v2 API adapter: endpoints, auth and errors here, the translation in chat.ts, stream.ts and embeddings.ts.

import { upstreamError, type GatewayError } from '../../core/errors.ts';
import type { ProviderAdapter, ProviderConfig, UpstreamCall } from '../types.ts';
import { buildChatBody, parseChatBody } from './chat.ts';
import { buildEmbedBody, parseEmbedBody } from './embeddings.ts';
import { createCohereStreamTranslator } from './stream.ts';

export const COHERE_DEFAULT_BASE_URL = 'https://api.cohere.com';

const ERROR_TEXT_LIMIT = 500;

function post(provider: ProviderConfig, path: string, body: unknown): UpstreamCall {
  return {
    method: 'POST',
    url: `${provider.base_url.replace(/\/+$/, '')}${path}`,
    headers: {
      'content-type': 'application/json',
      ...(provider.api_key && { authorization: `Bearer ${provider.api_key}` }),
      ...provider.headers,
    },
    body: JSON.stringify(body),
  };
}

/**
 * Cohere answers errors as {"message": "..."}. 498 is its own status for an invalid or expired key; clients and their
 * retry logic know that as 401.
 */
export function parseCohereError(status: number, body: string, retryAfter: string | undefined, provider: string): GatewayError {
  const clientStatus = status === 498 ? 401 : status;
  let message: unknown;
  try {
    message = (JSON.parse(body) as { message?: unknown } | null)?.message;
  } catch {
    // Not JSON (a proxy's error page): the text itself is the message.
  }
  if (typeof message === 'string' && message !== '') return upstreamError(provider, clientStatus, message, { retryAfter });
  const text = body.trim();
  const fallback = text === '' ? `HTTP ${status} with an empty body` : `HTTP ${status}: ${text.slice(0, ERROR_TEXT_LIMIT)}`;
  return upstreamError(provider, clientStatus, fallback, { retryAfter });
}

export const cohereAdapter: ProviderAdapter = {
  format: 'cohere',
  buildChatRequest: (req, model, provider) => post(provider, '/v2/chat', buildChatBody(req, model, provider.name)),
  // Cohere does not echo the model, so the one the request went to is reported.
  parseChatResponse: (body, model) => parseChatBody(body, model, 'cohere'),
  createStreamTranslator: createCohereStreamTranslator,
  buildEmbeddingsRequest: (req, model, provider) => post(provider, '/v2/embed', buildEmbedBody(req, model, provider.name)),
  parseEmbeddingsResponse: parseEmbedBody,
  parseError: parseCohereError,
};
