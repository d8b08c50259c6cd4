// Provider types by the name used in config (`type:`). Each entry says which adapter speaks its wire format and the
// defaults a configured provider of that type starts from.

import type { z } from 'zod';
import type { ProviderAdapter } from './types.ts';
import { anthropicAdapter, ANTHROPIC_DEFAULT_BASE_URL, ANTHROPIC_DEFAULT_VERSION } from './anthropic/index.ts';
import { geminiAdapter, GEMINI_DEFAULT_BASE_URL, GEMINI_DEFAULT_VERSION } from './gemini/index.ts';
import { createOpenAIAdapter, openaiAdapter, OPENAI_DEFAULT_BASE_URL } from './openai/index.ts';
import { OPENAI_COMPATIBLE_PRESETS } from './openai-compatible/presets.ts';

export interface ProviderType {
  adapter: ProviderAdapter;
  base_url?: string;
  /**
   * The fields of a provider entry beyond the common ones (region, project, deployments, …), as a strict zod object;
   * parsed into ProviderConfig.options. A type without it accepts none.
   */
  options?: z.ZodType<Record<string, unknown>>;
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
    model_pattern: /^(gpt-|chatgpt-|o[1-9](-|$)|text-embedding-|davinci|babbage|omni-)/,
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
    model_pattern: /^(gemini-|gemma-|text-embedding-004|embedding-001)/,
  },
  ...presets,
};
