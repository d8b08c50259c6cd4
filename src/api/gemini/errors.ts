// Errors in the Gemini API's own shape, {"error": {"code", "message", "status"}}, which the Google GenAI SDKs read:
// `code` is the HTTP status and `status` its google.rpc.Code name.

import type { GatewayError } from '../../core/errors.ts';
import type { ErrorShape } from '../../server/errors.ts';

const GOOGLE_CODES = new Set([
  'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'UNAUTHENTICATED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL',
  'UNAVAILABLE', 'DATA_LOSS',
]);

const STATUS_BY_HTTP: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  408: 'DEADLINE_EXCEEDED',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export interface GeminiErrorBody {
  error: { code: number; message: string; status: string };
}

/** A Gemini upstream's own status name is kept (FAILED_PRECONDITION is a 400 too); anything else follows the HTTP status. */
export function geminiErrorBody(err: GatewayError): GeminiErrorBody {
  const status = err.code !== null && GOOGLE_CODES.has(err.code) ? err.code : (STATUS_BY_HTTP[err.status] ?? (err.status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT'));
  return { error: { code: err.status, message: err.message, status } };
}

export const geminiErrorShape: ErrorShape = geminiErrorBody;
