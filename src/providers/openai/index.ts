// OpenAI's own wire format is the canonical one, so this adapter passes requests and responses through with minimal
// touching: it sets the upstream model and auth and otherwise forwards what the client sent, unknown fields included,
// so new OpenAI parameters work through the gateway on the day they ship. OpenAI-compatible servers reuse it with a
// few options (src/providers/openai-compatible).

import { badRequest, badUpstreamResponse, GatewayError, unsupportedParam, upstreamError } from '../../core/errors.ts';
import type { ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse } from '../../core/types.ts';
import { encodeForm } from '../form.ts';
import type { FormField, OperationAdapter, ProviderAdapter, ProviderConfig, UpstreamCall } from '../types.ts';
import { createResponsesNative } from './native-responses.ts';
import { createEventReader, operationUsage } from './operations.ts';
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
  /**
   * The address of an endpoint ('/chat/completions', '/embeddings') for servers that do not put it under base_url as
   * OpenAI does (Azure: the deployment in the path, the API version in the query).
   */
  url?: (path: string, model: string, provider: ProviderConfig) => string;
  /** The credential headers, for servers that do not take the key as a bearer token (Azure: api-key). */
  auth?: (provider: ProviderConfig) => Record<string, string>;
  /** Reshapes a chat request before the renames, for servers whose format differs in values, not just names (Mistral). */
  chatRequest?: (req: ChatRequest) => object;
  /**
   * The server has OpenAI's Responses API, so the Responses surface passes requests to it untranslated. Only OpenAI
   * itself sets it: OpenAI-compatible servers implement /responses partly or not at all, and differently from version
   * to version, while their chat completions are dependable, so the surface translates to those instead.
   */
  responses?: boolean;
}

export function joinUrl(base: string, path: string): string {
  return base.endsWith('/') ? base.slice(0, -1) + path : base + path;
}

function bearerAuth(provider: ProviderConfig): Record<string, string> {
  return provider.api_key ? { authorization: `Bearer ${provider.api_key}` } : {};
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

/** The body as the provider sent it, once it is checked to carry the list every client reads. */
function withList<T>(body: unknown, field: string, what: string): T {
  if (!body || typeof body !== 'object' || !Array.isArray((body as Record<string, unknown>)[field])) {
    throw badUpstreamResponse(`upstream returned ${what} with no '${field}'`);
  }
  return body as T;
}

export function createOpenAIAdapter(options: OpenAIWireOptions = {}): ProviderAdapter {
  const { renames = {}, omit = [], unsupported = {}, url = (path, _model, provider) => joinUrl(provider.base_url, path), auth = bearerAuth } = options;

  function wireBody(req: object, model: string, provider: string): string {
    const body: Record<string, unknown> = { ...req, model };
    for (const [param, why] of Object.entries(unsupported)) {
      if (body[param] !== undefined) throw unsupportedParam(provider, param, why);
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

  const send = (path: string, body: string, model: string, provider: ProviderConfig): UpstreamCall => ({
    method: 'POST',
    url: url(path, model, provider),
    headers: { 'content-type': 'application/json', ...auth(provider), ...provider.headers },
    body,
  });
  const post = (path: string, req: object, model: string, provider: ProviderConfig): UpstreamCall =>
    send(path, wireBody(req, model, provider.name), model, provider);

  // The endpoints beyond chat and embeddings take the client's body as it came but for the model: the renames and
  // refusals above are about chat parameters.
  const passJson = (path: string): OperationAdapter<Record<string, unknown>> => ({
    buildRequest: (body, model, provider) => send(path, JSON.stringify({ ...body, model }), model, provider),
    usage: operationUsage,
  });
  const passForm = (path: string): OperationAdapter<FormField[]> => ({
    buildRequest(fields, model, provider) {
      const form = encodeForm(fields.map((f) => (f.name === 'model' ? { name: 'model', value: model } : f)));
      return { method: 'POST', url: url(path, model, provider), headers: { 'content-type': form.contentType, ...auth(provider), ...provider.headers }, bytes: form.body };
    },
    usage: operationUsage,
  });

  return {
    format: options.format ?? 'openai',

    buildChatRequest: (req: ChatRequest, model: string, provider: ProviderConfig) =>
      post('/chat/completions', options.chatRequest ? options.chatRequest(req) : req, model, provider),

    parseChatResponse: (body: unknown) => withList<ChatResponse>(body, 'choices', 'a chat completion'),

    createStreamTranslator: createOpenAIStreamTranslator,

    buildEmbeddingsRequest(req: EmbeddingsRequest, model: string, provider: ProviderConfig): UpstreamCall {
      if (req.input === undefined) throw badRequest("'input' is required", 'input');
      return post('/embeddings', req, model, provider);
    },

    parseEmbeddingsResponse: (body: unknown) => withList<EmbeddingsResponse>(body, 'data', 'an embeddings response'),

    parseError: parseOpenAIError,

    operations: {
      completions: { ...passJson('/completions'), createStreamReader: createEventReader },
      images: passJson('/images/generations'),
      transcriptions: passForm('/audio/transcriptions'),
      speech: passJson('/audio/speech'),
      moderations: passJson('/moderations'),
    },

    ...(options.responses && { native: { responses: createResponsesNative((body, model, provider) => send('/responses', body, model, provider)) } }),
  };
}

export const openaiAdapter = createOpenAIAdapter({ responses: true });
