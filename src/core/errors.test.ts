import assert from 'node:assert/strict';
import { test } from 'node:test';
import { upstreamError } from './errors.ts';

test('upstream statuses reach the client with the matching OpenAI error type', () => {
  const cases: [number, number, string][] = [
    [400, 400, 'invalid_request_error'],
    [401, 401, 'authentication_error'],
    [403, 403, 'permission_error'],
    [404, 404, 'not_found_error'],
    [408, 408, 'timeout_error'],
    [413, 413, 'request_too_large'],
    [422, 422, 'invalid_request_error'],
    [429, 429, 'rate_limit_error'],
    [500, 500, 'upstream_error'],
    [503, 503, 'upstream_error'],
    [504, 504, 'timeout_error'],
    [520, 502, 'upstream_error'],
    [302, 502, 'upstream_error'],
  ];
  for (const [upstream, status, type] of cases) {
    const err = upstreamError('p', upstream, 'm');
    assert.deepEqual([err.status, err.type], [status, type], `upstream ${upstream}`);
  }
});

test('retry-after is preserved and the provider is named', () => {
  const err = upstreamError('anthropic', 429, 'slow down', { retryAfter: '12', code: 'rate_limit_error' });
  assert.deepEqual(err.headers, { 'retry-after': '12' });
  assert.equal(err.provider, 'anthropic');
  assert.deepEqual(err.toOpenAI(), { error: { message: 'anthropic: slow down', type: 'rate_limit_error', code: 'rate_limit_error', param: null } });
});
