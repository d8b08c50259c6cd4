import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError, upstreamError } from '../core/errors.ts';
import { isRetryable, retryAfterMs, retryDelayMs, type RetryPolicy } from './retry.ts';

const policy = (over: Partial<RetryPolicy> = {}): RetryPolicy => ({
  max_attempts: 3,
  initial_backoff_ms: 100,
  max_backoff_ms: 1000,
  statuses: new Set([429]),
  classes: new Set(['5xx', 'timeout', 'connection'] as const),
  ...over,
});

const timeout = new GatewayError(504, 'timeout_error', 'p: slow', { code: 'upstream_timeout', provider: 'p' });
const unreachable = new GatewayError(502, 'upstream_error', 'p: down', { code: 'upstream_unreachable', provider: 'p' });

test('Retry-After: delta seconds and HTTP dates, anything else unread', () => {
  assert.equal(retryAfterMs('2'), 2000);
  assert.equal(retryAfterMs(' 0.5 '), 500);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
  assert.equal(retryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now), 0, 'a date in the past means now');
  assert.equal(retryAfterMs('soon'), undefined);
  assert.equal(retryAfterMs(undefined), undefined);
});

test('what is retried: named statuses and classes of provider failures, never a request error or a gateway-made one', () => {
  assert.ok(isRetryable(upstreamError('p', 429, 'slow down'), policy()));
  assert.ok(isRetryable(upstreamError('p', 503, 'busy'), policy()));
  assert.ok(isRetryable(timeout, policy()));
  assert.ok(isRetryable(unreachable, policy()));
  assert.ok(!isRetryable(upstreamError('p', 400, 'bad'), policy()));
  assert.ok(!isRetryable(upstreamError('p', 429, 'slow down'), policy({ statuses: new Set() })));
  assert.ok(!isRetryable(timeout, policy({ classes: new Set(['5xx']) })), 'a timeout is its own class');
  assert.ok(isRetryable(upstreamError('p', 503, 'busy'), policy({ statuses: new Set([503]), classes: new Set() })));
  assert.ok(!isRetryable(new GatewayError(503, 'upstream_error', 'all open', { code: 'circuit_open' }), policy()), 'no provider: not retried');
  assert.ok(!isRetryable(new Error('boom'), policy()));
});

test('backoff: full jitter under an exponential cap bounded by max_backoff_ms', () => {
  const err = upstreamError('p', 500, 'oops');
  assert.equal(retryDelayMs(err, 1, policy(), () => 0.999), 99);
  assert.equal(retryDelayMs(err, 2, policy(), () => 0.999), 199);
  assert.equal(retryDelayMs(err, 3, policy(), () => 0.5), 200);
  assert.equal(retryDelayMs(err, 10, policy(), () => 0.999), 999, 'capped');
  assert.equal(retryDelayMs(err, 1, policy(), () => 0), 0);
});

test('a Retry-After wins over the jitter, and one longer than max_backoff_ms means no retry here', () => {
  assert.equal(retryDelayMs(upstreamError('p', 429, 'slow', { retryAfter: '1' }), 1, policy(), () => 0), 1000);
  assert.equal(retryDelayMs(upstreamError('p', 429, 'slow', { retryAfter: '2' }), 1, policy(), () => 0), undefined);
});
