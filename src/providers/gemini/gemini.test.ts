import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { thrownGatewayError } from '../../../test/helpers/gateway-error.ts';

import { GatewayError } from '../../core/errors.ts';
import type { ChatChunk, ChatRequest, ChatResponse, ChunkChoice, ContentPart, EmbeddingsRequest } from '../../core/types.ts';
import type { ProviderConfig, StreamContext } from '../types.ts';
import { SKIP_THOUGHT_SIGNATURE } from './chat.ts';
import { GEMINI_DEFAULT_BASE_URL, GEMINI_DEFAULT_VERSION, geminiAdapter } from './index.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixtureText = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const fixture = (name: string): unknown => JSON.parse(fixtureText(name));

const provider: ProviderConfig = {
  name: 'gem',
  type: 'gemini',
  api_key: 'AIza-test-key',
  base_url: GEMINI_DEFAULT_BASE_URL,
  headers: {},
  timeouts: { connect_ms: 1000, first_byte_ms: 1000, idle_ms: 1000, total_ms: 1000 },
  models: [],
  options: {},
};

const MODEL = 'gemini-2.5-flash';

function chatBody(req: Partial<ChatRequest>): Record<string, unknown> {
  const call = geminiAdapter.buildChatRequest({ model: MODEL, messages: [], ...req }, MODEL, provider);
  return JSON.parse(call.body ?? 'null') as Record<string, unknown>;
}

const hi: ChatRequest['messages'] = [{ role: 'user', content: 'Hi' }];
const userHi = { role: 'user', parts: [{ text: 'Hi' }] };

/** Runs a request build that must be refused, and returns the refusal. */
const refusal = thrownGatewayError;

function assertBadRequest(build: () => unknown, param: string, code = 'invalid_request'): void {
  const err = refusal(build);
  assert.equal(err.status, 400);
  assert.equal(err.type, 'invalid_request_error');
  assert.equal(err.param, param);
  assert.equal(err.code, code);
}

/** `created` is the clock's; checked for sanity, then pinned so the rest compares exactly. */
function pinCreated(res: ChatResponse): ChatResponse {
  assert.ok(Math.abs(res.created - Date.now() / 1000) < 5);
  return { ...res, created: 0 };
}

// ---------------------------------------------------------------------------------------------------------------
// Request: endpoint and headers

test('buildChatRequest: generateContent endpoint, api key header, JSON body', () => {
  const call = geminiAdapter.buildChatRequest({ model: 'x', messages: hi }, MODEL, provider);
  assert.deepEqual({ ...call, body: JSON.parse(call.body!) }, {
    method: 'POST',
    url: 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIza-test-key' },
    body: { contents: [userHi] },
  });
});

test('buildChatRequest: streaming endpoint, models/ prefix, version, base URL slash, extra headers, no key', () => {
  const custom: ProviderConfig = {
    ...provider,
    api_key: undefined,
    base_url: 'https://proxy.example.com/gemini/',
    api_version: 'v1alpha',
    headers: { 'x-team': 'search', 'content-type': 'application/json; charset=utf-8' },
  };
  const call = geminiAdapter.buildChatRequest({ model: 'x', messages: hi, stream: true }, 'models/gemini-2.5-pro', custom);
  assert.equal(call.url, 'https://proxy.example.com/gemini/v1alpha/models/gemini-2.5-pro:streamGenerateContent?alt=sse');
  assert.deepEqual(call.headers, { 'content-type': 'application/json; charset=utf-8', 'x-team': 'search' });
  assert.deepEqual(JSON.parse(call.body!), { contents: [userHi] });
  assert.equal(GEMINI_DEFAULT_VERSION, 'v1beta');
});

// ---------------------------------------------------------------------------------------------------------------
// Request: messages

test('system and developer messages become one systemInstruction, in order, wherever they stand', () => {
  const body = chatBody({
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Hi' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in ' }, { type: 'text', text: 'French.' }] },
      { role: 'system', content: '' },
    ],
  });
  assert.deepEqual(body, {
    systemInstruction: { parts: [{ text: 'You are terse.' }, { text: 'Answer in French.' }] },
    contents: [userHi],
  });
});

