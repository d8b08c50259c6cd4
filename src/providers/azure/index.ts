// Azure OpenAI speaks the OpenAI wire format, so this is the OpenAI passthrough adapter composed with Azure's
// differences: the address (a deployment in the path and a dated api-version in the query, or the newer v1 API with
// the deployment as `model`), the api-key header or a Microsoft Entra ID token, content-filter annotations inside
// streams, and error bodies that carry the content filter's verdict.

import { GatewayError, upstreamError } from '../../core/errors.ts';
import type { ChatRequest, EmbeddingsRequest } from '../../core/types.ts';
import { createOpenAIAdapter, parseOpenAIError } from '../openai/index.ts';
import type { OperationAdapter, ProviderAdapter, ProviderConfig, UpstreamCall } from '../types.ts';
import { fetchEntraToken, TokenCache, type TokenFetcher } from './entra.ts';
import { AZURE_DEFAULT_API_VERSION, type AzureOptions } from './options.ts';
import { createAzureStreamTranslator } from './stream.ts';

const azureOptions = (provider: ProviderConfig): AzureOptions => provider.options as AzureOptions;

/** The deployment serving a model: the one mapped under `deployments:`, else a deployment named like the model. */
function deploymentFor(model: string, provider: ProviderConfig): string {
  return azureOptions(provider).deployments?.[model] ?? model;
}

/**
 * `api_version: v1` is the v1 API (no version to name, the deployment goes in the body as `model`); `preview` is the
 * same API with its preview features; anything else is a dated version of the deployments API.
 */
function azureUrl(path: string, deployment: string, provider: ProviderConfig): string {
  // base_url is the resource's endpoint; one copied with the SDK examples' /openai or /openai/v1 suffix means the same.
  const endpoint = provider.base_url.replace(/\/+$/, '').replace(/\/openai(\/v1)?$/, '');
  const version = provider.api_version ?? AZURE_DEFAULT_API_VERSION;
  if (version === 'v1') return `${endpoint}/openai/v1${path}`;
  if (version === 'preview') return `${endpoint}/openai/v1${path}?api-version=preview`;
  return `${endpoint}/openai/deployments/${encodeURIComponent(deployment)}${path}?api-version=${encodeURIComponent(version)}`;
}

/**
 * Static credentials: the resource key as `api-key`, or a fixed Entra token (fetched ones are added by authorize). A
 * key beside a token credential is refused when the config loads (registry `takes_api_key`).
 */
function azureAuth(provider: ProviderConfig): Record<string, string> {
  const { azure_ad_token } = azureOptions(provider);
  if (azure_ad_token) return { authorization: `Bearer ${azure_ad_token}` };
  return provider.api_key ? { 'api-key': provider.api_key } : {};
}

interface AzureErrorBody {
  error?: {
    message?: unknown;
    code?: unknown;
    param?: unknown;
    innererror?: { content_filter_result?: Record<string, { filtered?: boolean } | undefined> };
  };
}

/**
 * Azure's error body is OpenAI's with two quirks: `code` is often just the HTTP status again ("429"), which says less
 * than the gateway's own upstream_<status>, and a content-filter refusal names the categories that tripped only in
 * innererror, so they are added to the message.
 */
function parseAzureError(status: number, body: string, retryAfter: string | undefined, provider: string): GatewayError {
  let err: AzureErrorBody['error'];
  try {
    err = (JSON.parse(body) as AzureErrorBody).error;
  } catch {
    err = undefined;
  }
  if (!err || typeof err !== 'object' || typeof err.message !== 'string') return parseOpenAIError(status, body, retryAfter, provider);
  const verdict = err.innererror?.content_filter_result ?? {};
  const tripped = Object.keys(verdict).filter((category) => verdict[category]?.filtered === true);
  const message = tripped.length > 0 ? `${err.message} (filtered: ${tripped.join(', ')})` : err.message;
  const code = typeof err.code === 'string' && !/^\d+$/.test(err.code) ? err.code : null;
  const param = typeof err.param === 'string' ? err.param : null;
  return upstreamError(provider, status, message, { code, param, retryAfter });
}

/** The same operation, sent to the deployment that serves the model. */
function onDeployment<B>(op: OperationAdapter<B> | undefined): OperationAdapter<B> | undefined {
  return op && { ...op, buildRequest: (body: B, model: string, provider: ProviderConfig) => op.buildRequest(body, deploymentFor(model, provider), provider) };
}

export interface AzureAdapterDeps {
  /** How an Entra token is obtained; tests pass a fake. */
  fetchToken?: TokenFetcher;
  /** The clock the token cache refreshes by. */
  now?: () => number;
}

export function createAzureOpenAIAdapter(deps: AzureAdapterDeps = {}): ProviderAdapter {
  const { fetchToken = fetchEntraToken, now = Date.now } = deps;
  const openai = createOpenAIAdapter({ format: 'openai', url: azureUrl, auth: azureAuth });
  // Keyed by the provider object, so a configuration reload (new objects) starts afresh and old tokens are collected.
  const tokens = new WeakMap<ProviderConfig, TokenCache>();

  return {
    ...openai,

    // The deployment stands in for the model everywhere: in the path of the deployments API, as `model` in the v1 API.
    buildChatRequest: (req: ChatRequest, model: string, provider: ProviderConfig) => openai.buildChatRequest(req, deploymentFor(model, provider), provider),

    buildEmbeddingsRequest: (req: EmbeddingsRequest, model: string, provider: ProviderConfig) =>
      openai.buildEmbeddingsRequest!(req, deploymentFor(model, provider), provider),

    createStreamTranslator: createAzureStreamTranslator,

    // Azure serves these at the same addresses as chat (a deployment, or the v1 API); it has no moderation endpoint,
    // its content filter being part of every call, so a moderation request gets the gateway's 400 instead of a 404.
    operations: {
      completions: onDeployment(openai.operations?.completions),
      images: onDeployment(openai.operations?.images),
      transcriptions: onDeployment(openai.operations?.transcriptions),
      speech: onDeployment(openai.operations?.speech),
    },

    async authorize(call: UpstreamCall, provider: ProviderConfig): Promise<UpstreamCall> {
      const { entra } = azureOptions(provider);
      if (!entra) return call;
      let cache = tokens.get(provider);
      if (!cache) {
        cache = new TokenCache(() => fetchToken(entra, provider), now);
        tokens.set(provider, cache);
      }
      const token = await cache.get();
      return { ...call, headers: { ...call.headers, authorization: `Bearer ${token}` } };
    },

    parseError: parseAzureError,
  };
}

export const azureOpenAIAdapter = createAzureOpenAIAdapter();
