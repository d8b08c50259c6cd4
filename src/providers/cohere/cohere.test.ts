import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createParser } from 'eventsource-parser';
import { GatewayError } from '../../core/errors.ts';
import type { ChatChunk, ChatRequest, ChatResponse, EmbeddingsRequest } from '../../core/types.ts';
import type { ProviderConfig, StreamEvent } from '../types.ts';
import { cohereAdapter, COHERE_DEFAULT_BASE_URL } from './index.ts';
import { thrownGatewayError } from '../../../test/helpers/gateway-error.ts';

const fixtureText = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const fixture = (name: string): unknown => JSON.parse(fixtureText(name));

const provider: ProviderConfig = {
  name: 'co',
  type: 'cohere',
  api_key: 'co-test-key',
  base_url: `${COHERE_DEFAULT_BASE_URL}/`,
  headers: {},
  timeouts: { connect_ms: 1000, first_byte_ms: 1000, idle_ms: 1000, total_ms: 1000 },
  models: [],
  options: {},
};

const MODEL = 'command-a-03-2025';
const hi: ChatRequest['messages'] = [{ role: 'user', content: 'Hi' }];
const weather = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };
const clock = { type: 'function' as const, function: { name: 'get_time', description: 'Current time' } };

function body(req: Partial<ChatRequest>): Record<string, unknown> {
  const call = cohereAdapter.buildChatRequest({ model: 'smart', messages: hi, ...req }, MODEL, provider);
  return JSON.parse(call.body!) as Record<string, unknown>;
}

const refusal = thrownGatewayError;

function assertRefused(req: Partial<ChatRequest>, param: string, code = 'invalid_request'): GatewayError {
  const err = refusal(() => body(req));
  assert.equal(err.status, 400);
  assert.equal(err.param, param);
  assert.equal(err.code, code);
  return err;
}

function parse(name: string): ChatResponse {
  const res = cohereAdapter.parseChatResponse(fixture(name), MODEL);
  assert.ok(Math.abs(res.created - Date.now() / 1000) < 5);
  return { ...res, created: 0 };
}

const ctx = { model: MODEL, provider: 'co', includeUsage: false, id: 'chatcmpl-test', created: 1700000000 };

function events(name: string): StreamEvent[] {
  const out: StreamEvent[] = [];
  createParser({ onEvent: (e) => out.push({ event: e.event, data: e.data }) }).feed(fixtureText(name));
  return out;
}

function replay(name: string, includeUsage = false): ChatChunk[] {
  const t = cohereAdapter.createStreamTranslator({ ...ctx, includeUsage });
  const chunks = events(name).flatMap((e) => t.event(e));
  assert.equal(t.complete!(), true, 'message-end completes the stream');
  return [...chunks, ...t.end()];
}

const deltas = (chunks: ChatChunk[]) => chunks.flatMap((c) => c.choices.map((ch) => ch.delta));

// ---- Request ----

test('chat goes to /v2/chat with a bearer key; the model is the provider id', () => {
  const call = cohereAdapter.buildChatRequest({ model: 'smart', messages: hi }, MODEL, { ...provider, headers: { 'x-client-name': 'sb' } });
  assert.equal(call.url, 'https://api.cohere.com/v2/chat');
  assert.deepEqual(call.headers, { 'content-type': 'application/json', authorization: 'Bearer co-test-key', 'x-client-name': 'sb' });
  assert.deepEqual(JSON.parse(call.body!), { model: MODEL, messages: [{ role: 'user', content: 'Hi' }] });
  assert.deepEqual(body({ stream: true, stream_options: { include_usage: true } }).stream, true);
});

test('system and developer messages join into one leading system message; turns keep their order', () => {
  assert.deepEqual(
    body({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Hi', name: 'ana' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'Greet me' },
      ],
    }).messages,
    [
      { role: 'system', content: 'You are terse.\n\nAnswer in French.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: [{ type: 'text', text: 'Hello.' }] },
      { role: 'user', content: 'Greet me' },
    ],
  );
});

test('images go as image_url parts, web and base64 data URLs alike; other URLs and parts are refused', () => {
  const png = 'data:image/png;base64,iVBORw0KGgo=';
  const msgs = body({
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare' },
          { type: 'image_url', image_url: { url: 'https://example.com/a.jpg', detail: 'low' } },
          { type: 'image_url', image_url: { url: png } },
        ],
      },
    ],
  }).messages;
  assert.deepEqual(msgs, [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Compare' },
        { type: 'image_url', image_url: { url: 'https://example.com/a.jpg', detail: 'low' } },
        { type: 'image_url', image_url: { url: png } },
      ],
    },
  ]);
  assertRefused({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] }, 'messages[0].content[0].image_url.url');
  assertRefused({ messages: [{ role: 'user', content: [{ type: 'input_audio' } as never] }] }, 'messages[0].content[0].type');
});

