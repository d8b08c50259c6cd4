// Where a Gemini API call goes and how it is authenticated: every operation is POST models/{model}:{method}, so the
// translating adapter and the native passthrough build their calls the same way.

import type { ProviderConfig, UpstreamCall } from '../types.ts';

export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';
export const GEMINI_DEFAULT_VERSION = 'v1beta';

/** Clients copy model ids from Gemini's own ListModels, where they read `models/<id>`. */
export function modelId(model: string): string {
  return model.startsWith('models/') ? model.slice('models/'.length) : model;
}

/** `method` may carry a query (streamGenerateContent?alt=sse); `body` is the JSON text to send. */
export function geminiCall(provider: ProviderConfig, model: string, method: string, body: string): UpstreamCall {
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
    body,
  };
}
