// Anthropic errors, whether a non-2xx response or an `error` event in the middle of a stream, mapped to the status and
// message a client of the gateway should see.

import { GatewayError, streamInterrupted as interrupted, upstreamError } from '../../core/errors.ts';
import { isPlainObject } from '../shared.ts';

interface AnthropicErrorObject {
  type: string;
  message: string;
}

/**
 * Statuses for the error types of an in-stream `error` event, which has no HTTP status of its own (the 200 was sent
 * before it). overloaded_error is HTTP 529 at Anthropic; clients know 503 as "retry later", so that is what they get.
 */
const STATUS_BY_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 503,
  timeout_error: 504,
};

const MAX_BODY_IN_MESSAGE = 500;

/** 529 is Anthropic's own "overloaded" status, unknown to HTTP clients and retry libraries; 503 means the same. */
function clientStatus(status: number): number {
  return status === 529 ? 503 : status;
}

function errorObject(value: unknown): AnthropicErrorObject | undefined {
  if (!isPlainObject(value) || !isPlainObject(value.error)) return undefined;
  const { type, message } = value.error;
  return typeof type === 'string' && typeof message === 'string' ? { type, message } : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function parseAnthropicError(
  status: number,
  body: string,
  retryAfter: string | undefined,
  provider: string,
): GatewayError {
  const error = errorObject(parseJson(body));
  if (error) return upstreamError(provider, clientStatus(status), error.message, { code: error.type, retryAfter });
  const text = body.trim();
  const message = text ? `HTTP ${status}: ${text.slice(0, MAX_BODY_IN_MESSAGE)}` : `HTTP ${status} with an empty body`;
  return upstreamError(provider, clientStatus(status), message, { retryAfter });
}

/** An `error` event inside a stream: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}. */
export function streamError(data: unknown, provider: string): GatewayError {
  const error = errorObject(data);
  if (!error) return upstreamError(provider, 502, 'the stream reported an error without details');
  return upstreamError(provider, STATUS_BY_TYPE[error.type] ?? 502, error.message, { code: error.type });
}

export const streamInterrupted = (provider: string): GatewayError => interrupted(provider, 'message_stop');

export function invalidStreamEvent(provider: string, detail: string): GatewayError {
  return new GatewayError(
    502,
    'upstream_error',
    `${provider}: the upstream stream sent an unreadable event (${detail})`,
    {
      code: 'upstream_invalid_stream',
      provider,
    },
  );
}
