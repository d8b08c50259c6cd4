// The OpenTelemetry GenAI semantic conventions the traces follow: attribute names and the well-known values of
// providers and operations. Copied rather than imported from @opentelemetry/semantic-conventions/incubating, as that
// package asks of users of its unstable names: they may change in a minor release, and a copy changes only with us.

import type { Operation } from '../pipeline/context.ts';

export const GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens';
export const GEN_AI_REQUEST_TEMPERATURE = 'gen_ai.request.temperature';
export const GEN_AI_REQUEST_TOP_P = 'gen_ai.request.top_p';
export const GEN_AI_REQUEST_STREAM = 'gen_ai.request.stream';
export const GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
export const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk';
export const GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens';
export const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = 'gen_ai.usage.reasoning.output_tokens';

/** Provider types with a well-known gen_ai.provider.name; every other type (vLLM, Ollama, OpenRouter…) is its own. */
const PROVIDER_NAMES = new Map<string, string>([
  ['openai', 'openai'],
  ['anthropic', 'anthropic'],
  ['gemini', 'gcp.gemini'],
  ['vertex', 'gcp.vertex_ai'],
  ['bedrock', 'aws.bedrock'],
  ['azure-openai', 'azure.ai.openai'],
  ['cohere', 'cohere'],
  ['mistral', 'mistral_ai'],
  ['groq', 'groq'],
  ['deepseek', 'deepseek'],
  ['xai', 'x_ai'],
]);

export function genAiProviderName(type: string): string {
  return PROVIDER_NAMES.get(type) ?? type;
}

/** The gateway's operations that have a well-known gen_ai.operation.name under another name. */
const OPERATION_NAMES = new Map<Operation, string>([['completions', 'text_completion']]);

export function genAiOperationName(operation: Operation): string {
  return OPERATION_NAMES.get(operation) ?? operation;
}
