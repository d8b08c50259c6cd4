// Mistral (api.mistral.ai) speaks the OpenAI chat format with a handful of differences, so its adapter is the OpenAI
// adapter plus those: request values (request.ts), answers (response.ts, stream.ts) and error bodies (errors.ts).

import { createOpenAIAdapter } from '../openai/index.ts';
import type { ProviderAdapter } from '../types.ts';
import { parseMistralError } from './errors.ts';
import { toMistralRequest } from './request.ts';
import { fixResponse } from './response.ts';
import { fixingTranslator } from './stream.ts';

export const MISTRAL_DEFAULT_BASE_URL = 'https://api.mistral.ai/v1';

const openai = createOpenAIAdapter({
  format: 'openai',
  // Mistral names the sampling seed random_seed, and rejects stream_options: its streams always end with usage.
  renames: { max_completion_tokens: 'max_tokens', seed: 'random_seed' },
  omit: ['stream_options'],
  chatRequest: toMistralRequest,
});

export const mistralAdapter: ProviderAdapter = {
  ...openai,
  // The response parser is not told the configured provider name, so errors found in a whole answer say 'mistral'.
  parseChatResponse: (body, model) => fixResponse(openai.parseChatResponse(body, model), 'mistral'),
  createStreamTranslator: (ctx) => fixingTranslator(openai.createStreamTranslator(ctx), ctx.provider),
  // Of the OpenAI operations beyond chat, Mistral serves only transcriptions in the same shape (Voxtral); the rest
  // would reach endpoints it does not have, or one (moderations) that answers in another shape.
  operations: { transcriptions: openai.operations!.transcriptions! },
  parseError: parseMistralError,
};
