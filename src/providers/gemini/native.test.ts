import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GatewayError } from '../../core/errors.ts';
import type { Usage } from '../../core/types.ts';
import type { ProviderConfig, StreamEvent } from '../types.ts';
import { geminiAdapter } from './index.ts';
import { geminiNative, retarget } from './native.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));

const PROVIDER: ProviderConfig = {
  name: 'gem',
  type: 'gemini',
  api_key: 'AIza-test',
  base_url: 'https://generativelanguage.googleapis.com/',
  headers: { 'x-extra': '1' },
  timeouts: { connect_ms: 1, first_byte_ms: 1, idle_ms: 1, total_ms: 1 },
  models: [],
  api_version: 'v1beta',
  options: {},
};

const BODY = {
  contents: [{ role: 'user', parts: [{ text: 'Hi' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }] }],
  safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_LOW_AND_ABOVE' }],
  generationConfig: { topK: 3, thinkingConfig: { includeThoughts: true, thinkingBudget: 512 } },
};

/** The events a stream fixture (a JSON array of GenerateContentResponse) arrives as. */
const events = (name: string): StreamEvent[] => (fixture(name) as unknown[]).map((payload) => ({ data: JSON.stringify(payload) }));

test('the gemini adapter serves the Gemini surface natively', () => {
  assert.equal(geminiAdapter.native?.gemini, geminiNative);
});

test('generateContent: the body goes to the target model untouched, with the provider key', () => {
  const call = geminiNative.buildRequest(BODY, 'gemini-2.5-flash', PROVIDER, { 'x-goog-api-key': 'client-key' });
  assert.equal(call.url, 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent');
  assert.equal(call.headers['x-goog-api-key'], 'AIza-test');
  assert.equal(call.headers['x-extra'], '1');
  assert.deepEqual(JSON.parse(call.body!), BODY);
});

test('streamGenerateContent asks for server-sent events; other methods keep their names', () => {
  const stream = geminiNative.buildMethodRequest!('streamGenerateContent', BODY, 'models/gemini-2.5-pro', PROVIDER);
  assert.equal(stream.url, 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse');
  assert.deepEqual(JSON.parse(stream.body!), BODY);
  const count = geminiNative.buildMethodRequest!('countTokens', { contents: BODY.contents }, 'gemini-2.5-pro', PROVIDER);
  assert.match(count.url, /models\/gemini-2\.5-pro:countTokens$/);
});

test('a model named inside the body is pointed at the target (batch embeddings, countTokens), nothing else changes', () => {
  const batch = { requests: [{ model: 'models/my-embed', content: { parts: [{ text: 'a' }] }, taskType: 'RETRIEVAL_QUERY' }] };
  assert.deepEqual(retarget(batch, 'gemini-embedding-001'), {
    requests: [{ model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] }, taskType: 'RETRIEVAL_QUERY' }],
  });
  const count = { generateContentRequest: { model: 'models/alias', contents: [] } };
  assert.deepEqual(retarget(count, 'gemini-2.5-flash'), { generateContentRequest: { model: 'models/gemini-2.5-flash', contents: [] } });
  assert.deepEqual(retarget(BODY, 'x'), BODY);
});

test('usage of a whole answer: thoughts count as completion tokens; embeddings carry none', () => {
  const usage = geminiNative.usage(fixture('generate-thinking.json'));
  assert.ok(usage);
  const meta = (fixture('generate-thinking.json') as { usageMetadata: { candidatesTokenCount: number; thoughtsTokenCount: number } }).usageMetadata;
  assert.equal(usage.completion_tokens, meta.candidatesTokenCount + meta.thoughtsTokenCount);
  assert.equal(usage.completion_tokens_details?.reasoning_tokens, meta.thoughtsTokenCount);
  assert.equal(geminiNative.usage({ embeddings: [] }), undefined);
});

test('stream reader: events pass through as they came, usage read, the end is the body end after a finishReason', () => {
  const reader = geminiNative.createStreamReader('gem');
  const input = events('stream-thinking.json');
  let usage: Usage | undefined;
  const out = input.flatMap((ev) => {
    const items = reader.event(ev);
    for (const item of items) {
      assert.ok(reader.substantive(item));
      usage = reader.usage(item) ?? usage;
    }
    return items;
  });
  assert.deepEqual(out, input);
  assert.equal(reader.complete(), false);
  assert.deepEqual(reader.end(), []);
  assert.deepEqual(usage, {
    prompt_tokens: 11,
    completion_tokens: 9 + 133,
    total_tokens: 153,
    completion_tokens_details: { reasoning_tokens: 133 },
  });
});

test('stream reader: a cut stream (no finishReason) is an error, not a short answer', () => {
  const reader = geminiNative.createStreamReader('gem');
  for (const ev of events('stream-cut.json')) reader.event(ev);
  assert.throws(() => reader.end(), (e: GatewayError) => e.status === 502 && e.code === 'stream_interrupted' && e.provider === 'gem');
});

test('stream reader: an in-stream error is raised with its status', () => {
  const reader = geminiNative.createStreamReader('gem');
  const [first, error] = events('stream-error.json');
  assert.equal(reader.event(first!).length, 1);
  assert.throws(() => reader.event(error!), (e: GatewayError) => e.status === 503 && e.code === 'UNAVAILABLE' && /overloaded/.test(e.message));
});

test('stream reader: a blocked prompt is a proper end; garbage is a bad gateway', () => {
  const reader = geminiNative.createStreamReader('gem');
  for (const ev of events('stream-blocked.json')) reader.event(ev);
  assert.deepEqual(reader.end(), []);
  assert.throws(() => geminiNative.createStreamReader('gem').event({ data: 'not json' }), (e: GatewayError) => e.status === 502 && e.code === 'bad_upstream_response');
});