test('multi-turn: roles map to user/model, same-role neighbours merge, reasoning goes back as a thought part', () => {
  const body = chatBody({
    messages: [
      { role: 'user', content: 'What is 2+2?' },
      { role: 'assistant', content: '4', reasoning_content: 'Adding two and two.' },
      { role: 'user', content: 'And doubled?' },
      { role: 'user', content: [{ type: 'text', text: 'Show the sum.' }, { type: 'text', text: '' }] },
      { role: 'assistant', content: null },
    ],
  });
  assert.deepEqual(body.contents, [
    { role: 'user', parts: [{ text: 'What is 2+2?' }] },
    { role: 'model', parts: [{ text: 'Adding two and two.', thought: true }, { text: '4' }] },
    { role: 'user', parts: [{ text: 'And doubled?' }, { text: 'Show the sum.' }] },
  ]);
});

test('images: data URLs inline, http(s) URLs as fileData with a guessed media type; gs:// refused', () => {
  const body = chatBody({
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare these.' },
          { type: 'image_url', image_url: { url: 'data:image/webp;base64,UklGRiIAAABXRUJQ', detail: 'high' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.PNG?size=large' } },
          { type: 'image_url', image_url: { url: 'https://example.com/photos/dog' } },
        ],
      },
    ],
  });
  assert.deepEqual(body.contents, [
    {
      role: 'user',
      parts: [
        { text: 'Compare these.' },
        { inlineData: { mimeType: 'image/webp', data: 'UklGRiIAAABXRUJQ' } },
        { fileData: { mimeType: 'image/png', fileUri: 'https://example.com/cat.PNG?size=large' } },
        { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/photos/dog' } },
      ],
    },
  ]);
  assert.throws(() => chatBody({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'gs://bucket/o.png' } }] }] }), (e: GatewayError) => e.status === 400);
});

test('400: an image URL Gemini cannot read', () => {
  for (const url of ['ftp://example.com/a.png', 'data:image/svg+xml;utf8,<svg/>']) {
    assertBadRequest(
      () => chatBody({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] }),
      'messages[0].content[0].image_url.url',
    );
  }
});

test('400: a content part type Gemini cannot carry', () => {
  const audio = { type: 'input_audio', input_audio: { data: 'UklGR', format: 'wav' } } as unknown as ContentPart;
  assertBadRequest(() => chatBody({ messages: [{ role: 'user', content: [{ type: 'text', text: 'Listen' }, audio] }] }), 'messages[0].content[1].type');
});

test('400: an image in a system message, and a conversation with no turns', () => {
  assertBadRequest(
    () => chatBody({ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }, ...hi] }),
    'messages[0].content',
  );
  assertBadRequest(() => chatBody({ messages: [{ role: 'system', content: 'Be nice.' }] }), 'messages');
});

// ---------------------------------------------------------------------------------------------------------------
// Request: tools

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    strict: true,
    parameters: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city'],
      additionalProperties: false,
    },
  },
};
const timeTool = { type: 'function' as const, function: { name: 'get_time' } };

test('tools become functionDeclarations with the JSON schema untouched', () => {
  const body = chatBody({ messages: hi, tools: [weatherTool, timeTool], parallel_tool_calls: true });
  assert.deepEqual(body, {
    contents: [userHi],
    tools: [
      {
        functionDeclarations: [
          { name: 'get_weather', description: 'Current weather for a city', parametersJsonSchema: weatherTool.function.parameters },
          { name: 'get_time' },
        ],
      },
    ],
  });
});

test('every tool_choice maps to a functionCallingConfig', () => {
  const cases: [ChatRequest['tool_choice'], unknown][] = [
    ['auto', { functionCallingConfig: { mode: 'AUTO' } }],
    ['none', { functionCallingConfig: { mode: 'NONE' } }],
    ['required', { functionCallingConfig: { mode: 'ANY' } }],
    [{ type: 'function', function: { name: 'get_time' } }, { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_time'] } }],
  ];
  for (const [choice, expected] of cases) {
    assert.deepEqual(chatBody({ messages: hi, tools: [weatherTool, timeTool], tool_choice: choice }).toolConfig, expected);
  }
  assert.equal(chatBody({ messages: hi, tools: [weatherTool] }).toolConfig, undefined);
});

test('400: tool_choice naming a function that is not in tools', () => {
  assertBadRequest(
    () => chatBody({ messages: hi, tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'nope' } } }),
    'tool_choice',
  );
});

test('400: parallel_tool_calls false has no Gemini switch', () => {
  const err = refusal(() => chatBody({ messages: hi, tools: [weatherTool], parallel_tool_calls: false }));
  assert.equal(err.status, 400);
  assert.equal(err.code, 'unsupported_parameter');
  assert.equal(err.param, 'parallel_tool_calls');
  assert.equal(err.provider, 'gem');
});

