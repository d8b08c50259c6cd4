import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createParser } from 'eventsource-parser';
import { GatewayError } from '../../core/errors.ts';
import { PROVIDER_TYPES } from '../registry.ts';
import type { ProviderConfig, StreamEvent, StreamReader } from '../types.ts';
import { openaiAdapter } from './index.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

const provider: ProviderConfig = {
  name: 'openai',
  type: 'openai',
  api_key: 'sk-test',
  base_url: 'https://api.openai.com/v1/',
  headers: { 'openai-organization': 'org-1' },
  timeouts: { connect_ms: 1, first_byte_ms: 1, idle_ms: 1, total_ms: 1 },
  models: [],
  options: {},
};

const native = openaiAdapter.native!.responses!;

function events(sse: string): StreamEvent[] {
  const out: StreamEvent[] = [];
  createParser({ onEvent: (e) => out.push({ event: e.event, data: e.data }) }).feed(sse);
  return out;
}

/** Feeds events the way UpstreamStream does: usage read after each event, primed at the first substantive item. */
function replay(reader: StreamReader<StreamEvent>, input: StreamEvent[]) {
  const items: StreamEvent[] = [];
  let usage;
  for (const ev of input) {
    for (const item of reader.event(ev)) {
      usage = reader.usage(item) ?? usage;
      if (items.every((i) => !reader.substantive(i)) && reader.substantive(item)) reader.primed?.();
      items.push(item);
    }
  }
  items.push(...reader.end());
  return { items, usage };
}

test('the Responses body goes to {base_url}/responses untouched but for the model, with auth and configured headers', () => {
  const body = { model: 'smart', input: [{ role: 'user', content: 'hi' }], tools: [{ type: 'web_search' }], store: true, previous_response_id: 'resp_1' };
  const call = native.buildRequest(body, 'gpt-4.1', provider, { 'openai-beta': 'x' });
  assert.equal(call.url, 'https://api.openai.com/v1/responses');
  assert.deepEqual(call.headers, { 'content-type': 'application/json', authorization: 'Bearer sk-test', 'openai-organization': 'org-1' });
  assert.deepEqual(JSON.parse(call.body!), { ...body, model: 'gpt-4.1' });
});

test('only the openai type serves the Responses API natively; OpenAI-compatible presets are translated', () => {
  assert.ok(PROVIDER_TYPES.openai!.adapter.native?.responses);
  for (const preset of ['openai-compatible', 'vllm', 'ollama', 'groq', 'openrouter', 'mistral']) {
    assert.equal(PROVIDER_TYPES[preset]!.adapter.native?.responses, undefined, preset);
  }
});

test('usage of a whole response: input, output, cached and reasoning tokens', () => {
  assert.deepEqual(native.usage(JSON.parse(fixture('responses-text.json'))), {
    prompt_tokens: 36,
    completion_tokens: 87,
    total_tokens: 123,
    prompt_tokens_details: { cached_tokens: 12 },
    completion_tokens_details: { reasoning_tokens: 20 },
  });
  assert.equal(native.usage({ id: 'x' }), undefined);
});

test('stream events pass through as they came; usage comes from response.completed, which ends the stream', () => {
  const input = events(fixture('responses-stream.sse'));
  const reader = native.createStreamReader('openai');
  const { items, usage } = replay(reader, input);
  assert.deepEqual(items, input);
  assert.equal(reader.complete(), true);
  assert.deepEqual(usage, { prompt_tokens: 50, completion_tokens: 30, total_tokens: 80, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 12 } });
  assert.equal(reader.substantive(input[0]!), false, 'response.created only opens the stream');
  assert.equal(reader.substantive(input[2]!), true);
});

test('events without an event name are typed from their data', () => {
  const input = events(fixture('responses-stream.sse')).map((e) => ({ data: e.data }));
  const { items } = replay(native.createStreamReader('openai'), input);
  assert.equal(items[0]!.event, 'response.created');
  assert.equal(items.at(-1)!.event, 'response.completed');
});

test('response.failed before anything substantive is raised (so the request can fail over); after, it passes through', () => {
  assert.throws(
    () => replay(native.createStreamReader('openai'), events(fixture('responses-failed.sse'))),
    (e: GatewayError) => e.status === 500 && e.code === 'server_error' && /openai: The server had an error/.test(e.message),
  );
  const full = events(fixture('responses-stream.sse'));
  const failed = events(fixture('responses-failed.sse'))[2]!;
  const { items } = replay(native.createStreamReader('openai'), [...full.slice(0, 4), failed]);
  assert.deepEqual(items.at(-1), failed);
});

test('an error event is raised with a status fitting its code, in either shape', () => {
  const flat = { event: 'error', data: JSON.stringify({ type: 'error', code: 'rate_limit_exceeded', message: 'slow down', param: null, sequence_number: 3 }) };
  assert.throws(() => native.createStreamReader('openai').event(flat), (e: GatewayError) => e.status === 429 && e.code === 'rate_limit_exceeded' && e.message === 'openai: slow down');
  const nested = { data: JSON.stringify({ type: 'error', error: { code: 'invalid_prompt', message: 'bad', param: 'input' }, sequence_number: 1 }) };
  assert.throws(() => native.createStreamReader('openai').event(nested), (e: GatewayError) => e.status === 400 && e.param === 'input');
  assert.throws(() => native.createStreamReader('openai').event({ event: 'error', data: 'oops' }), (e: GatewayError) => e.status === 502);
});

test('a stream that stops before its terminal event was cut', () => {
  const input = events(fixture('responses-stream.sse')).slice(0, 6);
  assert.throws(() => replay(native.createStreamReader('openai'), input), (e: GatewayError) => e.status === 502 && e.code === 'stream_interrupted');
});