test('tool calls and results keep their ids; reasoning returns as tool_plan beside calls, else as a thinking block', () => {
  const msgs = body({
    tools: [weather],
    messages: [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: null,
        reasoning_content: 'I will check both.',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '18C' },
      { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '21C' }] },
      { role: 'assistant', content: 'Rome is warmer.', reasoning_content: '21 > 18' },
      { role: 'assistant', content: '' },
    ],
  }).messages;
  assert.deepEqual(msgs, [
    { role: 'user', content: 'Weather in Paris and Rome?' },
    {
      role: 'assistant',
      tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
      ],
      tool_plan: 'I will check both.',
    },
    { role: 'tool', tool_call_id: 'call_1', content: '18C' },
    { role: 'tool', tool_call_id: 'toolu_2', content: '21C' },
    { role: 'assistant', content: [{ type: 'thinking', thinking: '21 > 18' }, { type: 'text', text: 'Rome is warmer.' }] },
  ]);
  assertRefused({ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id');
});

test('tools and tool_choice: none/required map to NONE/REQUIRED; a named function is forced by offering only it', () => {
  assert.deepEqual(body({ tools: [weather, { ...clock, function: { ...clock.function, strict: true } }] }), {
    model: MODEL,
    messages: [{ role: 'user', content: 'Hi' }],
    tools: [
      { type: 'function', function: { name: 'get_weather', parameters: weather.function.parameters } },
      { type: 'function', function: { name: 'get_time', description: 'Current time', parameters: { type: 'object', properties: {} } } },
    ],
    strict_tools: true,
  });
  assert.equal(body({ tools: [weather], tool_choice: 'auto' }).tool_choice, undefined);
  assert.equal(body({ tools: [weather], tool_choice: 'none' }).tool_choice, 'NONE');
  assert.equal(body({ tool_choice: 'none' }).tool_choice, 'NONE');
  assert.equal(body({ tools: [weather, clock], tool_choice: 'required' }).tool_choice, 'REQUIRED');
  const named = body({ tools: [weather, clock], tool_choice: { type: 'function', function: { name: 'get_time' } } });
  assert.equal(named.tool_choice, 'REQUIRED');
  assert.deepEqual((named.tools as { function: { name: string } }[]).map((t) => t.function.name), ['get_time']);
  assertRefused({ tools: [weather], tool_choice: { type: 'function', function: { name: 'nope' } } }, 'tool_choice.function.name');
  assertRefused({ tool_choice: 'required' }, 'tool_choice');
});

test('response_format: json_object as is, json_schema as json_object with the schema beside it', () => {
  const schema = { type: 'object', properties: { a: { type: 'number' } }, required: ['a'] };
  assert.deepEqual(body({ response_format: { type: 'json_object' } }).response_format, { type: 'json_object' });
  assert.deepEqual(body({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema, strict: true } } }).response_format, {
    type: 'json_object',
    json_schema: schema,
  });
  assert.equal(body({ response_format: { type: 'text' } }).response_format, undefined);
  assertRefused({ response_format: { type: 'json_schema', json_schema: { name: 'x' } } }, 'response_format.json_schema.schema');
});

test('sampling: max tokens, stop, temperature, p within Cohere range, seed, penalties, top_k as k, reasoning_effort as thinking', () => {
  const b = body({
    max_tokens: 10,
    max_completion_tokens: 50,
    stop: 'END',
    temperature: 0.2,
    top_p: 1,
    seed: 7,
    frequency_penalty: 0.1,
    presence_penalty: 0.2,
    top_k: 40,
    reasoning_effort: 'low',
    user: 'u-1',
    metadata: { team: 'a' },
  });
  assert.deepEqual(b, {
    model: MODEL,
    messages: [{ role: 'user', content: 'Hi' }],
    max_tokens: 50,
    stop_sequences: ['END'],
    temperature: 0.2,
    p: 0.99,
    k: 40,
    seed: 7,
    frequency_penalty: 0.1,
    presence_penalty: 0.2,
    thinking: { type: 'enabled', token_budget: 2048 },
  });
  assert.equal(body({ top_p: 0 }).p, 0.01);
  assert.equal(body({ top_p: 0.5 }).p, 0.5);
  assert.deepEqual(body({ reasoning_effort: 'none' }).thinking, { type: 'disabled' });
  assertRefused({ top_k: -1 }, 'top_k');
});

