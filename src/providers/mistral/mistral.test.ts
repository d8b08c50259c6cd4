import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createParser } from 'eventsource-parser';
import { jsonText, parseJson } from '../../core/json-text.ts';
import type { ChatChunk, ChatRequest, ChatResponse } from '../../core/types.ts';
import { OPENAI_COMPATIBLE_PRESETS } from '../openai-compatible/presets.ts';
import { PROVIDER_TYPES } from '../registry.ts';
import type { ProviderConfig, StreamEvent } from '../types.ts';
import { mistralAdapter, MISTRAL_DEFAULT_BASE_URL } from './index.ts';
import { mistralToolCallId } from './request.ts';
import { thrownGatewayError } from '../../../test/helpers/gateway-error.ts';

const fixtureText = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

const provider: ProviderConfig = {
  name: 'mis',
  type: 'mistral',
  api_key: 'mis-key',
  base_url: MISTRAL_DEFAULT_BASE_URL,
  headers: {},
  timeouts: { connect_ms: 1000, first_byte_ms: 1000, idle_ms: 1000, total_ms: 1000 },
  models: [],
  options: {},
};

const MODEL = 'mistral-large-latest';
const hi: ChatRequest['messages'] = [{ role: 'user', content: 'Hi' }];
const weather = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } };
const MISTRAL_ID = /^[a-zA-Z0-9]{9}$/;

function body(req: Partial<ChatRequest>): Record<string, any> {
  return JSON.parse(mistralAdapter.buildChatRequest({ model: 'smart', messages: hi, ...req }, MODEL, provider).body!) as Record<string, any>;
}

const refusal = thrownGatewayError;

const ctx = { model: MODEL, provider: 'mis', includeUsage: false, id: 'chatcmpl-x', created: 1 };

function events(name: string): StreamEvent[] {
  const out: StreamEvent[] = [];
  createParser({ onEvent: (e) => out.push({ data: e.data }) }).feed(fixtureText(name));
  return out;
}

// ---- Registry ----

test('type mistral is the native adapter at api.mistral.ai, no longer an OpenAI-compatible preset', () => {
  const type = PROVIDER_TYPES.mistral!;
  assert.equal(type.adapter, mistralAdapter);
  assert.equal(type.base_url, 'https://api.mistral.ai/v1');
  assert.deepEqual(type.api_key_env, ['MISTRAL_API_KEY']);
  assert.ok(type.model_pattern!.test('magistral-medium-latest') && !type.model_pattern!.test('gpt-4o'));
  assert.equal(OPENAI_COMPATIBLE_PRESETS.mistral, undefined);
});

// ---- Request ----

test('the OpenAI request passes through with Mistral names: random_seed, max_tokens, no stream_options', () => {
  const call = mistralAdapter.buildChatRequest(
    { model: 'smart', messages: hi, seed: 7, max_completion_tokens: 5, stream: true, stream_options: { include_usage: true } },
    MODEL,
    provider,
  );
  assert.equal(call.url, 'https://api.mistral.ai/v1/chat/completions');
  assert.equal(call.headers.authorization, 'Bearer mis-key');
  assert.deepEqual(JSON.parse(call.body!), { model: MODEL, messages: hi, random_seed: 7, max_tokens: 5, stream: true });
});

test("Mistral's own fields (prompt_mode, safe_prompt, reasoning_effort) and json_schema go through as sent", () => {
  const format = { type: 'json_schema' as const, json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } };
  const b = body({ prompt_mode: 'reasoning', safe_prompt: true, reasoning_effort: 'high', response_format: format });
  assert.deepEqual(b, { model: MODEL, messages: hi, prompt_mode: 'reasoning', safe_prompt: true, reasoning_effort: 'high', response_format: format });
});

test('developer messages are sent as system messages: Mistral has no developer role', () => {
  assert.deepEqual(body({ messages: [{ role: 'developer', content: 'Be brief.' }, ...hi] }).messages, [{ role: 'system', content: 'Be brief.' }, ...hi]);
});

test("tool_choice 'required' is sent as Mistral's 'any'; the other choices as they are", () => {
  assert.equal(body({ tools: [weather], tool_choice: 'required' }).tool_choice, 'any');
  assert.equal(body({ tools: [weather], tool_choice: 'auto' }).tool_choice, 'auto');
  assert.equal(body({ tools: [weather], tool_choice: 'none' }).tool_choice, 'none');
  const named = { type: 'function' as const, function: { name: 'get_weather' } };
  assert.deepEqual(body({ tools: [weather], tool_choice: named }).tool_choice, named);
});

