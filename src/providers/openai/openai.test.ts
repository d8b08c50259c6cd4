import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createParser } from 'eventsource-parser';
import { GatewayError } from '../../core/errors.ts';
import type { ChatChunk, ChatRequest } from '../../core/types.ts';
import { PROVIDER_TYPES } from '../registry.ts';
import type { ProviderConfig, StreamEvent, StreamTranslator } from '../types.ts';
import { openaiAdapter } from './index.ts';
import { hasKey, hasText } from './stream.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

const provider = (over: Partial<ProviderConfig> = {}): ProviderConfig => ({
  name: 'openai',
  type: 'openai',
  api_key: 'sk-test',
  base_url: 'https://api.openai.com/v1/',
  headers: { 'openai-organization': 'org-1' },
  timeouts: { connect_ms: 1, first_byte_ms: 1, idle_ms: 1, total_ms: 1 },
  models: [],
  options: {},
  ...over,
});

const ctx = { model: 'gpt-4o', provider: 'openai', includeUsage: true, id: 'x', created: 1 };

function replay(translator: StreamTranslator, sse: string): ChatChunk[] {
  const events: StreamEvent[] = [];
  createParser({ onEvent: (e) => events.push({ event: e.event, data: e.data }) }).feed(sse);
  return [...events.flatMap((e) => translator.event(e)), ...translator.end()];
}

test('chat requests pass through untouched except model, auth and configured headers', () => {
  const req: ChatRequest = {
    model: 'smart',
    messages: [{ role: 'user', content: 'hi' }],
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
    service_tier: 'flex',
    max_completion_tokens: 10,
  };
  const call = openaiAdapter.buildChatRequest(req, 'gpt-4o', provider());
  assert.equal(call.url, 'https://api.openai.com/v1/chat/completions');
  assert.deepEqual(call.headers, { 'content-type': 'application/json', authorization: 'Bearer sk-test', 'openai-organization': 'org-1' });
  assert.deepEqual(JSON.parse(call.body!), { ...req, model: 'gpt-4o' });
});

test('a provider without a key sends no authorization header', () => {
  const call = openaiAdapter.buildChatRequest({ model: 'm', messages: [] }, 'm', provider({ api_key: undefined, headers: {} }));
  assert.deepEqual(call.headers, { 'content-type': 'application/json' });
});

test('responses are returned as the provider sent them, tool calls and usage details included', () => {
  const body = JSON.parse(fixture('chat-tool-calls.json'));
  assert.deepEqual(openaiAdapter.parseChatResponse(body, 'gpt-4o'), body);
  assert.throws(() => openaiAdapter.parseChatResponse({ id: 'x' }, 'gpt-4o'), (e: GatewayError) => e.status === 502);
});

test('stream chunks pass through; tool-call deltas keep index, id, name and argument pieces', () => {
  const chunks = replay(openaiAdapter.createStreamTranslator(ctx), fixture('stream-tool-calls.sse'));
  assert.equal(chunks.length, 6);
  const args = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? [])).map((t) => t.function?.arguments).join('');
  assert.equal(args, '{"city":"Paris"}');
  assert.equal(chunks[4]!.choices[0]!.finish_reason, 'tool_calls');
  assert.equal(chunks[5]!.usage!.total_tokens, 99);
});

test('a stream cut before [DONE] and before any finish_reason is an error, not a silent end', () => {
  const cut = fixture('stream-tool-calls.sse').split('\n\n').slice(0, 3).join('\n\n') + '\n\n';
  assert.throws(() => replay(openaiAdapter.createStreamTranslator(ctx), cut), (e: GatewayError) => e.status === 502 && e.code === 'stream_interrupted' && e.message.startsWith('openai:'));
});

test('an error object inside the stream is raised', () => {
  const t = openaiAdapter.createStreamTranslator(ctx);
  assert.throws(() => t.event({ data: '{"error":{"message":"overloaded","code":"server_error"}}' }), (e: GatewayError) => e.status === 500 && /overloaded/.test(e.message));
});

test('upstream errors keep status, message, code and retry-after', () => {
  const err = openaiAdapter.parseError(429, fixture('error-429.json'), '1', 'openai');
  assert.equal(err.status, 429);
  assert.equal(err.type, 'rate_limit_error');
  assert.equal(err.code, 'rate_limit_exceeded');
  assert.deepEqual(err.headers, { 'retry-after': '1' });
  assert.match(err.message, /^openai: Rate limit reached/);
  const html = openaiAdapter.parseError(503, '<html>bad gateway</html>', undefined, 'local');
  assert.equal(html.status, 503);
  assert.match(html.message, /local: <html>bad gateway/);
});

