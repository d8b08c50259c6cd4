// Answers that are a failure of one model rather than of the request, so that another target may serve it: a prompt
// longer than the model's context window, and a refusal by the provider's content filter. Each provider words these
// its own way; the patterns below are the wordings of OpenAI (and Azure, and OpenAI-compatible servers such as vLLM),
// Anthropic, Gemini, Bedrock and Mistral.

import { GatewayError } from '../core/errors.ts';
import type { Usage } from '../core/types.ts';
import type { FallbackReason } from './router.ts';

const CONTEXT_CODES = new Set(['context_length_exceeded', 'string_above_max_length']);
const CONTEXT_WORDING =
  /context length|context window|maximum context|prompt is too long|input is too long|too many (input )?tokens|exceeds the maximum number of tokens|input token count .* exceeds|maximum (input )?length/i;

const FILTER_CODES = new Set(['content_filter', 'content_filtered', 'content_policy_violation']);

export function contextWindowExceeded(err: GatewayError): boolean {
  return (err.status === 400 || err.status === 413 || err.status === 422) && ((err.code !== null && CONTEXT_CODES.has(err.code)) || CONTEXT_WORDING.test(err.message));
}

export function contentFiltered(err: GatewayError): boolean {
  return err.code !== null && FILTER_CODES.has(err.code);
}

/** Whether the route falls back on `err` beyond the failures every route falls back on. */
export function fallsBack(err: GatewayError, reasons: ReadonlySet<FallbackReason>): boolean {
  if (reasons.size === 0) return false;
  return (reasons.has('context_window_exceeded') && contextWindowExceeded(err)) || (reasons.has('content_filter') && contentFiltered(err));
}

/** A 2xx answer whose generation the provider's filter stopped, turned into a failure so the next target is asked. */
export function filteredAnswer(provider: string, usage: Usage | undefined): GatewayError {
  const err = new GatewayError(400, 'invalid_request_error', `${provider}: the provider's content filter stopped the answer`, { code: 'content_filter', provider });
  err.usage = usage;
  return err;
}