test("other providers' tool-call ids become 9 alphanumerics, the same in the call and its result, in every request", () => {
  const messages: ChatRequest['messages'] = [
    { role: 'user', content: 'Weather in Paris and Rome?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_PTLP8xhu3uwZk4l3nlnrrJha', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        { id: 'D681PevKs', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_PTLP8xhu3uwZk4l3nlnrrJha', content: '18C' },
    { role: 'tool', tool_call_id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', content: '21C' },
    { role: 'tool', tool_call_id: 'D681PevKs', content: '9C' },
  ];
  const sent = body({ messages }).messages;
  const ids = sent[1].tool_calls.map((c: { id: string }) => c.id);
  assert.ok(ids.every((id: string) => MISTRAL_ID.test(id)));
  assert.equal(ids[2], 'D681PevKs', "Mistral's own ids are kept");
  assert.equal(new Set(ids).size, 3);
  assert.deepEqual(sent.slice(2).map((m: { tool_call_id: string }) => m.tool_call_id), ids);
  assert.deepEqual(sent[1].tool_calls[0], { id: ids[0], type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
  assert.deepEqual(body({ messages }).messages, sent, 'the mapping is stable from one request to the next');
  assert.equal(mistralToolCallId('call_PTLP8xhu3uwZk4l3nlnrrJha'), ids[0]);
  assert.deepEqual(messages[2], { role: 'tool', tool_call_id: 'call_PTLP8xhu3uwZk4l3nlnrrJha', content: '18C' }, 'the client request is not changed');
});

test('reasoning kept in the history goes back as a thinking chunk, since Mistral refuses unknown message fields', () => {
  const sent = body({
    messages: [
      { role: 'user', content: 'Sisters?' },
      { role: 'assistant', content: 'Three.', reasoning_content: 'Two plus Alice.' },
      { role: 'assistant', content: [{ type: 'text', text: 'Sure.' }], reasoning_content: '' },
      { role: 'assistant', content: null, reasoning_content: 'Need the weather.', tool_calls: [{ id: 'abcdefghi', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
    ],
  }).messages;
  assert.deepEqual(sent.slice(1), [
    { role: 'assistant', content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'Two plus Alice.' }] }, { type: 'text', text: 'Three.' }] },
    { role: 'assistant', content: [{ type: 'text', text: 'Sure.' }] },
    {
      role: 'assistant',
      content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'Need the weather.' }] }],
      tool_calls: [{ id: 'abcdefghi', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
    },
  ]);
});

// ---- Response ----

function parse(name: string): ChatResponse {
  return mistralAdapter.parseChatResponse(parseJson(fixtureText(name)), MODEL);
}

test('an answer that already is canonical is returned as it came, so its bytes are sent on unchanged', () => {
  const text = fixtureText('chat-text.json');
  const parsed = parseJson(text);
  const res = mistralAdapter.parseChatResponse(parsed, MODEL);
  assert.equal(res, parsed);
  assert.equal(jsonText(res), text);
});

test('content chunks from a reasoning model become the text and reasoning_content', () => {
  const res = parse('chat-thinking.json');
  assert.deepEqual(res.choices[0]!.message, {
    role: 'assistant',
    tool_calls: null,
    content: 'Each brother has 3 sisters.',
    reasoning_content: 'Alice has 2 sisters; her brothers have those 2 plus Alice.',
  });
  assert.deepEqual(res.usage, { prompt_tokens: 250, completion_tokens: 120, total_tokens: 370 });
  assert.notEqual(jsonText(res), fixtureText('chat-thinking.json'));
});

test('tool calls get the type Mistral leaves out; arguments sent as an object become JSON text', () => {
  const res = parse('chat-tool-calls.json');
  assert.deepEqual(res.choices[0]!.message.tool_calls, [
    { id: 'D681PevKs', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' }, index: 0 },
    { id: 'q2Xk7LmZa', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Rome"}' }, index: 1 },
  ]);
  assert.equal(res.choices[0]!.finish_reason, 'tool_calls');
  const objectArgs = mistralAdapter.parseChatResponse(
    { choices: [{ index: 0, message: { role: 'assistant', content: '', tool_calls: [{ id: 'abcdefghi', function: { name: 'f', arguments: { a: 1 } } }] }, finish_reason: 'tool_calls' }] },
    MODEL,
  );
  assert.deepEqual(objectArgs.choices[0]!.message.tool_calls![0]!.function, { name: 'f', arguments: '{"a":1}' });
});

test("finish_reason model_length is length; 'error' is raised as an upstream error", () => {
  const answer = (finish: string) => ({ choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: finish }] });
  assert.equal(mistralAdapter.parseChatResponse(answer('model_length'), MODEL).choices[0]!.finish_reason, 'length');
  const err = refusal(() => mistralAdapter.parseChatResponse(answer('error'), MODEL));
  assert.equal(err.status, 502);
  assert.equal(err.code, 'generation_error');
  assert.equal(refusal(() => mistralAdapter.parseChatResponse({ id: 'x' }, MODEL)).status, 502);
});

// ---- Stream ----

test('stream: plain chunks pass through as text; tool-call chunks are fixed; usage on the finish chunk; [DONE] completes', () => {
  const t = mistralAdapter.createStreamTranslator(ctx);
  const evs = events('stream-tool-calls.sse');
  const out = evs.map((e) => t.passthrough!(e));
  assert.equal(out[0], evs[0]!.data);
  assert.equal(out[1], evs[1]!.data);
  const calls = out[2] as ChatChunk;
  assert.deepEqual(calls.choices[0]!.delta.tool_calls, [
    { id: 'D681PevKs', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' }, index: 0 },
    { id: 'q2Xk7LmZa', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Rome"}' }, index: 1 },
  ]);
  assert.equal(calls.choices[0]!.finish_reason, 'tool_calls');
  assert.deepEqual(calls.usage, { prompt_tokens: 91, total_tokens: 127, completion_tokens: 36 });
  assert.equal(out[3], null);
  assert.equal(t.complete!(), true);
  assert.deepEqual(t.end(), []);
});

test('stream: thinking chunks become reasoning_content deltas; model_length finishes with length', () => {
  const t = mistralAdapter.createStreamTranslator(ctx);
  const chunks = events('stream-thinking.sse').flatMap((e) => t.event(e));
  assert.deepEqual(
    chunks.map((c) => c.choices[0]!.delta),
    [{ role: 'assistant', content: '' }, { reasoning_content: 'Two plus two' }, { reasoning_content: ' is four.' }, { content: '4' }, { content: '' }],
  );
  assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'length');
  assert.equal(chunks.at(-1)!.usage!.completion_tokens, 40);
});

test('stream: argument pieces without id get only their index; an error finish or event is raised; a cut stream is interrupted', () => {
  const t = mistralAdapter.createStreamTranslator(ctx);
  const piece = t.passthrough!({ data: '{"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"{}"}}]},"finish_reason":null}]}' }) as ChatChunk;
  assert.deepEqual(piece.choices[0]!.delta.tool_calls, [{ function: { arguments: '{}' }, index: 0 }]);
  assert.equal(refusal(() => t.passthrough!({ data: '{"choices":[{"index":0,"delta":{},"finish_reason":"error"}]}' })).status, 502);
  assert.equal(refusal(() => t.passthrough!({ data: '{"error":{"message":"overloaded"}}' })).status, 500);
  const cut = mistralAdapter.createStreamTranslator(ctx);
  cut.passthrough!(events('stream-tool-calls.sse')[0]!);
  assert.equal(refusal(() => cut.end()).code, 'stream_interrupted');
});

// ---- Errors ----

test("errors: Mistral's top-level message and type; validation details name the field; retry-after kept", () => {
  const id = mistralAdapter.parseError(400, fixtureText('error-tool-call-id.json'), undefined, 'mis');
  assert.equal(id.status, 400);
  assert.equal(id.message, 'mis: Tool call id was call_0fypS1hVX but must be a-z, A-Z, 0-9, with a length of 9.');
  assert.equal(id.code, 'invalid_function_call');
  const extra = mistralAdapter.parseError(422, fixtureText('error-422.json'), undefined, 'mis');
  assert.equal(extra.status, 422);
  assert.equal(extra.type, 'invalid_request_error');
  assert.equal(extra.param, 'messages.1.assistant.reasoning_content');
  assert.equal(extra.message, 'mis: messages.1.assistant.reasoning_content: Extra inputs are not permitted');
  const limited = mistralAdapter.parseError(429, fixtureText('error-429.json'), '3', 'mis');
  assert.equal(limited.type, 'rate_limit_error');
  assert.deepEqual(limited.headers, { 'retry-after': '3' });
  assert.equal(mistralAdapter.parseError(500, '{"error":{"message":"boom"}}', undefined, 'mis').message, 'mis: boom');
  assert.equal(mistralAdapter.parseError(502, 'Bad gateway', undefined, 'mis').message, 'mis: Bad gateway');
});