const toolTurn: ChatRequest['messages'] = [
  { role: 'user', content: 'Weather in Paris and London, and the time?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: '8f2kq1zt', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'call_a1b2c3d4e5f6a7b8c9d0e1f2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"London"}' } },
      { id: 'toolu_01XyZ', type: 'function', function: { name: 'get_time', arguments: '' } },
    ],
  },
  { role: 'tool', tool_call_id: '8f2kq1zt', content: '{"temp":18,"sky":"clear"}' },
  { role: 'tool', tool_call_id: 'call_a1b2c3d4e5f6a7b8c9d0e1f2', content: [{ type: 'text', text: 'Rainy, 12°C' }] },
  { role: 'tool', tool_call_id: 'toolu_01XyZ', content: '["14:02"]' },
];

test('assistant tool calls and tool results: names looked up, Gemini ids kept, first call signed', () => {
  const body = chatBody({ messages: [...toolTurn, { role: 'user', content: 'Thanks' }], tools: [weatherTool, timeTool] });
  assert.deepEqual(body.contents, [
    { role: 'user', parts: [{ text: 'Weather in Paris and London, and the time?' }] },
    {
      role: 'model',
      parts: [
        { functionCall: { id: '8f2kq1zt', name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: SKIP_THOUGHT_SIGNATURE },
        { functionCall: { name: 'get_weather', args: { city: 'London' } } },
        { functionCall: { name: 'get_time', args: {} } },
      ],
    },
    {
      role: 'user',
      parts: [
        { functionResponse: { id: '8f2kq1zt', name: 'get_weather', response: { temp: 18, sky: 'clear' } } },
        { functionResponse: { name: 'get_weather', response: { content: 'Rainy, 12°C' } } },
        { functionResponse: { name: 'get_time', response: { content: '["14:02"]' } } },
        { text: 'Thanks' },
      ],
    },
  ]);
  assert.equal(SKIP_THOUGHT_SIGNATURE, 'skip_thought_signature_validator');
});

test('each assistant message is a step whose first call carries the signature', () => {
  const call = (id: string) => ({ id, type: 'function' as const, function: { name: 'get_time', arguments: '{}' } });
  const body = chatBody({
    messages: [
      ...hi,
      { role: 'assistant', content: 'Checking.', tool_calls: [call('s1')] },
      { role: 'tool', tool_call_id: 's1', content: '12:00' },
      { role: 'assistant', tool_calls: [call('s2')] },
      { role: 'tool', tool_call_id: 's2', content: '12:01' },
    ],
  });
  const contents = body.contents as { role: string; parts: Record<string, unknown>[] }[];
  assert.deepEqual(contents[1], {
    role: 'model',
    parts: [{ text: 'Checking.' }, { functionCall: { id: 's1', name: 'get_time', args: {} }, thoughtSignature: SKIP_THOUGHT_SIGNATURE }],
  });
  assert.deepEqual(contents[3]?.parts, [{ functionCall: { id: 's2', name: 'get_time', args: {} }, thoughtSignature: SKIP_THOUGHT_SIGNATURE }]);
});

test('400: a tool result whose tool_call_id no earlier assistant call has', () => {
  assertBadRequest(
    () => chatBody({ messages: [...toolTurn.slice(0, 2), { role: 'tool', tool_call_id: 'missing', content: 'x' }] }),
    'messages[2].tool_call_id',
  );
  assertBadRequest(() => chatBody({ messages: [...hi, { role: 'tool', content: 'x' }] }), 'messages[1].tool_call_id');
});

test('400: tool call arguments that are not a JSON object', () => {
  for (const args of ['{"city":', '["Paris"]']) {
    const messages: ChatRequest['messages'] = [
      ...hi,
      {
        role: 'assistant',
        tool_calls: [
          { id: 'a', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          { id: 'b', type: 'function', function: { name: 'get_weather', arguments: args } },
        ],
      },
    ];
    assertBadRequest(() => chatBody({ messages }), 'messages[1].tool_calls[1].function.arguments');
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Request: generation config

test('sampling, limits, stops, seed, n, penalties and logprobs map to generationConfig; nulls are dropped', () => {
  const body = chatBody({
    messages: hi,
    temperature: 0.3,
    top_p: 0.9,
    max_tokens: 100,
    max_completion_tokens: 250,
    stop: 'END',
    seed: 42,
    n: 2,
    presence_penalty: 0.5,
    frequency_penalty: -0.25,
    logprobs: true,
    top_logprobs: 3,
    user: 'user-1234',
    metadata: { team: 'search' },
    // A client's JSON null means "not set" and must not reach Gemini.
    ...({ temperature: null } as object),
  });
  assert.deepEqual(body.generationConfig, {
    topP: 0.9,
    maxOutputTokens: 250,
    stopSequences: ['END'],
    seed: 42,
    candidateCount: 2,
    presencePenalty: 0.5,
    frequencyPenalty: -0.25,
    responseLogprobs: true,
    logprobs: 3,
  });
  assert.deepEqual(chatBody({ messages: hi, max_tokens: 100, stop: ['a', 'b'], logprobs: true }).generationConfig, {
    maxOutputTokens: 100,
    stopSequences: ['a', 'b'],
    responseLogprobs: true,
  });
});

test('response_format: json_object and json_schema', () => {
  assert.deepEqual(chatBody({ messages: hi, response_format: { type: 'json_object' } }).generationConfig, {
    responseMimeType: 'application/json',
  });
  const schema = { type: 'object', properties: { answer: { type: 'integer' } }, required: ['answer'], additionalProperties: false };
  assert.deepEqual(
    chatBody({ messages: hi, response_format: { type: 'json_schema', json_schema: { name: 'answer', strict: true, schema } } }).generationConfig,
    { responseMimeType: 'application/json', responseJsonSchema: schema },
  );
  assert.equal(chatBody({ messages: hi, response_format: { type: 'text' } }).generationConfig, undefined);
});

test('reasoning_effort sets a thinking budget with thoughts included; none turns thinking off', () => {
  const budgets = { minimal: 1024, low: 2048, medium: 8192, high: 16384, xhigh: 32768 } as const;
  for (const [effort, budget] of Object.entries(budgets)) {
    assert.deepEqual(chatBody({ messages: hi, reasoning_effort: effort as ChatRequest['reasoning_effort'] }).generationConfig, {
      thinkingConfig: { thinkingBudget: budget, includeThoughts: true },
    });
  }
  assert.deepEqual(chatBody({ messages: hi, reasoning_effort: 'none' }).generationConfig, { thinkingConfig: { thinkingBudget: 0 } });
});

test('400: logit_bias, and top_logprobs without logprobs', () => {
  const err = refusal(() => chatBody({ messages: hi, logit_bias: { '50256': -100 } }));
  assert.equal(err.code, 'unsupported_parameter');
  assert.equal(err.param, 'logit_bias');
  assert.deepEqual(chatBody({ messages: hi, logit_bias: {} }), { contents: [userHi] });
  assertBadRequest(() => chatBody({ messages: hi, top_logprobs: 2 }), 'top_logprobs');
});

// ---------------------------------------------------------------------------------------------------------------
// Response

test('parseChatResponse: plain text', () => {
  const res = pinCreated(geminiAdapter.parseChatResponse(fixture('generate-plain.json'), MODEL));
  assert.deepEqual(res, {
    id: 'kGe1aNqQDdHpnvgPq8Cm-Ak',
    object: 'chat.completion',
    created: 0,
    model: 'gemini-2.5-flash',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Paris is the capital of France.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 9, completion_tokens: 7, total_tokens: 16 },
  });
});

test('parseChatResponse: thoughts become reasoning_content; usage carries cached and thinking tokens', () => {
  const res = pinCreated(geminiAdapter.parseChatResponse(fixture('generate-thinking.json'), 'gemini-2.5-pro'));
  assert.deepEqual(res, {
    id: '3Wm1aL2jF5yKnvgP-pW3kA0',
    object: 'chat.completion',
    created: 0,
    model: 'gemini-2.5-pro',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: '17 × 23 = 391',
          reasoning_content: '**Working out the sum**\n\nThe user asks for 17 * 23. 17 * 20 = 340 and 17 * 3 = 51, so 391.\n',
        },
        finish_reason: 'stop',
      },
    ],
    usage: {
      prompt_tokens: 1290,
      completion_tokens: 112,
      total_tokens: 1402,
      prompt_tokens_details: { cached_tokens: 1024 },
      completion_tokens_details: { reasoning_tokens: 104 },
    },
  });
});

test('parseChatResponse: parallel function calls keep Gemini ids and finish as tool_calls', () => {
  const res = geminiAdapter.parseChatResponse(fixture('generate-parallel-tools.json'), 'gemini-3-flash-preview');
  assert.deepEqual(res.choices, [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: '8f2kq1zt', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' } },
          { id: 'c7m3v0xa', type: 'function', function: { name: 'get_weather', arguments: '{"city":"London","unit":"celsius"}' } },
        ],
      },
      finish_reason: 'tool_calls',
    },
  ]);
  assert.deepEqual(res.usage, { prompt_tokens: 71, completion_tokens: 128, total_tokens: 199, completion_tokens_details: { reasoning_tokens: 92 } });
});

