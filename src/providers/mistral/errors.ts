// Mistral's error bodies are not OpenAI's: the fields sit at the top level ({"object": "error", "message", "type",
// "param", "code"}), and a request that fails validation has its reasons as a list in message.detail.

import type { GatewayError } from '../../core/errors.ts';
import { upstreamError } from '../../core/errors.ts';
import { parseOpenAIError } from '../openai/index.ts';

interface MistralError {
  message?: string | { detail?: { loc?: (string | number)[]; msg?: string }[] };
  type?: string | null;
  code?: string | null;
}

export function parseMistralError(status: number, body: string, retryAfter: string | undefined, provider: string): GatewayError {
  let err: MistralError | undefined;
  try {
    err = JSON.parse(body) as MistralError;
  } catch {
    // Not JSON: the OpenAI parser below reports the text.
  }
  const code = err?.type ?? null;
  if (typeof err?.message === 'string') return upstreamError(provider, status, err.message, { code, retryAfter });
  const first = err?.message?.detail?.[0];
  if (first?.msg) {
    // loc starts with where the field is ("body"), which means nothing to the client.
    const param = (first.loc ?? []).filter((part) => part !== 'body').join('.');
    return upstreamError(provider, status, param ? `${param}: ${first.msg}` : first.msg, { code, param: param || null, retryAfter });
  }
  return parseOpenAIError(status, body, retryAfter, provider);
}
