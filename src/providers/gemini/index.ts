// The Gemini Developer API (generativelanguage.googleapis.com) adapter: endpoints and auth in wire.ts, the translation
// in chat.ts, stream.ts, embeddings.ts and images.ts (Imagen), the passthrough for the Gemini surface in native.ts.

import { upstreamError, type GatewayError } from '../../core/errors.ts';
import type { ProviderAdapter, ProviderConfig, UpstreamCall } from '../types.ts';
import { buildChatBody, geminiError, parseChatBody, type GeminiErrorBody } from './chat.ts';
import { buildEmbeddingsBody, parseEmbeddingsBody } from './embeddings.ts';
import { buildImagenBody, parseImagenBody } from './images.ts';
import { geminiNative } from './native.ts';
import { createGeminiStreamTranslator } from './stream.ts';
import { geminiCall, modelId } from './wire.ts';

export { GEMINI_DEFAULT_BASE_URL, GEMINI_DEFAULT_VERSION } from './wire.ts';

const ERROR_TEXT_LIMIT = 500;

function post(provider: ProviderConfig, model: string, method: string, body: unknown): UpstreamCall {
  return geminiCall(provider, model, method, JSON.stringify(body));
}

function parseError(status: number, body: string, retryAfter: string | undefined, provider: string): GatewayError {
  const error = errorObject(body);
  if (error) return geminiError(provider, status, error, retryAfter);
  const text = body.trim();
  const message = text === '' ? `HTTP ${status} with an empty body` : text.length > ERROR_TEXT_LIMIT ? `${text.slice(0, ERROR_TEXT_LIMIT)}…` : text;
  return upstreamError(provider, status, message, { retryAfter });
}

function errorObject(body: string): GeminiErrorBody | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  // streamGenerateContent without alt=sse answers errors as a one-element JSON array.
  const first: unknown = Array.isArray(parsed) ? parsed[0] : parsed;
  const error = (first as { error?: unknown } | null)?.error;
  return typeof error === 'object' && error !== null ? (error as GeminiErrorBody) : undefined;
}

export const geminiAdapter: ProviderAdapter = {
  format: 'gemini',
  buildChatRequest: (req, model, provider) =>
    post(provider, model, req.stream ? 'streamGenerateContent?alt=sse' : 'generateContent', buildChatBody(req, provider.name)),
  parseChatResponse: (body, model) => parseChatBody(body, modelId(model)),
  createStreamTranslator: createGeminiStreamTranslator,
  buildEmbeddingsRequest: (req, model, provider) =>
    post(provider, model, 'batchEmbedContents', buildEmbeddingsBody(req, modelId(model), provider.name)),
  parseEmbeddingsResponse: (body, model) => parseEmbeddingsBody(body, modelId(model)),
  operations: {
    images: {
      buildRequest: (body, model, provider) => post(provider, model, 'predict', buildImagenBody(body, modelId(model), provider.name)),
      parseResponse: (body) => parseImagenBody(body),
    },
  },
  native: { gemini: geminiNative },
  parseError,
};
