// What every call to the Anthropic Messages API carries, translated or native.

import type { ProviderConfig } from '../types.ts';

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';
export const ANTHROPIC_DEFAULT_VERSION = '2023-06-01';

export function anthropicHeaders(provider: ProviderConfig): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'anthropic-version': provider.api_version ?? ANTHROPIC_DEFAULT_VERSION,
  };
  if (provider.api_key) headers['x-api-key'] = provider.api_key;
  return Object.assign(headers, provider.headers);
}

export function messagesUrl(provider: ProviderConfig): string {
  return `${provider.base_url.replace(/\/+$/, '')}/v1/messages`;
}
