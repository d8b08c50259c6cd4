// Anthropic Messages API adapter. Translates the canonical (OpenAI) shape both ways; Anthropic has no embeddings API,
// so the adapter leaves the embeddings methods out and the pipeline answers such requests with a 400.

import type { ProviderAdapter, ProviderConfig, UpstreamCall } from '../types.ts';
import { fromAnthropicResponse, toAnthropicRequest } from './chat.ts';
import { parseAnthropicError } from './errors.ts';
import { createAnthropicStreamTranslator } from './stream.ts';

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';
export const ANTHROPIC_DEFAULT_VERSION = '2023-06-01';

function headersFor(provider: ProviderConfig): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'anthropic-version': provider.api_version ?? ANTHROPIC_DEFAULT_VERSION,
  };
  if (provider.api_key) headers['x-api-key'] = provider.api_key;
  return Object.assign(headers, provider.headers);
}

export const anthropicAdapter: ProviderAdapter = {
  format: 'anthropic',

  buildChatRequest(req, model, provider): UpstreamCall {
    return {
      method: 'POST',
      url: `${provider.base_url.replace(/\/+$/, '')}/v1/messages`,
      headers: headersFor(provider),
      body: JSON.stringify(toAnthropicRequest(req, model, provider.name)),
    };
  },

  parseChatResponse: fromAnthropicResponse,
  createStreamTranslator: createAnthropicStreamTranslator,
  parseError: parseAnthropicError,
};
