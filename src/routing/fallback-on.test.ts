import assert from 'node:assert/strict';
import { test } from 'node:test';
import { upstreamError } from '../core/errors.ts';
import { contentFiltered, contextWindowExceeded, fallsBack } from './fallback-on.ts';

test('context window exceeded, in each provider\'s words', () => {
  assert.ok(contextWindowExceeded(upstreamError('openai', 400, "This model's maximum context length is 8192 tokens", { code: 'context_length_exceeded' })));
  assert.ok(contextWindowExceeded(upstreamError('anthropic', 400, 'prompt is too long: 210000 tokens > 200000 maximum')));
  assert.ok(contextWindowExceeded(upstreamError('gemini', 400, 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).')));
  assert.ok(contextWindowExceeded(upstreamError('bedrock', 400, 'Input is too long for requested model.')));
  assert.ok(!contextWindowExceeded(upstreamError('openai', 400, "Invalid value for 'temperature'")));
  assert.ok(!contextWindowExceeded(upstreamError('openai', 500, 'context length bug on our side')), 'a server error is not about the prompt');
});

test('content filter refusals by code', () => {
  assert.ok(contentFiltered(upstreamError('azure', 400, 'The response was filtered', { code: 'content_filter' })));
  assert.ok(!contentFiltered(upstreamError('azure', 400, 'bad request')));
});

test('only the reasons a route names fall back', () => {
  const tooLong = upstreamError('openai', 400, 'maximum context length', { code: 'context_length_exceeded' });
  assert.ok(fallsBack(tooLong, new Set(['context_window_exceeded'])));
  assert.ok(!fallsBack(tooLong, new Set(['content_filter'])));
  assert.ok(!fallsBack(tooLong, new Set()));
});
