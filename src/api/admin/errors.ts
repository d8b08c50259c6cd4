// The admin API's errors, in the gateway's OpenAI error shape.

import { GatewayError } from '../../core/errors.ts';
import type { StoreError } from '../../store/errors.ts';

/** Also what an object of another organization or team is answered with, so its existence does not leak. */
export const notFound = (what: string, id: string): GatewayError =>
  new GatewayError(404, 'not_found_error', `No ${what} '${id}'`, { code: 'not_found' });

export const forbidden = (message: string): GatewayError => new GatewayError(403, 'permission_error', message, { code: 'forbidden' });

export const unauthorized = (message: string, code = 'invalid_admin_credential'): GatewayError =>
  new GatewayError(401, 'authentication_error', message, { code });

export const conflict = (message: string, code = 'conflict'): GatewayError => new GatewayError(409, 'invalid_request_error', message, { code });

/** Constraint violations: their messages name columns, never values. */
export function fromStoreError(err: StoreError): GatewayError {
  if (err.code === 'invalid_reference') return new GatewayError(400, 'invalid_request_error', err.message, { code: 'invalid_reference' });
  return conflict(err.message, err.code);
}
