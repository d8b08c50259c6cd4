// OpenAI's own wire format is the canonical one, so this adapter passes requests and responses through with minimal
// touching: it sets the upstream model and auth and otherwise forwards what the client sent, unknown fields included,
// so new OpenAI parameters work through the gateway on the day they ship. OpenAI-compatible servers reuse it with a
// few options (src/providers/openai-compatible).

import { badRequest, GatewayError, upstreamError } from '../../core/errors.ts';
import type { ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse } from '../../core/types.ts';
import type { ProviderAdapter, ProviderConfig, UpstreamCall } from '../types.ts';
import { createOpenAIStreamTranslator } from './stream.ts';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export interface OpenAIWireOptions {
  /** Reported as the wire format in `x-switchboard-provider` and logs. */
  format?: string;
  /** Body fields renamed for servers that spell a standard parameter differently (Mistral: seed -> random_seed). */
  renames?: Record<string, string>;
  /** Body fields removed for servers that reject them and whose behaviour does not depend on them. */
  omit?: string[];
  /** Parameters the server cannot honour, with the reason given to the client in a 400. */
  unsupported?: Record<string, string>;
}

export function joinUrl(base: string, path: string): string {
  return base.endsWith('/') ? base.slice(0, -1) + path : base + path;
}

function headersFor(provider: ProviderConfig): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (provider.api_key) headers.authorization = `Bearer ${provider.api_key}`;
  return Object.assign(headers, provider.headers);
}

function errorMessage(body: string): { message: string; code?: string | null; param?: string | null } {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string; code?: string | null; param?: string | null } | string };
    const err = parsed.error;
    if (typeof err === 'string') return { message: err };
    if (err?.message) return { message: err.message, code: err.code ?? null, param: err.param ?? null };
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return { message: body.slice(0, 500) || 'upstream returned an error with no body' };
}

export function parseOpenAIError(status: number, body: string, retryAfter: string | undefined, provider: string): GatewayError {
  const { message, code, param } = errorMessage(body);
  return upstreamError(provider, status, message, { code: code ?? null, param: param ?? null, retryAfter });
}

export function createOpenAIAdapter(options: OpenAIWireOptions = {}): ProviderAdapter {
  const { renames = {}, omit = [], unsupported = {} } = options;

  function wireBody(req: object, model: string, provider: string): string {
    const body: Record<string, unknown> = { ...req, model };
    for (const [param, why] of Object.entries(unsupported)) {
      if (body[param] !== undefined) {
        throw new GatewayError(400, 'invalid_request_error', `Provider '${provider}' does not support '${param}': ${why}`, {
          param,
          code: 'unsupported_parameter',
          provider,
        });
      }
    }
    for (const field of omit) delete body[field];
    for (const [from, to] of Object.entries(renames)) {
      if (body[from] !== undefined) {
        body[to] = body[from];
        delete body[from];
      }
    }
    return JSON.stringify(body);
  }

  return {
    format: options.format ?? 'openai',

    buildChatRequest(req: ChatRequest, model: string, provider: ProviderConfig): UpstreamCall {
      return {
        method: 'POST',
        url: joinUrl(provider.base_url, '/chat/completions'),
        headers: headersFor(provider),
        body: wireBody(req, model, provider.name),
      };
    },

    parseChatResponse(body: unknown): ChatResponse {
      const res = body as ChatResponse;
      if (!res || typeof res !== 'object' || !Array.isArray(res.choices)) {
        throw new GatewayError(502, 'upstream_error', 'upstream returned a chat completion with no choices', {
          code: 'bad_upstream_response',
        });
      }
      return res;
    },

    createStreamTranslator: createOpenAIStreamTranslator,

    buildEmbeddingsRequest(req: EmbeddingsRequest, model: string, provider: ProviderConfig): UpstreamCall {
      if (req.input === undefined) throw badRequest("'input' is required", 'input');
      return {
        method: 'POST',
        url: joinUrl(provider.base_url, '/embeddings'),
        headers: headersFor(provider),
        body: wireBody(req, model, provider.name),
      };
    },

    parseEmbeddingsResponse(body: unknown): EmbeddingsResponse {
      const res = body as EmbeddingsResponse;
      if (!res || typeof res !== 'object' || !Array.isArray(res.data)) {
        throw new GatewayError(502, 'upstream_error', 'upstream returned an embeddings response with no data', {
          code: 'bad_upstream_response',
        });
      }
      return res;
    },

    parseError: parseOpenAIError,
  };
}

export const openaiAdapter = createOpenAIAdapter();
