// Google Vertex AI: Gemini models (publishers/google) and Claude models (publishers/anthropic) in one Google Cloud
// project and location, called with an OAuth token from Google credentials (auth.ts). The bodies are the Gemini API's
// and the Anthropic Messages API's, so the translation is the gemini and anthropic adapters' own; this module adds
// the Vertex endpoints, the few ways Claude on Vertex differs, and the token.

import { z } from 'zod';
import { GatewayError, unsupportedParam } from '../../core/errors.ts';
import type { ChatRequest } from '../../core/types.ts';
import { toAnthropicRequest } from '../anthropic/chat.ts';
import { anthropicAdapter } from '../anthropic/index.ts';
import { buildChatBody } from '../gemini/chat.ts';
import { geminiAdapter } from '../gemini/index.ts';
import type { ProviderAdapter, ProviderConfig, UpstreamCall } from '../types.ts';
import { accessToken } from './auth.ts';
import { buildPredictBody, parsePredictBody } from './embeddings.ts';

export const VERTEX_DEFAULT_VERSION = 'v1';
const DEFAULT_LOCATION = 'us-central1';

/** Claude on Vertex takes the Messages API version in the body, and only this one. */
export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

export const vertexOptions = z.strictObject({
  project: z.string({ error: 'a vertex provider needs project: the Google Cloud project id' }).min(1, 'project must not be empty'),
  location: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'location must be a Google Cloud location such as us-central1, europe-west4 or global')
    .default(DEFAULT_LOCATION),
  /** A service-account key file, or its JSON text; without it, Application Default Credentials. */
  credentials: z.string().min(1, 'credentials must be a key file path or the key JSON; leave it out for Application Default Credentials').optional(),
});

export type VertexOptions = z.infer<typeof vertexOptions>;

/** Regional locations have their own host; `global` is served by the bare one. */
export function vertexBaseUrl(options: Record<string, unknown>): string {
  const { location } = options as VertexOptions;
  return location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`;
}

/** Vertex serves Claude under the Anthropic publisher; every other model id here is Google's. */
function isClaude(model: string): boolean {
  return model.startsWith('claude-');
}

// Claude versions are written `claude-sonnet-4@20250514`, and `@` is fine in a path segment, so it stays readable.
function segment(value: string): string {
  return encodeURIComponent(value).replaceAll('%40', '@');
}

function post(provider: ProviderConfig, publisher: 'google' | 'anthropic', model: string, method: string, body: unknown): UpstreamCall {
  const { project, location } = provider.options as VertexOptions;
  const base = provider.base_url.replace(/\/+$/, '');
  const version = provider.api_version ?? VERTEX_DEFAULT_VERSION;
  return {
    method: 'POST',
    url: `${base}/${version}/projects/${segment(project)}/locations/${segment(location)}/publishers/${publisher}/models/${segment(model)}:${method}`,
    headers: { 'content-type': 'application/json', ...provider.headers },
    body: JSON.stringify(body),
  };
}

/** The Messages body as Vertex takes it: the model is named by the URL, and the API version moves into the body. */
function claudeBody(req: ChatRequest, model: string, provider: string): Record<string, unknown> {
  rejectImageUrls(req, provider);
  const { model: _named, ...body } = toAnthropicRequest(req, model, provider);
  return { anthropic_version: VERTEX_ANTHROPIC_VERSION, ...body };
}

/** Claude on Vertex refuses URL image sources (Anthropic's own API fetches them); only inline data reaches it. */
function rejectImageUrls(req: ChatRequest, provider: string): void {
  req.messages.forEach((message, i) => {
    if (!Array.isArray(message.content)) return;
    message.content.forEach((part, k) => {
      if (part.type !== 'image_url' || part.image_url.url.startsWith('data:')) return;
      throw unsupportedParam(
        provider,
        `messages[${i}].content[${k}].image_url.url`,
        'Claude on Vertex AI takes images only as base64 data URLs (data:image/png;base64,…); fetch the image and send its bytes.',
      );
    });
  });
}

/**
 * Claude's own errors come in Anthropic's shape ({"type":"error","error":{…}}); what Vertex itself refuses (tokens,
 * quota, unknown models) and every Gemini error come in Google's ({"error":{"code","status",…}}).
 */
function isAnthropicError(body: string): boolean {
  try {
    return (JSON.parse(body) as { type?: unknown } | null)?.type === 'error';
  } catch {
    return false;
  }
}

export const vertexAdapter: ProviderAdapter = {
  format: 'vertex',

  buildChatRequest: (req, model, provider) =>
    isClaude(model)
      ? post(provider, 'anthropic', model, req.stream ? 'streamRawPredict' : 'rawPredict', claudeBody(req, model, provider.name))
      : post(provider, 'google', model, req.stream ? 'streamGenerateContent?alt=sse' : 'generateContent', buildChatBody(req, provider.name)),

  parseChatResponse: (body, model) =>
    isClaude(model) ? anthropicAdapter.parseChatResponse(body, model) : geminiAdapter.parseChatResponse(body, model),

  createStreamTranslator: (ctx) =>
    isClaude(ctx.model) ? anthropicAdapter.createStreamTranslator(ctx) : geminiAdapter.createStreamTranslator(ctx),

  buildEmbeddingsRequest(req, model, provider) {
    if (isClaude(model)) {
      throw new GatewayError(400, 'invalid_request_error', `Provider '${provider.name}': Claude models have no embeddings API; use a Vertex embeddings model such as text-embedding-005 or gemini-embedding-001`, {
        param: 'model',
        code: 'unsupported_operation',
        provider: provider.name,
      });
    }
    return post(provider, 'google', model, 'predict', buildPredictBody(req));
  },

  parseEmbeddingsResponse: parsePredictBody,

  async authorize(call, provider) {
    return { ...call, headers: { ...call.headers, authorization: `Bearer ${await accessToken(provider)}` } };
  },

  parseError: (status, body, retryAfter, provider) =>
    isAnthropicError(body)
      ? anthropicAdapter.parseError(status, body, retryAfter, provider)
      : geminiAdapter.parseError(status, body, retryAfter, provider),
};