test('embeddings pass through to /embeddings', () => {
  const call = openaiAdapter.buildEmbeddingsRequest!({ model: 'e', input: ['a'] }, 'text-embedding-3-small', provider());
  assert.equal(call.url, 'https://api.openai.com/v1/embeddings');
  assert.deepEqual(JSON.parse(call.body!), { model: 'text-embedding-3-small', input: ['a'] });
});

test('presets are the OpenAI adapter with their wire differences', () => {
  const mistral = PROVIDER_TYPES.mistral!;
  assert.equal(mistral.base_url, 'https://api.mistral.ai/v1');
  const body = JSON.parse(
    mistral.adapter.buildChatRequest(
      { model: 'x', messages: [], seed: 7, max_completion_tokens: 5, stream: true, stream_options: { include_usage: true } },
      'mistral-large-latest',
      provider({ name: 'mistral', type: 'mistral' }),
    ).body!,
  );
  assert.deepEqual(body, { model: 'mistral-large-latest', messages: [], random_seed: 7, max_tokens: 5, stream: true });
  const ollama = JSON.parse(PROVIDER_TYPES.ollama!.adapter.buildChatRequest({ model: 'x', messages: [], max_completion_tokens: 5 }, 'llama3.2', provider()).body!);
  assert.deepEqual(ollama, { model: 'llama3.2', messages: [], max_tokens: 5 });
  assert.equal(PROVIDER_TYPES.ollama!.base_url, 'http://127.0.0.1:11434/v1');
  assert.equal(PROVIDER_TYPES['openai-compatible']!.base_url, undefined);
});

test('passthrough hands plain events on as their own text and parses only those with usage or an error', () => {
  const t = openaiAdapter.createStreamTranslator(ctx);
  const events: StreamEvent[] = [];
  createParser({ onEvent: (e) => events.push({ data: e.data }) }).feed(fixture('stream-tool-calls.sse'));
  const out = events.map((e) => t.passthrough!(e));
  assert.equal(out.at(-1), null, '[DONE] carries no chunk');
  const texts = out.filter((c): c is string => typeof c === 'string');
  assert.deepEqual(texts, events.slice(0, texts.length).map((e) => e.data));
  const usage = out.find((c) => c !== null && typeof c === 'object') as ChatChunk;
  assert.equal(usage.usage!.total_tokens, 99);
  assert.equal(t.complete!(), true);
  assert.throws(() => t.passthrough!({ data: '{"error": {"message":"overloaded"}}' }), (e: GatewayError) => e.status === 500);
  assert.throws(() => t.passthrough!({ data: 'oops' }), (e: GatewayError) => e.status === 502);
});

test('passthrough notices a finish_reason in unparsed text, so a server that omits [DONE] is not taken as cut', () => {
  const t = openaiAdapter.createStreamTranslator(ctx);
  t.passthrough!({ data: '{"choices":[{"index":0,"delta":{"content":"\\"finish_reason\\": \\"x\\""},"finish_reason":null}]}' });
  assert.throws(() => t.end(), (e: GatewayError) => e.code === 'stream_interrupted');
  t.passthrough!({ data: '{"choices":[{"index":0,"delta":{},"finish_reason" : "stop"}], "usage" : null}' });
  assert.deepEqual(t.end(), []);
});

test('hasKey matches keys only, never text inside a string value', () => {
  assert.equal(hasKey('{"a":"\\"usage\\": {"}', 'usage'), false);
  assert.equal(hasKey('{"a":"usage","usage" :\n {"x":1}}', 'usage', '{'), true);
  assert.equal(hasKey('{"usage":null}', 'usage', '{'), false);
  assert.equal(hasKey('{"max_usage":{"x":1}}', 'usage'), false, 'a key that only ends in the name');
  assert.equal(hasKey('{"a":"usage\\"","usage":{}}', 'usage', '{'), true, 'after an escaped quote in a string');
});

test('hasText matches a key whose value is a string with something in it', () => {
  assert.equal(hasText('{"delta":{"role":"assistant","content":""}}', 'content'), false);
  assert.equal(hasText('{"delta":{"content":null}}', 'content'), false);
  assert.equal(hasText('{"delta":{"content" : "Hi"}}', 'content'), true);
  assert.equal(hasText('{"delta":{"content":"\\""}}', 'content'), true, 'an escaped quote is something');
  assert.equal(hasText('{"a":"content\\": \\"x"}', 'content'), false, 'text inside a string');
  assert.equal(hasText('{"logprobs":{"content":[]},"delta":{"content":"x"}}', 'content'), true, 'a later key of the same name');
});
