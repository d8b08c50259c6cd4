// Amazon Bedrock Runtime adapter: Converse and ConverseStream (one request shape for every model family Bedrock hosts).
// Endpoints here; the translation in chat.ts and stream.ts, the binary event stream in eventstream.ts, credentials and
// SigV4 in auth.ts, provider options in options.ts. Bedrock's embeddings (Titan, Cohere) go through InvokeModel with a
// body per model family, not through Converse; the adapter leaves them out, so the gateway answers such requests 400.

import type { ProviderAdapter, UpstreamCall } from '../types.ts';
import { authorizeBedrock } from './auth.ts';
import { fromConverseResponse, toConverseRequest } from './chat.ts';
import { parseBedrockError } from './errors.ts';
import { createEventStreamDecoder } from './eventstream.ts';
import { createBedrockStreamTranslator } from './stream.ts';

export { bedrockBaseUrl, bedrockOptionsSchema } from './options.ts';

export const bedrockAdapter: ProviderAdapter = {
  format: 'bedrock',

  buildChatRequest(req, model, provider): UpstreamCall {
    return {
      method: 'POST',
      // Model ids hold colons (anthropic.claude-3-haiku-20240307-v1:0) and ARNs slashes, so the id is one encoded segment.
      url: `${provider.base_url.replace(/\/+$/, '')}/model/${encodeURIComponent(model)}/${req.stream ? 'converse-stream' : 'converse'}`,
      headers: { 'content-type': 'application/json', ...provider.headers },
      body: JSON.stringify(toConverseRequest(req, model, provider.name)),
    };
  },

  parseChatResponse: (body, model) => fromConverseResponse(body, model, 'bedrock'),
  createStreamTranslator: createBedrockStreamTranslator,
  createStreamDecoder: createEventStreamDecoder,
  authorize: authorizeBedrock,
  parseError: parseBedrockError,
};
