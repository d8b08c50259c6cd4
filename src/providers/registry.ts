// Provider types by the name used in config (`type:`). Each entry says which adapter speaks its wire format and the
// defaults a configured provider of that type starts from.

import type { z } from 'zod';
import type { ProviderAdapter } from './types.ts';
import { anthropicAdapter, ANTHROPIC_DEFAULT_BASE_URL, ANTHROPIC_DEFAULT_VERSION } from './anthropic/index.ts';
import { cohereAdapter, COHERE_DEFAULT_BASE_URL } from './cohere/index.ts';
import { azureOpenAIAdapter } from './azure/index.ts';
import { bedrockAdapter, bedrockBaseUrl, bedrockOptionsSchema } from './bedrock/index.ts';
import { AZURE_DEFAULT_API_VERSION, azureOptionsSchema } from './azure/options.ts';
import { geminiAdapter, GEMINI_DEFAULT_BASE_URL, GEMINI_DEFAULT_VERSION } from './gemini/index.ts';
import { mistralAdapter, MISTRAL_DEFAULT_BASE_URL } from './mistral/index.ts';
import { createOpenAIAdapter, openaiAdapter, OPENAI_DEFAULT_BASE_URL } from './openai/index.ts';
import { OPENAI_COMPATIBLE_PRESETS } from './openai-compatible/presets.ts';
import { vertexAdapter, vertexBaseUrl, vertexOptions, VERTEX_DEFAULT_VERSION } from './vertex/index.ts';

export interface ProviderType {
  adapter: ProviderAdapter;
  base_url?: string;
  /**
   * The fields of a provider entry beyond the common ones (region, project, deployments, …), as a strict zod object;
   * parsed into ProviderConfig.options. A type without it accepts none.
   */
  options?: z.ZodType<Record<string, unknown>>;
  /**
   * Whether a provider of this type authenticates with `api_key`, so a tenant's stored credential (an API key) can
   * stand in for it. Absent means yes; Vertex (service accounts) and Azure with Entra tokens do not.
   */
  takes_api_key?: (options: Record<string, unknown>) => boolean;
  /** A default address that depends on the options (a region, a location), when there is no fixed one. */
  default_base_url?: (options: Record<string, unknown>) => string | undefined;
  api_version?: string;
  /** Environment variables read by the embedded default (no config file). */
  api_key_env?: string[];
  base_url_env?: string;
  /**
   * Bare model names (no `<provider>/` prefix) this type serves by naming convention, so `gpt-4o` reaches the
   * configured OpenAI provider the way the OpenAI SDK user expects.
   */
  model_pattern?: RegExp;
}

const presets = Object.fromEntries(
  Object.entries(OPENAI_COMPATIBLE_PRESETS).map(([name, preset]): [string, ProviderType] => [
    name,
    {
      adapter: createOpenAIAdapter({ format: 'openai', ...preset.wire }),
      ...(preset.base_url !== undefined && { base_url: preset.base_url }),
      ...(preset.api_key_env !== undefined && { api_key_env: [preset.api_key_env] }),
    },
  ]),
);

export const PROVIDER_TYPES: Record<string, ProviderType> = {
  openai: {
    adapter: openaiAdapter,
    base_url: OPENAI_DEFAULT_BASE_URL,
    api_key_env: ['OPENAI_API_KEY'],
    base_url_env: 'OPENAI_BASE_URL',
    model_pattern: /^(gpt-|chatgpt-|o[1-9](-|$)|text-embedding-|davinci|babbage|omni-|text-moderation-|dall-e-|tts-|whisper-)/,
  },
  anthropic: {
    adapter: anthropicAdapter,
    base_url: ANTHROPIC_DEFAULT_BASE_URL,
    api_version: ANTHROPIC_DEFAULT_VERSION,
    api_key_env: ['ANTHROPIC_API_KEY'],
    base_url_env: 'ANTHROPIC_BASE_URL',
    model_pattern: /^claude-/,
  },
  gemini: {
    adapter: geminiAdapter,
    base_url: GEMINI_DEFAULT_BASE_URL,
    api_version: GEMINI_DEFAULT_VERSION,
    api_key_env: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
    base_url_env: 'GEMINI_BASE_URL',
    model_pattern: /^(gemini-|gemma-|imagen-|text-embedding-004|embedding-001)/,
  },
  // No default address: every Azure OpenAI resource has its own endpoint (https://<resource>.openai.azure.com).
  'azure-openai': {
    adapter: azureOpenAIAdapter,
    options: azureOptionsSchema,
    api_version: AZURE_DEFAULT_API_VERSION,
    api_key_env: ['AZURE_OPENAI_API_KEY'],
    base_url_env: 'AZURE_OPENAI_ENDPOINT',
    takes_api_key: (options) => options.entra === undefined && options.azure_ad_token === undefined,
  },
  // The host follows the location; credentials come from a Google service account, not an api_key.
  vertex: {
    adapter: vertexAdapter,
    options: vertexOptions,
    default_base_url: vertexBaseUrl,
    api_version: VERTEX_DEFAULT_VERSION,
    takes_api_key: () => false,
  },
  // The host follows the region; requests are signed with AWS SigV4 unless api_key holds a Bedrock API key.
  bedrock: {
    adapter: bedrockAdapter,
    options: bedrockOptionsSchema(process.env),
    default_base_url: bedrockBaseUrl,
    api_key_env: ['AWS_BEARER_TOKEN_BEDROCK'],
    // Bedrock's own ids: a vendor prefix (anthropic., amazon., meta., …), optionally behind a cross-region profile (us., eu., global.), or an ARN.
    model_pattern: /^(arn:aws[\w-]*:bedrock:|((us|eu|apac|jp|au|ca|us-gov|global)\.)?(anthropic|amazon|meta|mistral|cohere|ai21|deepseek|openai|qwen|writer)\.[\w-])/,
  },
  cohere: {
    adapter: cohereAdapter,
    base_url: COHERE_DEFAULT_BASE_URL,
    api_key_env: ['COHERE_API_KEY', 'CO_API_KEY'],
    base_url_env: 'CO_API_URL',
    model_pattern: /^(command-|embed-)/,
  },
  mistral: {
    adapter: mistralAdapter,
    base_url: MISTRAL_DEFAULT_BASE_URL,
    api_key_env: ['MISTRAL_API_KEY'],
    model_pattern: /^(mistral-|magistral-|ministral-|codestral-|devstral-|pixtral-|open-mistral-|open-mixtral-)/,
  },
  ...presets,
};
