// The Gemini Developer API (generativelanguage.googleapis.com) adapter: endpoints and auth here, the translation in
// chat.ts, stream.ts and embeddings.ts.

import { upstreamError, type GatewayError } from '../../core/errors.ts';
import type { ProviderAdapter, ProviderConfig, UpstreamCall } from '../types.ts';
import { buildChatBody, geminiError, parseChatBody, type GeminiErrorBody } from './chat.ts';
import { buildEmbeddingsBody, parseEmbeddingsBody } from './embeddings.ts';
import { createGeminiStreamTranslator } from './stream.ts';

export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';
export const GEMINI_DEFAULT_VERSION = 'v1beta';

const ERROR_TEXT_LIMIT = 500;

/** Clients copy model ids from Gemini's own ListModels, where they read `models/<id>`. */
function modelId(model: string): string {
  return model.startsWith('models/') ? model.slice('models/'.length) : model;
}

function post(provider: ProviderConfig, model: string, method: string, body: unknown): UpstreamCall {
  const base = (provider.base_url || GEMINI_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const version = provider.api_version ?? GEMINI_DEFAULT_VERSION;
  return {
    method: 'POST',
    url: `${base}/${version}/models/${encodeURIComponent(modelId(model))}:${method}`,
    headers: {
      'content-type': 'application/json',
      ...(provider.api_key && { 'x-goog-api-key': provider.api_key }),
      ...provider.headers,
    },
    body: JSON.stringify(body),
  };
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
  parseError,
};