test('parseChatResponse: a function call without an id gets a fresh call id, next to its text', () => {
  const res = geminiAdapter.parseChatResponse(fixture('generate-tool-no-id.json'), MODEL);
  const call = res.choices[0]?.message.tool_calls?.[0];
  assert.match(call?.id ?? '', /^call_[0-9a-f]{24}$/);
  assert.deepEqual(res.choices[0], {
    index: 0,
    message: {
      role: 'assistant',
      content: 'Let me look that up.',
      tool_calls: [{ id: call?.id, type: 'function', function: { name: 'search_docs', arguments: '{"query":"rate limits","top_k":3}' } }],
    },
    finish_reason: 'tool_calls',
  });
});

test('parseChatResponse: several candidates, MAX_TOKENS and SAFETY', () => {
  const res = geminiAdapter.parseChatResponse(fixture('generate-candidates.json'), MODEL);
  assert.deepEqual(res.choices, [
    { index: 0, message: { role: 'assistant', content: 'Once upon a time, in a kingdom by the' }, finish_reason: 'length' },
    { index: 1, message: { role: 'assistant', content: null }, finish_reason: 'content_filter' },
  ]);
});

test('parseChatResponse: logprobs in the OpenAI shape', () => {
  const res = geminiAdapter.parseChatResponse(fixture('generate-logprobs.json'), MODEL);
  assert.deepEqual(res.choices[0]?.logprobs, {
    content: [
      {
        token: 'Yes',
        logprob: -0.0049,
        bytes: [89, 101, 115],
        top_logprobs: [
          { token: 'Yes', logprob: -0.0049, bytes: [89, 101, 115] },
          { token: 'No', logprob: -5.31, bytes: [78, 111] },
        ],
      },
      { token: '.', logprob: -0.0453, bytes: [46], top_logprobs: [{ token: '.', logprob: -0.0453, bytes: [46] }] },
    ],
  });
});

