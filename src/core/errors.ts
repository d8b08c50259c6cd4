// Every error a client sees is a GatewayError rendered in the OpenAI error shape (or the Anthropic one on that surface),
// with a status that tells the client whether to fix the request, retry, or give up.

import type { Usage } from './types.ts';

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'timeout_error'
  | 'upstream_error'
  | 'api_error';

export interface GatewayErrorOptions {
  code?: string | null;
  param?: string | null;
  /** The configured provider name this error came from, when it came from upstream. */
  provider?: string;
  /** Headers to send with the error response (e.g. retry-after). */
  headers?: Record<string, string>;
}

export class GatewayError extends Error {
  /**
   * What the failed answer still consumed: a provider that ends a billed generation with an error (Cohere's ERROR,
   * Bedrock's malformed output) is still paid for, and the usage record must say so.
   */
  usage: Usage | undefined;
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string | null;
  readonly param: string | null;
  readonly provider: string | undefined;
  readonly headers: Record<string, string>;

  constructor(status: number, type: ErrorType, message: string, options: GatewayErrorOptions = {}) {
    super(message);
    this.name = 'GatewayError';
    this.status = status;
    this.type = type;
    this.code = options.code ?? null;
    this.param = options.param ?? null;
    this.provider = options.provider;
    this.headers = options.headers ?? {};
    this.usage = undefined;
  }

  toOpenAI(): { error: { message: string; type: ErrorType; code: string | null; param: string | null } } {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param } };
  }
}

/** nginx's 499, recorded for a request's after-stages (logs, usage) when the client left; nobody receives it. */
export const CLIENT_CLOSED = new GatewayError(499, 'api_error', 'the client closed the connection', { code: 'client_closed_request' });

/** What anything unexpected answers: a 500 that reveals nothing internal. */
export const INTERNAL_ERROR = new GatewayError(500, 'api_error', 'The gateway failed to handle this request; report it with the x-request-id header value', { code: 'internal_error' });

export const badRequest = (message: string, param?: string, code = 'invalid_request'): GatewayError =>
  new GatewayError(400, 'invalid_request_error', message, { param: param ?? null, code });

/** A parameter the chosen provider cannot honour: refuse it rather than drop it silently. */
export const unsupportedParam = (provider: string, param: string, why: string): GatewayError =>
  new GatewayError(400, 'invalid_request_error', `Provider '${provider}' does not support '${param}': ${why}`, {
    param,
    code: 'unsupported_parameter',
    provider,
  });

export const modelNotFound = (model: string): GatewayError =>
  new GatewayError(
    404,
    'not_found_error',
    `The model '${model}' does not exist on this gateway. Use a model name from GET /v1/models, or address a provider directly as '<provider>/<model>'.`,
    { code: 'model_not_found', param: 'model' },
  );

const TYPE_BY_STATUS: Record<number, ErrorType> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  408: 'timeout_error',
  413: 'request_too_large',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
};

/** The OpenAI error type for a client-facing status: known 4xx by name, any other 4xx as an invalid request. */
export function errorTypeFor(status: number): ErrorType {
  return TYPE_BY_STATUS[status] ?? (status === 504 ? 'timeout_error' : status < 500 ? 'invalid_request_error' : 'upstream_error');
}

/** A provider answered 2xx with something that is not what its wire format promises. */
export const badUpstreamResponse = (message: string, provider?: string): GatewayError =>
  new GatewayError(502, 'upstream_error', message, { code: 'bad_upstream_response', ...(provider !== undefined && { provider }) });

const STANDARD_5XX = new Set([500, 501, 502, 503, 504]);

/**
 * Maps an upstream failure to what the client sees. A 4xx is about the request (or, for 429, pacing) and is kept; a
 * provider's standard 5xx is kept too, so clients and their retry logic see what happened upstream. Anything else
 * (a vendor-specific 5xx such as 520, or a status that is not an error) becomes 502 Bad Gateway.
 */
export function upstreamError(
  provider: string,
  status: number,
  message: string,
  options: { code?: string | null; param?: string | null; retryAfter?: string | undefined } = {},
): GatewayError {
  const clientStatus = (status >= 400 && status < 500) || STANDARD_5XX.has(status) ? status : 502;
  const type = errorTypeFor(clientStatus);
  const headers: Record<string, string> = {};
  if (options.retryAfter) headers['retry-after'] = options.retryAfter;
  return new GatewayError(clientStatus, type, `${provider}: ${message}`, {
    code: options.code ?? `upstream_${clientStatus}`,
    param: options.param ?? null,
    provider,
    headers,
  });
}

/** An upstream stream that stopped before its proper end (`before`: the marker it never sent): the answer is incomplete. */
export const streamInterrupted = (provider: string, before: string): GatewayError =>
  new GatewayError(502, 'upstream_error', `${provider}: the stream ended early, before ${before}; the answer is incomplete`, {
    code: 'stream_interrupted',
    provider,
  });

/** Runs `decide` (which may throw for a failed answer); a GatewayError it throws carries the answer's usage. */
export function billedEvenIfFailed<T>(usage: Usage | undefined, decide: () => T): T {
  try {
    return decide();
  } catch (err) {
    if (err instanceof GatewayError && usage) err.usage = usage;
    throw err;
  }
}
