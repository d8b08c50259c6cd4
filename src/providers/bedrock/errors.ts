// Bedrock errors, whether a non-2xx answer or an exception message inside a ConverseStream, mapped to the status and
// message a client of the gateway should see. Bedrock bodies are {"message": "..."} with the error type in the
// x-amzn-errortype header; the adapter seam passes no headers to parseError, and the status alone already tells the
// types apart as far as a client is concerned (400 validation, 403 access, 404 model, 408 timeout, 429 throttling…).

import { GatewayError, streamInterrupted as interrupted, upstreamError } from '../../core/errors.ts';
import { isPlainObject } from '../shared.ts';

const MAX_BODY_IN_MESSAGE = 500;

/**
 * ModelErrorException is HTTP 424 at Bedrock: the model failed while working on a valid request. For a client that is
 * the upstream failing, not something to fix in its request, and as a 502 it also lets the gateway try the next target.
 */
function clientStatus(status: number): number {
  return status === 424 ? 502 : status;
}

/** The message of an AWS error body; auth failures spell the field `Message`. */
function errorMessage(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isPlainObject(parsed)) return undefined;
  const message = parsed.message ?? parsed.Message;
  return typeof message === 'string' ? message : undefined;
}

/** AWS signature errors go on to quote the canonical request, signed headers (session token) included: never passed on. */
const SIGNATURE_DETAIL = /\n\s*\nThe Canonical String[\s\S]*$/;

export function parseBedrockError(status: number, body: string, retryAfter: string | undefined, provider: string): GatewayError {
  const message = errorMessage(body)?.replace(SIGNATURE_DETAIL, '');
  if (message !== undefined) return upstreamError(provider, clientStatus(status), message, { retryAfter });
  const text = body.trim();
  const quoted = text ? `HTTP ${status}: ${text.slice(0, MAX_BODY_IN_MESSAGE)}` : `HTTP ${status} with an empty body`;
  return upstreamError(provider, clientStatus(status), quoted, { retryAfter });
}

/**
 * Statuses for the exceptions a ConverseStream can carry after its 200, by their event-stream names. A model that
 * fails mid-stream (modelStreamErrorException, 424 at Bedrock) is a bad gateway for the same reason as above.
 */
const STATUS_BY_EXCEPTION: Record<string, number> = {
  validationException: 400,
  throttlingException: 429,
  internalServerException: 500,
  modelStreamErrorException: 502,
  serviceUnavailableException: 503,
};

/** An exception message in the stream; `type` as the decoder named it (unmodelled errors come in UpperCamelCase). */
export function streamException(type: string, data: string, provider: string): GatewayError {
  const name = type.charAt(0).toLowerCase() + type.slice(1);
  const message = errorMessage(data) ?? `the stream reported ${type} without a message`;
  return upstreamError(provider, STATUS_BY_EXCEPTION[name] ?? 502, message, { code: name });
}

export const streamInterrupted = (provider: string): GatewayError => interrupted(provider, 'messageStop');

export function invalidUpstream(provider: string, detail: string): GatewayError {
  return new GatewayError(502, 'upstream_error', `${provider}: ${detail}`, { code: 'upstream_invalid_response', provider });
}