test('parseChatResponse: a blocked prompt is a content_filter completion with its usage', () => {
  const res = pinCreated(geminiAdapter.parseChatResponse(fixture('generate-prompt-blocked.json'), MODEL));
  assert.deepEqual(res, {
    id: 'BW21aJ-SG-6NnvgP9Ni_kA4',
    object: 'chat.completion',
    created: 0,
    model: 'gemini-2.5-flash',
    choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter' }],
    usage: { prompt_tokens: 31, completion_tokens: 0, total_tokens: 31 },
  });
});

test('parseChatResponse: without responseId or modelVersion, a fresh id and the requested model', () => {
  const res = geminiAdapter.parseChatResponse({ candidates: [{ content: { parts: [{ text: 'ok' }] }, finishReason: 'STOP' }] }, 'models/gemini-2.0-flash');
  assert.match(res.id, /^chatcmpl-[0-9a-z]{17,}$/);
  assert.notEqual(geminiAdapter.parseChatResponse({ candidates: [{ content: { parts: [{ text: 'ok' }] }, finishReason: 'STOP' }] }, 'm').id, res.id);
  assert.equal(res.model, 'gemini-2.0-flash');
  assert.equal(res.usage, undefined);
});

test('finish reasons', () => {
  const cases: [string, string][] = [
    ['STOP', 'stop'],
    ['MAX_TOKENS', 'length'],
    ['SAFETY', 'content_filter'],
    ['RECITATION', 'content_filter'],
    ['BLOCKLIST', 'content_filter'],
    ['PROHIBITED_CONTENT', 'content_filter'],
    ['SPII', 'content_filter'],
    ['IMAGE_SAFETY', 'content_filter'],
    ['FINISH_REASON_UNSPECIFIED', 'stop'],
  ];
  for (const [reason, expected] of cases) {
    const res = geminiAdapter.parseChatResponse({ candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason: reason }] }, MODEL);
    assert.equal(res.choices[0]?.finish_reason, expected, reason);
  }
});

