import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createParser } from 'eventsource-parser';
import { GatewayError } from '../../core/errors.ts';
import { PROVIDER_TYPES } from '../registry.ts';
import type { ProviderConfig, StreamEvent } from '../types.ts';
import { openaiAdapter } from './index.ts';
import { createEventReader, operationUsage } from './operations.ts';

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

const ops = openaiAdapter.operations!;

test('JSON operations pass the body through to their endpoint, only the model replaced', () => {
  const cases = [
    [ops.completions!, '/completions'],
    [ops.images!, '/images/generations'],
    [ops.speech!, '/audio/speech'],
    [ops.moderations!, '/moderations'],
  ] as const;
  for (const [op, path] of cases) {
    const body = { model: 'client-name', prompt: 'x', unknown_new_field: { a: 1 } };
    const call = op.buildRequest(body, 'upstream-model', provider());
    assert.equal(call.url, `https://api.openai.com/v1${path}`);
    assert.deepEqual(call.headers, { 'content-type': 'application/json', authorization: 'Bearer sk-test', 'openai-organization': 'org-1' });
    assert.deepEqual(JSON.parse(call.body!), { ...body, model: 'upstream-model' });
  }
});

test('chat-only wire options do not touch other operations', () => {
  // Ollama's chat takes max_tokens for max_completion_tokens; a legacy completions body is not a chat body.
  const ollama = PROVIDER_TYPES.ollama!.adapter;
  const config = provider({ name: 'local', type: 'ollama', headers: {} });
  const chat = ollama.buildChatRequest({ model: 'm', messages: [], max_completion_tokens: 3 }, 'llama3', config);
  assert.equal(JSON.parse(chat.body!).max_tokens, 3);
  const call = ollama.operations!.completions!.buildRequest({ model: 'm', prompt: 'p', max_completion_tokens: 3 }, 'llama3', config);
  assert.deepEqual(JSON.parse(call.body!), { model: 'llama3', prompt: 'p', max_completion_tokens: 3 });
});

test('a transcription upload is re-encoded with the target model in place', async () => {
  const audio = Uint8Array.from([1, 2, 3]);
  const call = ops.transcriptions!.buildRequest(
    [
      { name: 'file', filename: 'a.wav', contentType: 'audio/wav', data: audio },
      { name: 'model', value: 'openai/whisper-1' },
      { name: 'language', value: 'en' },
    ],
    'whisper-1',
    provider(),
  );
  assert.equal(call.url, 'https://api.openai.com/v1/audio/transcriptions');
  assert.equal(call.body, undefined);
  assert.match(call.headers['content-type']!, /^multipart\/form-data; boundary=/);
  assert.equal(call.headers.authorization, 'Bearer sk-test');
  const form = await new Response(call.bytes, { headers: { 'content-type': call.headers['content-type']! } }).formData();
  assert.deepEqual([...form.keys()], ['file', 'model', 'language']);
  assert.equal(form.get('model'), 'whisper-1');
  assert.deepEqual(new Uint8Array(await (form.get('file') as File).arrayBuffer()), audio);
});

test('usage is read in both namings, and absent where none is reported', () => {
  assert.deepEqual(operationUsage({ usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } }), { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
  assert.deepEqual(operationUsage({ usage: { input_tokens: 50, output_tokens: 4160, total_tokens: 4210 } }), { prompt_tokens: 50, completion_tokens: 4160, total_tokens: 4210 });
  assert.deepEqual(operationUsage({ usage: { type: 'tokens', input_tokens: 14, output_tokens: 45 } }), { prompt_tokens: 14, completion_tokens: 45, total_tokens: 59 });
  assert.equal(operationUsage({ usage: { type: 'duration', seconds: 3 } }), undefined);
  assert.equal(operationUsage({ results: [] }), undefined);
  assert.equal(operationUsage('text'), undefined);
});

function events(sse: string): StreamEvent[] {
  const out: StreamEvent[] = [];
  createParser({ onEvent: (e) => out.push({ event: e.event, data: e.data }) }).feed(sse);
  return out;
}

const chunk = (text: string, finish: string | null = null) =>
  JSON.stringify({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm', choices: [{ text, index: 0, logprobs: null, finish_reason: finish }] });

test('a streamed legacy completion is passed on event by event, usage read, [DONE] ending it', () => {
  const reader = createEventReader('openai');
  const usage = JSON.stringify({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 } });
  const sse = `data: ${chunk('Hel')}\n\ndata: ${chunk('lo', 'stop')}\n\ndata: ${usage}\n\ndata: [DONE]\n\n`;
  const seen: (string | undefined)[] = [];
  const out = events(sse).flatMap((ev) => {
    const items = reader.event(ev);
    seen.push(JSON.stringify(reader.usage(items[0] ?? '')));
    return items;
  });
  assert.deepEqual(out, [chunk('Hel'), chunk('lo', 'stop'), usage]);
  assert.deepEqual(seen, [undefined, undefined, JSON.stringify({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 }), undefined]);
  assert.ok(reader.complete());
  assert.deepEqual(reader.end(), []);
  assert.ok(reader.substantive(out[0]!));
});

test('an error inside a completion stream, or a stream cut before its end, is an error', () => {
  const failing = createEventReader('openai');
  assert.throws(
    () => failing.event({ data: JSON.stringify({ error: { message: 'overloaded', code: 'server_busy' } }) }),
    (e: GatewayError) => e.status === 500 && e.code === 'server_busy' && e.message === 'openai: overloaded',
  );
  const cut = createEventReader('local');
  cut.event({ data: chunk('Hel') });
  assert.throws(() => cut.end(), (e: GatewayError) => e.status === 502 && e.code === 'stream_interrupted');
  // Servers that omit [DONE] but send a finish_reason ended properly.
  const noDone = createEventReader('local');
  noDone.event({ data: chunk('Hi', 'length') });
  assert.deepEqual(noDone.end(), []);
});

test('text inside a completion that looks like a key is not mistaken for one', () => {
  const reader = createEventReader('openai');
  const tricky = chunk('{"error": "not really", "usage": {}}');
  assert.deepEqual(reader.event({ data: tricky }), [tricky]);
});
