// Anthropic Messages API adapter. Translates the canonical (OpenAI) shape both ways, and serves the Anthropic surface
// natively (native.ts). Anthropic has no embeddings API, so the adapter leaves the embeddings methods out and the
// pipeline answers such requests with a 400.

import type { ProviderAdapter, UpstreamCall } from '../types.ts';
import { fromAnthropicResponse, toAnthropicRequest } from './chat.ts';
import { parseAnthropicError } from './errors.ts';
import { anthropicNative } from './native.ts';
import { createAnthropicStreamTranslator } from './stream.ts';
import { anthropicHeaders, messagesUrl } from './wire.ts';

export { ANTHROPIC_DEFAULT_BASE_URL, ANTHROPIC_DEFAULT_VERSION } from './wire.ts';

export const anthropicAdapter: ProviderAdapter = {
  format: 'anthropic',

  buildChatRequest(req, model, provider): UpstreamCall {
    return {
      method: 'POST',
      url: messagesUrl(provider),
      headers: anthropicHeaders(provider),
      body: JSON.stringify(toAnthropicRequest(req, model, provider.name)),
    };
  },

  parseChatResponse: fromAnthropicResponse,
  createStreamTranslator: createAnthropicStreamTranslator,
  native: { anthropic: anthropicNative },
  parseError: parseAnthropicError,
};