test('parseChatResponse: 502 for output a chat completion cannot carry, or no answer at all', () => {
  for (const body of [fixture('generate-image-output.json'), { usageMetadata: { promptTokenCount: 3 } }, 'not json']) {
    const err = refusal(() => geminiAdapter.parseChatResponse(body, MODEL));
    assert.equal(err.status, 502);
    assert.equal(err.code, 'bad_upstream_response');
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Streaming

const ctx = (includeUsage: boolean): StreamContext => ({ model: MODEL, provider: 'gem', includeUsage, id: 'chatcmpl-stream', created: 1_750_000_000 });

function replay(name: string, includeUsage = false): ChatChunk[] {
  const translator = geminiAdapter.createStreamTranslator(ctx(includeUsage));
  const payloads = fixture(name) as unknown[];
  return [...payloads.flatMap((p) => translator.event({ data: JSON.stringify(p) })), ...translator.end()];
}

function chunk(model: string, delta: ChunkChoice['delta'], finish: ChunkChoice['finish_reason'] = null): ChatChunk {
  return { id: 'chatcmpl-stream', object: 'chat.completion.chunk', created: 1_750_000_000, model, choices: [{ index: 0, delta, finish_reason: finish }] };
}

test('stream: text deltas, one finish, and the last usage when asked for', () => {
  const m = 'gemini-2.0-flash';
  const expected = [
    chunk(m, { role: 'assistant', content: '' }),
    chunk(m, { content: 'The quick' }),
    chunk(m, { content: ' brown fox jumps over the lazy dog.' }),
    chunk(m, {}, 'stop'),
  ];
  assert.deepEqual(replay('stream-text.json'), expected);
  assert.deepEqual(replay('stream-text.json', true), [
    ...expected,
    { id: 'chatcmpl-stream', object: 'chat.completion.chunk', created: 1_750_000_000, model: m, choices: [], usage: { prompt_tokens: 8, completion_tokens: 10, total_tokens: 18 } },
  ]);
});

test('stream: thoughts stream as reasoning_content; usage counts thinking', () => {
  const m = 'gemini-2.5-flash';
  assert.deepEqual(replay('stream-thinking.json', true), [
    chunk(m, { role: 'assistant', content: '' }),
    chunk(m, { reasoning_content: '**Counting the letters**\n\nI need the r\'s in "strawberry": s-t-r-a-w-b-e-r-r-y.\n' }),
    chunk(m, { content: "There are three r's" }),
    chunk(m, { content: ' in "strawberry".' }),
    chunk(m, {}, 'stop'),
    {
      id: 'chatcmpl-stream',
      object: 'chat.completion.chunk',
      created: 1_750_000_000,
      model: m,
      choices: [],
      usage: { prompt_tokens: 11, completion_tokens: 142, total_tokens: 153, completion_tokens_details: { reasoning_tokens: 133 } },
    },
  ]);
});

test('stream: each function call is one complete tool_calls delta, indexed across the stream', () => {
  const m = 'gemini-3-flash-preview';
  const call = (index: number, id: string, name: string, args: string) => ({ tool_calls: [{ index, id, type: 'function' as const, function: { name, arguments: args } }] });
  assert.deepEqual(replay('stream-parallel-tools.json'), [
    chunk(m, { role: 'assistant', content: '' }),
    chunk(m, call(0, 'q0w9e8r7', 'get_weather', '{"city":"Paris"}')),
    chunk(m, call(1, 't6y5u4i3', 'get_weather', '{"city":"London"}')),
    chunk(m, call(2, 'o2p1a0s9', 'get_time', '{"timezone":"Europe/Paris"}')),
    chunk(m, {}, 'tool_calls'),
  ]);
});

test('stream: a refused prompt ends with content_filter; filtered output too', () => {
  assert.deepEqual(replay('stream-blocked.json', true), [
    chunk(MODEL, { role: 'assistant', content: '' }),
    chunk(MODEL, {}, 'content_filter'),
    { ...chunk(MODEL, {}), choices: [], usage: { prompt_tokens: 19, completion_tokens: 0, total_tokens: 19 } },
  ]);
  const m = 'gemini-2.0-flash';
  assert.deepEqual(replay('stream-output-filtered.json'), [
    chunk(m, { role: 'assistant', content: '' }),
    chunk(m, { content: 'Sure, the first step is' }),
    chunk(m, {}, 'content_filter'),
  ]);
});

test('stream: several candidates keep their own choice index and finish', () => {
  const translator = geminiAdapter.createStreamTranslator(ctx(false));
  const chunks = [
    ...translator.event({ data: JSON.stringify({ candidates: [{ content: { parts: [{ text: 'A' }] } }, { content: { parts: [{ text: 'B' }] }, index: 1 }] }) }),
    ...translator.event({ data: JSON.stringify({ candidates: [{ finishReason: 'STOP' }] }) }),
  ];
  assert.throws(() => translator.end(), (err: GatewayError) => err.code === 'stream_interrupted');
  chunks.push(...translator.event({ data: JSON.stringify({ candidates: [{ finishReason: 'MAX_TOKENS', index: 1 }] }) }), ...translator.end());
  assert.deepEqual(
    chunks.map((c) => c.choices[0]),
    [
      { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null },
      { index: 0, delta: { content: 'A' }, finish_reason: null },
      { index: 1, delta: { role: 'assistant', content: '' }, finish_reason: null },
      { index: 1, delta: { content: 'B' }, finish_reason: null },
      { index: 0, delta: {}, finish_reason: 'stop' },
      { index: 1, delta: {}, finish_reason: 'length' },
    ],
  );
});

test('stream: logprobs ride on the text delta of their payload', () => {
  const translator = geminiAdapter.createStreamTranslator(ctx(false));
  const logprobsResult = { chosenCandidates: [{ token: 'Hi', logProbability: -0.5 }], topCandidates: [{ candidates: [{ token: 'Hi', logProbability: -0.5 }] }] };
  const chunks = translator.event({ data: JSON.stringify({ candidates: [{ content: { parts: [{ text: 'Hi' }] }, logprobsResult, finishReason: 'STOP' }] }) });
  assert.deepEqual(chunks[1]?.choices[0], {
    index: 0,
    delta: { content: 'Hi' },
    finish_reason: null,
    logprobs: { content: [{ token: 'Hi', logprob: -0.5, bytes: [72, 105], top_logprobs: [{ token: 'Hi', logprob: -0.5, bytes: [72, 105] }] }] },
  });
});

test('stream: an error payload throws the upstream error', () => {
  const translator = geminiAdapter.createStreamTranslator(ctx(true));
  const [first, second] = fixture('stream-error.json') as unknown[];
  assert.equal(translator.event({ data: JSON.stringify(first) }).length, 2);
  const err = refusal(() => translator.event({ data: JSON.stringify(second) }));
  assert.equal(err.status, 503);
  assert.equal(err.type, 'upstream_error');
  assert.equal(err.code, 'UNAVAILABLE');
  assert.equal(err.message, 'gem: The model is overloaded. Please try again later.');
  assert.equal(err.provider, 'gem');
});

test('stream: a stream cut before any finish reason is an interruption, not an answer', () => {
  const err = refusal(() => replay('stream-cut.json', true));
  assert.equal(err.status, 502);
  assert.equal(err.code, 'stream_interrupted');
  assert.equal(err.provider, 'gem');
  const empty = geminiAdapter.createStreamTranslator(ctx(false));
  assert.equal(refusal(() => empty.end()).code, 'stream_interrupted');
});

test('stream: blank events are skipped, garbage is a bad upstream response', () => {
  const translator = geminiAdapter.createStreamTranslator(ctx(false));
  assert.deepEqual(translator.event({ data: '' }), []);
  const err = refusal(() => translator.event({ data: '<html>' }));
  assert.equal(err.status, 502);
  assert.equal(err.code, 'bad_upstream_response');
});

// ---------------------------------------------------------------------------------------------------------------
// Embeddings

function embeddingsCall(req: Partial<EmbeddingsRequest>, model = 'gemini-embedding-001') {
  const call = geminiAdapter.buildEmbeddingsRequest!({ model: 'x', input: '', ...req }, model, provider);
  return { ...call, body: JSON.parse(call.body!) as unknown };
}

test('buildEmbeddingsRequest: one request per input, dimensions as outputDimensionality', () => {
  assert.deepEqual(embeddingsCall({ input: ['alpha', 'beta'], dimensions: 768, encoding_format: 'float', user: 'u1' }, 'models/gemini-embedding-001'), {
    method: 'POST',
    url: 'https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIza-test-key' },
    body: {
      requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'alpha' }] }, outputDimensionality: 768 },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'beta' }] }, outputDimensionality: 768 },
      ],
    },
  });
  assert.deepEqual(embeddingsCall({ input: 'solo' }).body, {
    requests: [{ model: 'models/gemini-embedding-001', content: { parts: [{ text: 'solo' }] } }],
  });
});

