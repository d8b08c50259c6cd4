// The attempts of a request that did not answer it, in order, for the request log: which target, and what it said.
// Noted only when an attempt fails or a target is skipped, so a request answered at the first try allocates nothing.

import type { GatewayError } from '../core/errors.ts';
import type { Target } from '../routing/router.ts';
import type { RequestContext } from './context.ts';

export interface FailedAttempt {
  /** "<provider>/<model>". */
  target: string;
  /** The failure's status; null for a target skipped because its circuit was open. */
  status: number | null;
  code: string | null;
}

export function noteFailedAttempt(ctx: RequestContext, target: Target, err: GatewayError): void {
  (ctx.failedAttempts ??= []).push({ target: target.id, status: err.status, code: err.code });
}

export function noteSkippedTarget(ctx: RequestContext, target: Target): void {
  (ctx.failedAttempts ??= []).push({ target: target.id, status: null, code: 'circuit_open' });
}