test('parameters Cohere cannot honour are refused by name', () => {
  for (const [req, param] of [
    [{ n: 2 }, 'n'],
    [{ logprobs: true }, 'logprobs'],
    [{ top_logprobs: 2 }, 'top_logprobs'],
    [{ logit_bias: { '50256': -100 } }, 'logit_bias'],
    [{ parallel_tool_calls: false, tools: [weather] }, 'parallel_tool_calls'],
    [{ service_tier: 'flex' }, 'service_tier'],
  ] as [Partial<ChatRequest>, string][]) {
    const err = assertRefused(req, param, 'unsupported_parameter');
    assert.match(err.message, new RegExp(`'co' does not support '${param}'`));
  }
  assert.doesNotThrow(() => body({ n: 1, logprobs: false, parallel_tool_calls: true, tools: [weather], store: false }));
});

// ---- Response ----

test('a text answer: content blocks joined, billed units as usage, cached tokens kept', () => {
  assert.deepEqual(parse('chat-text.json'), {
    id: 'c14c80c3-18eb-4519-9460-6c92edd8cfb4',
    object: 'chat.completion',
    created: 0,
    model: MODEL,
    choices: [{ index: 0, message: { role: 'assistant', content: 'Bonjour ! Comment puis-je vous aider ?' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 17, completion_tokens: 11, total_tokens: 28, prompt_tokens_details: { cached_tokens: 6 } },
  });
});

test('parallel tool calls with their plan as reasoning, finish_reason tool_calls', () => {
  const res = parse('chat-tool-calls.json');
  assert.deepEqual(res.choices[0], {
    index: 0,
    message: {
      role: 'assistant',
      content: null,
      reasoning_content: 'I will look up the weather in Madrid and Brasilia.',
      tool_calls: [
        { id: 'get_weather_1byjy32y4hvq', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Madrid"}' } },
        { id: 'get_weather_e7bswggnv0ec', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Brasilia"}' } },
      ],
    },
    finish_reason: 'tool_calls',
  });
  assert.deepEqual(res.usage, { prompt_tokens: 37, completion_tokens: 34, total_tokens: 71 });
});

test('thinking blocks become reasoning_content; MAX_TOKENS is length; tokens stand in for missing billed units', () => {
  const res = parse('chat-thinking.json');
  assert.equal(res.choices[0]!.message.content, 'Each brother has 3');
  assert.equal(res.choices[0]!.message.reasoning_content, 'Alice has 2 sisters, so each brother has Alice plus 2.');
  assert.equal(res.choices[0]!.finish_reason, 'length');
  const noBilled = cohereAdapter.parseChatResponse(
    { id: 'x', finish_reason: 'STOP_SEQUENCE', message: { content: [] }, usage: { tokens: { input_tokens: 5, output_tokens: 2 } } },
    MODEL,
  );
  assert.deepEqual(noBilled.usage, { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });
  assert.equal(noBilled.choices[0]!.finish_reason, 'stop');
});

test('a failed generation is an error, and a body that is no chat response is a bad gateway', () => {
  const failed = refusal(() => cohereAdapter.parseChatResponse({ id: 'x', finish_reason: 'ERROR', message: {}, usage: { billed_units: { input_tokens: 3, output_tokens: 1 } } }, MODEL));
  assert.equal(failed.status, 502);
  assert.deepEqual([failed.usage?.prompt_tokens, failed.usage?.completion_tokens], [3, 1]);
  const timeout = refusal(() => cohereAdapter.parseChatResponse({ id: 'x', finish_reason: 'TIMEOUT', message: {} }, MODEL));
  assert.equal(timeout.status, 504);
  assert.equal(refusal(() => cohereAdapter.parseChatResponse({ text: 'v1?' }, MODEL)).status, 502);
});

// ---- Stream ----

test('stream: role first, text deltas, finish, and a usage chunk only when asked', () => {
  const chunks = replay('stream-text.sse', true);
  assert.deepEqual(deltas(chunks), [{ role: 'assistant', content: '' }, { content: 'Hello' }, { content: ' there!' }, {}]);
  assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, 'stop');
  assert.deepEqual(chunks.at(-1), {
    id: 'chatcmpl-test',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: MODEL,
    choices: [],
    usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6, prompt_tokens_details: { cached_tokens: 0 } },
  });
  assert.ok(replay('stream-text.sse', false).every((c) => !c.usage));
});

test('stream: the tool plan as reasoning, then parallel tool calls with index, id, name and argument pieces', () => {
  const chunks = replay('stream-tool-calls.sse');
  assert.deepEqual(deltas(chunks), [
    { role: 'assistant', content: '' },
    { reasoning_content: 'I will search' },
    { reasoning_content: ' for both cities.' },
    { tool_calls: [{ index: 0, id: 'get_weather_p0dage9q1nv4', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
    { tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] },
    { tool_calls: [{ index: 0, function: { arguments: '"Madrid"}' } }] },
    { tool_calls: [{ index: 1, id: 'get_weather_vdr9cvj619fk', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
    { tool_calls: [{ index: 1, function: { arguments: '{"location":"Brasilia"}' } }] },
    {},
  ]);
  assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'tool_calls');
});

test('stream: thinking deltas become reasoning_content ahead of the text', () => {
  assert.deepEqual(deltas(replay('stream-thinking.sse')), [{ role: 'assistant', content: '' }, { reasoning_content: 'Two plus two' }, { content: '4' }, {}]);
});

test('stream: an ERROR finish raises the error; a stream cut before message-end is interrupted', () => {
  const t = cohereAdapter.createStreamTranslator(ctx);
  const [start, end] = events('stream-error.sse');
  assert.equal(t.event(start!).length, 1);
  const err = refusal(() => t.event(end!));
  assert.equal(err.status, 502);
  assert.match(err.message, /inference failed/);
  assert.equal(err.usage?.prompt_tokens, 9, 'the failed generation is still billed');

  const cut = cohereAdapter.createStreamTranslator(ctx);
  for (const e of events('stream-cut.sse')) cut.event(e);
  assert.equal(cut.complete!(), false);
  assert.equal(refusal(() => cut.end()).code, 'stream_interrupted');
  assert.equal(refusal(() => cut.event({ data: 'not json' })).status, 502);
});

// ---- Embeddings ----

const embed = (req: Partial<EmbeddingsRequest>) =>
  JSON.parse(cohereAdapter.buildEmbeddingsRequest!({ model: 'e', input: 'hello', ...req }, 'embed-v4.0', provider).body!) as Record<string, unknown>;

test('embeddings: /v2/embed with texts, float vectors, search_document unless the client names an input_type', () => {
  const call = cohereAdapter.buildEmbeddingsRequest!({ model: 'e', input: ['hello', 'goodbye'], encoding_format: 'float', user: 'u' }, 'embed-v4.0', provider);
  assert.equal(call.url, 'https://api.cohere.com/v2/embed');
  assert.deepEqual(JSON.parse(call.body!), { model: 'embed-v4.0', texts: ['hello', 'goodbye'], input_type: 'search_document', embedding_types: ['float'] });
  assert.deepEqual(embed({ input_type: 'search_query', dimensions: 256 }), {
    model: 'embed-v4.0',
    texts: ['hello'],
    input_type: 'search_query',
    embedding_types: ['float'],
    output_dimension: 256,
  });
  assert.equal(refusal(() => embed({ input_type: 'image' })).param, 'input_type');
  assert.equal(refusal(() => embed({ input: [1, 2, 3] })).param, 'input');
  assert.equal(refusal(() => embed({ truncate: 'END' })).code, 'unsupported_parameter');
});

test('embeddings: vectors in order, billed input tokens as usage', () => {
  assert.deepEqual(cohereAdapter.parseEmbeddingsResponse!(fixture('embed.json'), 'embed-v4.0'), {
    object: 'list',
    data: [
      { object: 'embedding', index: 0, embedding: [0.016296387, -0.008354187, -0.04699707] },
      { object: 'embedding', index: 1, embedding: [-0.0023326874, 0.017929077, 0.029815674] },
    ],
    model: 'embed-v4.0',
    usage: { prompt_tokens: 2, total_tokens: 2 },
  });
  assert.equal(refusal(() => cohereAdapter.parseEmbeddingsResponse!({ embeddings: {} }, 'e')).status, 502);
});

// ---- Errors ----

test('errors: the message is kept with the status and retry-after; 498 is an authentication error', () => {
  const limited = cohereAdapter.parseError(429, fixtureText('error-429.json'), '12', 'co');
  assert.equal(limited.status, 429);
  assert.equal(limited.type, 'rate_limit_error');
  assert.equal(limited.message, 'co: You are past the per minute request limit, please wait and try again later.');
  assert.deepEqual(limited.headers, { 'retry-after': '12' });
  const bad = cohereAdapter.parseError(400, fixtureText('error-400.json'), undefined, 'co');
  assert.equal(bad.status, 400);
  assert.match(bad.message, /response_format is not supported with RAG/);
  const token = cohereAdapter.parseError(498, '{"message":"invalid api token"}', undefined, 'co');
  assert.equal(token.status, 401);
  assert.equal(token.type, 'authentication_error');
  assert.equal(cohereAdapter.parseError(502, '<html>Bad gateway</html>', undefined, 'co').message, 'co: HTTP 502: <html>Bad gateway</html>');
  assert.equal(cohereAdapter.parseError(503, '', undefined, 'co').message, 'co: HTTP 503 with an empty body');
});