test('400: token inputs, an empty input list, base64 encoding', () => {
  assertBadRequest(() => embeddingsCall({ input: [101, 2023] }), 'input');
  assertBadRequest(() => embeddingsCall({ input: [[101, 2023]] }), 'input');
  assertBadRequest(() => embeddingsCall({ input: [] }), 'input');
  assertBadRequest(() => embeddingsCall({ input: 'x', encoding_format: 'base64' }), 'encoding_format', 'unsupported_parameter');
});

test('parseEmbeddingsResponse: the OpenAI list, usage 0 unless Gemini reports it', () => {
  assert.deepEqual(geminiAdapter.parseEmbeddingsResponse!(fixture('embed-batch.json'), 'models/gemini-embedding-001'), {
    object: 'list',
    data: [
      { object: 'embedding', index: 0, embedding: [0.0123, -0.0456, 0.0789, -0.0012] },
      { object: 'embedding', index: 1, embedding: [-0.0311, 0.0222, 0.0133, 0.0944] },
    ],
    model: 'gemini-embedding-001',
    usage: { prompt_tokens: 0, total_tokens: 0 },
  });
  const withUsage = geminiAdapter.parseEmbeddingsResponse!({ embeddings: [{ values: [1] }], usageMetadata: { promptTokenCount: 4, totalTokenCount: 4 } }, 'm');
  assert.deepEqual(withUsage.usage, { prompt_tokens: 4, total_tokens: 4 });
  assert.equal(refusal(() => geminiAdapter.parseEmbeddingsResponse!({ embeddings: [{}] }, 'm')).status, 502);
  assert.equal(refusal(() => geminiAdapter.parseEmbeddingsResponse!(null, 'm')).status, 502);
});

