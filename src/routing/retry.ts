// Whether and when a failed attempt is tried again on the same target. Exponential backoff with full jitter (a random
// wait between 0 and the exponential cap) spreads the retries of many clients that failed together, so they do not hit
// a recovering provider in waves. A provider's Retry-After is a promise about when it will serve again and wins over
// the jitter; one longer than the policy's longest wait makes waiting pointless, and the next target is tried instead.

import { GatewayError } from '../core/errors.ts';

/** What a retry policy can name besides a status: any 5xx, a timeout, a connection that failed or broke. */
export const RETRY_CLASSES = ['5xx', 'timeout', 'connection'] as const;
export type RetryClass = (typeof RETRY_CLASSES)[number];

export interface RetryPolicy {
  /** Attempts on one target, the first included: 1 means no retry before falling back. */
  max_attempts: number;
  initial_backoff_ms: number;
  max_backoff_ms: number;
  /** Statuses (429, 503, …) and classes that are retried. */
  statuses: ReadonlySet<number>;
  classes: ReadonlySet<RetryClass>;
}

/** Codes the HTTP client gives failures of the connection itself (src/http/client.ts, the stream readers). */
const CONNECTION_CODES = new Set(['upstream_unreachable', 'upstream_connection_lost', 'stream_interrupted']);

/** The class of a failure for retry purposes, or undefined for one that is about the request (4xx). */
function classOf(err: GatewayError): RetryClass | undefined {
  if (err.code === 'upstream_timeout') return 'timeout';
  if (err.code !== null && CONNECTION_CODES.has(err.code)) return 'connection';
  return err.status >= 500 ? '5xx' : undefined;
}

export function isRetryable(err: unknown, policy: RetryPolicy): err is GatewayError {
  if (!(err instanceof GatewayError) || err.provider === undefined) return false;
  if (policy.statuses.has(err.status)) return true;
  const cls = classOf(err);
  return cls !== undefined && policy.classes.has(cls);
}

/** A Retry-After value (delta seconds or an HTTP date) in ms from `now`; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A wait in ms as a Retry-After header value: whole seconds, at least 1 so a client never reads "retry at once". */
export function retryAfterHeader(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

/**
 * How long to wait before retry number `retry` (1 for the first) after `err`, or undefined when the provider asked for
 * a longer pause than the policy ever waits.
 */
export function retryDelayMs(err: GatewayError, retry: number, policy: RetryPolicy, random: () => number = Math.random): number | undefined {
  const asked = retryAfterMs(err.headers['retry-after']);
  if (asked !== undefined) return asked <= policy.max_backoff_ms ? asked : undefined;
  const cap = Math.min(policy.max_backoff_ms, policy.initial_backoff_ms * 2 ** (retry - 1));
  return Math.floor(random() * cap);
}
