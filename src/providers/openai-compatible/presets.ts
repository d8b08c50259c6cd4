// OpenAI-compatible servers are the OpenAI adapter with a default address, the env var their key usually lives in,
// and the few wire differences each one has. Adding one is a few lines here.

import type { OpenAIWireOptions } from '../openai/index.ts';

export interface OpenAICompatiblePreset {
  /** Where the server usually listens; a config's base_url overrides it. Absent for the generic type. */
  base_url?: string;
  /** Environment variable that holds the key in the embedded default (no config file). */
  api_key_env?: string;
  wire?: OpenAIWireOptions;
}

/** Servers that do not know max_completion_tokens (the newer OpenAI name) still honour the older max_tokens. */
const LEGACY_MAX_TOKENS: OpenAIWireOptions = { renames: { max_completion_tokens: 'max_tokens' } };

export const OPENAI_COMPATIBLE_PRESETS: Record<string, OpenAICompatiblePreset> = {
  'openai-compatible': {},
  vllm: { base_url: 'http://127.0.0.1:8000/v1' },
  ollama: { base_url: 'http://127.0.0.1:11434/v1', wire: LEGACY_MAX_TOKENS },
  lmstudio: { base_url: 'http://127.0.0.1:1234/v1', wire: LEGACY_MAX_TOKENS },
  groq: { base_url: 'https://api.groq.com/openai/v1', api_key_env: 'GROQ_API_KEY' },
  together: { base_url: 'https://api.together.xyz/v1', api_key_env: 'TOGETHER_API_KEY', wire: LEGACY_MAX_TOKENS },
  fireworks: { base_url: 'https://api.fireworks.ai/inference/v1', api_key_env: 'FIREWORKS_API_KEY', wire: LEGACY_MAX_TOKENS },
  deepseek: { base_url: 'https://api.deepseek.com/v1', api_key_env: 'DEEPSEEK_API_KEY', wire: LEGACY_MAX_TOKENS },
  openrouter: { base_url: 'https://openrouter.ai/api/v1', api_key_env: 'OPENROUTER_API_KEY' },
  xai: { base_url: 'https://api.x.ai/v1', api_key_env: 'XAI_API_KEY' },
};