// ---------------------------------------------------------------------------------------------------------------
// Errors

test('parseError: Gemini error body keeps status, message and Gemini status code', () => {
  const err = geminiAdapter.parseError(400, fixtureText('error-invalid-argument.json'), undefined, 'gem');
  assert.deepEqual(
    { status: err.status, type: err.type, code: err.code, message: err.message, provider: err.provider, headers: err.headers },
    { status: 400, type: 'invalid_request_error', code: 'INVALID_ARGUMENT', message: 'gem: API key not valid. Please pass a valid API key.', provider: 'gem', headers: {} },
  );
});

test('parseError: 429 takes retry-after from the header, else from RetryInfo', () => {
  const body = fixtureText('error-rate-limit.json');
  const fromDetails = geminiAdapter.parseError(429, body, undefined, 'gem');
  assert.equal(fromDetails.type, 'rate_limit_error');
  assert.equal(fromDetails.code, 'RESOURCE_EXHAUSTED');
  assert.deepEqual(fromDetails.headers, { 'retry-after': '37' });
  assert.deepEqual(geminiAdapter.parseError(429, body, '5', 'gem').headers, { 'retry-after': '5' });
});

test('parseError: the array-wrapped form, non-JSON bodies truncated, empty bodies', () => {
  const notFound = geminiAdapter.parseError(404, fixtureText('error-not-found-array.json'), undefined, 'gem');
  assert.equal(notFound.status, 404);
  assert.equal(notFound.code, 'NOT_FOUND');
  assert.match(notFound.message, /^gem: models\/gemini-9-ultra is not found/);

  const html = fixtureText('error-bad-gateway.html');
  const gateway = geminiAdapter.parseError(502, html, undefined, 'gem');
  assert.equal(gateway.status, 502);
  assert.equal(gateway.code, 'upstream_502');
  assert.equal(gateway.message, `gem: ${html.trim().slice(0, 500)}…`);

  const empty = geminiAdapter.parseError(503, '', '10', 'gem');
  assert.equal(empty.message, 'gem: HTTP 503 with an empty body');
  assert.deepEqual(empty.headers, { 'retry-after': '10' });
});

test('finish reasons that mean the model failed are errors naming the reason, not an empty stop', () => {
  for (const reason of ['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL', 'TOO_MANY_TOOL_CALLS', 'OTHER', 'LANGUAGE']) {
    const body = { candidates: [{ content: { role: 'model', parts: [] }, finishReason: reason, index: 0 }] };
    assert.throws(() => geminiAdapter.parseChatResponse(body, 'gemini-2.5-flash'), (e: GatewayError) => e.status === 502 && e.message.includes(reason));
  }
});
