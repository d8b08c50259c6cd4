import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createParser } from 'eventsource-parser';
import { GatewayError } from '../../core/errors.ts';
import type { ChatChunk, ChatMessage, ChatRequest, ChatResponse } from '../../core/types.ts';
import type { ProviderConfig, StreamEvent } from '../types.ts';
import { anthropicAdapter, ANTHROPIC_DEFAULT_VERSION } from './index.ts';
import { thrownGatewayError } from '../../../test/helpers/gateway-error.ts';

// ---- Helpers ----

const provider: ProviderConfig = {
  name: 'claude',
  type: 'anthropic',
  api_key: 'sk-ant-test',
  base_url: 'https://api.anthropic.com/',
  headers: {},
  timeouts: { connect_ms: 1000, first_byte_ms: 1000, idle_ms: 1000, total_ms: 1000 },
  models: ['claude-sonnet-4-5'],
  options: {},
};

const MODEL = 'claude-sonnet-4-5';
const hi: ChatMessage[] = [{ role: 'user', content: 'Hi' }];
const userHi = { role: 'user', content: [{ type: 'text', text: 'Hi' }] };

function wireBody(req: Partial<ChatRequest>): Record<string, unknown> {
  const call = anthropicAdapter.buildChatRequest({ model: 'smart', messages: hi, ...req }, MODEL, provider);
  return JSON.parse(call.body!) as Record<string, unknown>;
}

function buildError(req: Partial<ChatRequest>): GatewayError {
  try {
    wireBody(req);
  } catch (err) {
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the request to be refused');
}

function assertUnsupported(req: Partial<ChatRequest>, param: string): void {
  const err = buildError(req);
  assert.equal(err.status, 400);
  assert.equal(err.type, 'invalid_request_error');
  assert.equal(err.code, 'unsupported_parameter');
  assert.equal(err.param, param);
  assert.match(err.message, new RegExp(`'claude' does not support '${param}'`));
}

function fixtureText(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(fixtureText(name)) as Record<string, unknown>;
}

function parse(body: unknown): Omit<ChatResponse, 'created'> {
  const { created, ...rest } = anthropicAdapter.parseChatResponse(body, MODEL);
  assert.ok(Math.abs(created - Date.now() / 1000) < 5, 'created is the current time in seconds');
  return rest;
}

function sseEvents(name: string): StreamEvent[] {
  const events: StreamEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event, data: e.data }) });
  parser.feed(fixtureText(name));
  return events;
}

const ctx = { model: MODEL, provider: 'claude', includeUsage: false, id: 'chatcmpl-test', created: 1700000000 };

function replay(events: StreamEvent[], includeUsage = false): ChatChunk[] {
  const translator = anthropicAdapter.createStreamTranslator({ ...ctx, includeUsage });
  return [...events.flatMap((e) => translator.event(e)), ...translator.end()];
}

const chunkBase = { id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 1700000000 } as const;

function chunk(model: string, delta: object, finish: string | null = null): object {
  return { ...chunkBase, model, choices: [{ index: 0, delta, finish_reason: finish }] };
}

const thrown = thrownGatewayError;

// ---- Upstream call ----

test('builds the POST to /v1/messages with Anthropic auth and version headers', () => {
  const call = anthropicAdapter.buildChatRequest({ model: 'smart', messages: hi }, MODEL, provider);
  assert.equal(call.method, 'POST');
  assert.equal(call.url, 'https://api.anthropic.com/v1/messages');
  assert.deepEqual(call.headers, {
    'content-type': 'application/json',
    'anthropic-version': ANTHROPIC_DEFAULT_VERSION,
    'x-api-key': 'sk-ant-test',
  });
  assert.deepEqual(JSON.parse(call.body!), { model: MODEL, messages: [userHi], max_tokens: 4096 });
});

test('uses the configured api_version and headers, and sends no x-api-key without a key', () => {
  const custom = { ...provider, api_key: undefined, api_version: '2024-01-01', headers: { 'x-team': 'a' } };
  const call = anthropicAdapter.buildChatRequest({ model: 'smart', messages: hi }, MODEL, custom);
  assert.deepEqual(call.headers, {
    'content-type': 'application/json',
    'anthropic-version': '2024-01-01',
    'x-team': 'a',
  });
});

test('has no embeddings API', () => {
  assert.equal(anthropicAdapter.buildEmbeddingsRequest, undefined);
  assert.equal(anthropicAdapter.format, 'anthropic');
});

// ---- Messages ----

test('system and developer messages, wherever they are, become the top-level system in order', () => {
  const body = wireBody({
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in English.' }] },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'system', content: 'Now be formal.' },
      { role: 'user', content: 'How are you?' },
    ],
  });
  assert.deepEqual(body.system, [
    { type: 'text', text: 'Be brief.' },
    { type: 'text', text: 'Answer in English.' },
    { type: 'text', text: 'Now be formal.' },
  ]);
  assert.deepEqual(body.messages, [
    userHi,
    { role: 'assistant', content: [{ type: 'text', text: 'Hello!' }] },
    { role: 'user', content: [{ type: 'text', text: 'How are you?' }] },
  ]);
});

test('consecutive same-role messages merge so roles alternate, and empty ones vanish', () => {
  const body = wireBody({
    messages: [
      { role: 'user', content: 'One' },
      { role: 'system', content: 'Sys' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Two' },
          { type: 'text', text: '' },
        ],
      },
      { role: 'assistant', content: 'A' },
      { role: 'assistant', content: '' },
      { role: 'assistant', content: 'B' },
    ],
  });
  assert.deepEqual(body.messages, [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'One' },
        { type: 'text', text: 'Two' },
      ],
    },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'A' },
        { type: 'text', text: 'B' },
      ],
    },
  ]);
});

test('images: data URLs become base64 sources and http(s) URLs become url sources', () => {
  const body = wireBody({
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare these.' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
        ],
      },
    ],
  });
  assert.deepEqual(body.messages, [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Compare these.' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
      ],
    },
  ]);
});

test('an image URL that is neither data: nor http(s) is a 400 naming the part', () => {
  const err = buildError({
    messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://example.com/a.png' } }] }],
  });
  assert.equal(err.status, 400);
  assert.equal(err.param, 'messages[0].content[0].image_url.url');
});

test('images in system or assistant messages are refused', () => {
  const image = { type: 'image_url' as const, image_url: { url: 'https://example.com/a.png' } };
  assert.equal(buildError({ messages: [{ role: 'system', content: [image] }, ...hi] }).param, 'messages[0].content');
  assert.equal(
    buildError({ messages: [...hi, { role: 'assistant', content: [image] }] }).param,
    'messages[1].content[0]',
  );
});

// ---- Tools ----

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  },
};
const pingTool = { type: 'function' as const, function: { name: 'ping', strict: true } };

test('tools become name/description/input_schema, with an empty object schema by default', () => {
  const body = wireBody({ tools: [weatherTool, pingTool] });
  assert.deepEqual(body.tools, [
    {
      name: 'get_weather',
      description: 'Current weather',
      input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
    },
    { name: 'ping', input_schema: { type: 'object', properties: {} }, strict: true },
  ]);
  assert.equal(body.tool_choice, undefined);
});

test('tool_choice variants and parallel_tool_calls: false', () => {
  const cases: [Partial<ChatRequest>, unknown][] = [
    [{ tool_choice: 'auto' }, { type: 'auto' }],
    [{ tool_choice: 'required' }, { type: 'any' }],
    [{ tool_choice: 'none' }, { type: 'none' }],
    [{ tool_choice: { type: 'function', function: { name: 'get_weather' } } }, { type: 'tool', name: 'get_weather' }],
    [{ parallel_tool_calls: false }, { type: 'auto', disable_parallel_tool_use: true }],
    [
      { tool_choice: 'auto', parallel_tool_calls: false },
      { type: 'auto', disable_parallel_tool_use: true },
    ],
    [
      { tool_choice: 'required', parallel_tool_calls: false },
      { type: 'any', disable_parallel_tool_use: true },
    ],
    [
      { tool_choice: { type: 'function', function: { name: 'get_weather' } }, parallel_tool_calls: false },
      { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
    ],
    [{ tool_choice: 'none', parallel_tool_calls: false }, { type: 'none' }],
    [{ parallel_tool_calls: true }, undefined],
  ];
  for (const [req, expected] of cases) {
    assert.deepEqual(wireBody({ tools: [weatherTool], ...req }).tool_choice, expected, JSON.stringify(req));
  }
});

test('tool_choice that forces a tool without tools is a 400; auto/none without tools are left out', () => {
  assert.equal(buildError({ tool_choice: 'required' }).param, 'tool_choice');
  assert.equal(wireBody({ tool_choice: 'none' }).tool_choice, undefined);
});

test('assistant tool_calls become tool_use blocks and tool messages merge into one user turn of tool_results', () => {
  const body = wireBody({
    messages: [
      { role: 'user', content: 'Weather in SF and NYC?' },
      {
        role: 'assistant',
        content: 'Checking.',
        reasoning_content: 'The user wants two cities.',
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"SF"}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{"location":"NYC"}' } },
          { id: 'toolu_3', type: 'function', function: { name: 'now', arguments: '' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
      { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '25C' }] },
      { role: 'tool', tool_call_id: 'toolu_3', content: '' },
      { role: 'user', content: 'Thanks, and?' },
    ],
    tools: [weatherTool],
  });
  assert.deepEqual(body.messages, [
    { role: 'user', content: [{ type: 'text', text: 'Weather in SF and NYC?' }] },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'SF' } },
        { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { location: 'NYC' } },
        { type: 'tool_use', id: 'toolu_3', name: 'now', input: {} },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' },
        { type: 'tool_result', tool_use_id: 'toolu_2', content: '25C' },
        { type: 'tool_result', tool_use_id: 'toolu_3' },
        { type: 'text', text: 'Thanks, and?' },
      ],
    },
  ]);
});

test('tool call arguments that are not a JSON object are a 400 naming the exact argument', () => {
  const history = (args: string): ChatMessage[] => [
    ...hi,
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } }],
    },
    { role: 'tool', tool_call_id: 'a', content: 'ok' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'b', type: 'function', function: { name: 'f', arguments: '{}' } },
        { id: 'c', type: 'function', function: { name: 'f', arguments: args } },
      ],
    },
  ];
  const invalid = buildError({ messages: history('{"location": ') });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.param, 'messages[3].tool_calls[1].function.arguments');
  assert.match(invalid.message, /^messages\[3\]\.tool_calls\[1\]\.function\.arguments is not valid JSON/);
  assert.equal(buildError({ messages: history('[1,2]') }).param, 'messages[3].tool_calls[1].function.arguments');
});

test('a tool message without tool_call_id is a 400', () => {
  const err = buildError({ messages: [...hi, { role: 'tool', content: 'x' }] });
  assert.equal(err.param, 'messages[1].tool_call_id');
});

// ---- Response format ----

test('json_schema uses native structured outputs, with the description carried in the schema', () => {
  const schema = {
    type: 'object',
    properties: { name: { type: 'string' }, email: { type: 'string' } },
    required: ['name', 'email'],
    additionalProperties: false,
  };
  const body = wireBody({
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'contact', description: 'A contact card', schema, strict: true },
    },
  });
  assert.deepEqual(body.output_config, {
    format: { type: 'json_schema', schema: { ...schema, description: 'A contact card' } },
  });
  assert.equal(body.tools, undefined);
  const plain = wireBody({ response_format: { type: 'json_schema', json_schema: { name: 'contact', schema } } });
  assert.deepEqual(plain.output_config, { format: { type: 'json_schema', schema } });
});

test('json_schema without a schema is a 400', () => {
  const err = buildError({ response_format: { type: 'json_schema', json_schema: { name: 'x' } } });
  assert.equal(err.param, 'response_format.json_schema.schema');
});

test('response_format text changes nothing', () => {
  assert.deepEqual(wireBody({ response_format: { type: 'text' } }), {
    model: MODEL,
    messages: [userHi],
    max_tokens: 4096,
  });
});

test('json_object forces the reserved JSON tool', () => {
  const body = wireBody({ response_format: { type: 'json_object' } });
  assert.deepEqual(body.tools, [
    {
      name: 'switchboard_json_object',
      description: 'Give your complete answer as a JSON object.',
      input_schema: { type: 'object' },
    },
  ]);
  assert.deepEqual(body.tool_choice, { type: 'tool', name: 'switchboard_json_object' });
});

test('json_object with tools or with thinking, and a client tool using the reserved name, are refused', () => {
  assertUnsupported({ response_format: { type: 'json_object' }, tools: [weatherTool] }, 'response_format');
  assertUnsupported({ response_format: { type: 'json_object' }, reasoning_effort: 'low' }, 'response_format');
  const reserved = { type: 'function' as const, function: { name: 'switchboard_json_object' } };
  assert.equal(buildError({ tools: [reserved] }).param, 'tools[0].function.name');
});

// ---- Parameters ----

test('sampling, limits, stop, user and stream map to their Anthropic fields; metadata is not sent', () => {
  const body = wireBody({
    temperature: 0.3,
    top_p: 0.9,
    max_tokens: 100,
    stop: '###',
    user: 'user-42',
    metadata: { team: 'search' },
    stream: true,
    stream_options: { include_usage: true },
    presence_penalty: 0,
    frequency_penalty: 0,
    n: 1,
    logprobs: false,
  });
  assert.deepEqual(body, {
    model: MODEL,
    messages: [userHi],
    max_tokens: 100,
    stream: true,
    temperature: 0.3,
    top_p: 0.9,
    stop_sequences: ['###'],
    metadata: { user_id: 'user-42' },
  });
});

test('max_completion_tokens wins over max_tokens and stop lists pass as they are', () => {
  const body = wireBody({ max_tokens: 100, max_completion_tokens: 200, stop: ['a', 'b'] });
  assert.equal(body.max_tokens, 200);
  assert.deepEqual(body.stop_sequences, ['a', 'b']);
});

test('parameters Anthropic cannot honour are 400s naming them', () => {
  assertUnsupported({ seed: 1 }, 'seed');
  assertUnsupported({ n: 2 }, 'n');
  assertUnsupported({ logprobs: true }, 'logprobs');
  assertUnsupported({ top_logprobs: 3 }, 'top_logprobs');
  assertUnsupported({ presence_penalty: 0.5 }, 'presence_penalty');
  assertUnsupported({ frequency_penalty: -1 }, 'frequency_penalty');
  assertUnsupported({ logit_bias: { '50256': -100 } }, 'logit_bias');
});

// ---- Thinking ----

test('reasoning_effort becomes a thinking budget with max_tokens raised above it', () => {
  const medium = wireBody({ reasoning_effort: 'medium' });
  assert.deepEqual(medium.thinking, { type: 'enabled', budget_tokens: 8192 });
  assert.equal(medium.max_tokens, 8192 + 4096);
  const capped = wireBody({ reasoning_effort: 'minimal', max_completion_tokens: 500, temperature: 1, top_p: 0.95 });
  assert.deepEqual(capped.thinking, { type: 'enabled', budget_tokens: 1024 });
  assert.equal(capped.max_tokens, 1524);
  assert.equal(capped.temperature, 1);
  const none = wireBody({ reasoning_effort: 'none', max_tokens: 10 });
  assert.equal(none.thinking, undefined);
  assert.equal(none.max_tokens, 10);
});

test('thinking with a non-default temperature, a low top_p or a forced tool is a 400', () => {
  assertUnsupported({ reasoning_effort: 'high', temperature: 0.2 }, 'temperature');
  assertUnsupported({ reasoning_effort: 'high', top_p: 0.5 }, 'top_p');
  assertUnsupported({ reasoning_effort: 'high', tools: [weatherTool], tool_choice: 'required' }, 'tool_choice');
  assert.deepEqual(wireBody({ reasoning_effort: 'high', tools: [weatherTool], tool_choice: 'none' }).tool_choice, {
    type: 'none',
  });
});

test('reasoning_content in history is not replayed (Anthropic needs a signature the canonical shape lacks)', () => {
  const body = wireBody({
    reasoning_effort: 'low',
    messages: [
      ...hi,
      { role: 'assistant', content: 'Hello', reasoning_content: 'greet back' },
      { role: 'user', content: 'Again' },
    ],
  });
  assert.deepEqual(body.messages, [
    userHi,
    { role: 'assistant', content: [{ type: 'text', text: 'Hello' }] },
    { role: 'user', content: [{ type: 'text', text: 'Again' }] },
  ]);
});

test('thinking is left off for a step that continues a tool loop, whose signed thinking cannot be replayed', () => {
  const loop: ChatMessage[] = [
    ...hi,
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }],
    },
    { role: 'tool', tool_call_id: 't1', content: 'done' },
  ];
  const midLoop = wireBody({ reasoning_effort: 'high', tools: [weatherTool], messages: loop, max_tokens: 300 });
  assert.equal(midLoop.thinking, undefined);
  assert.equal(midLoop.max_tokens, 300);
  const nextTurn = wireBody({
    reasoning_effort: 'high',
    tools: [weatherTool],
    messages: [...loop, { role: 'assistant', content: 'Done.' }, { role: 'user', content: 'Next' }],
  });
  assert.deepEqual(nextTurn.thinking, { type: 'enabled', budget_tokens: 16384 });
});

// ---- Non-streamed responses ----

const zeroCacheUsage = (prompt: number, completion: number): object => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
  prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 0 },
});

test('parses a plain text message', () => {
  assert.deepEqual(parse(fixture('text.json')), {
    id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
    object: 'chat.completion',
    model: 'claude-sonnet-4-5-20250929',
    choices: [
      { index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?' }, finish_reason: 'stop' },
    ],
    usage: zeroCacheUsage(12, 12),
  });
});

test('parses parallel tool calls with their text', () => {
  assert.deepEqual(parse(fixture('parallel-tools.json')), {
    id: 'msg_01Aq9w938a90dw8q',
    object: 'chat.completion',
    model: 'claude-sonnet-4-5-20250929',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: "I'll check the weather in both cities.",
          tool_calls: [
            {
              id: 'toolu_01A09q90qw90lq917835lq9',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' },
            },
            {
              id: 'toolu_01B8xk2mN4pQr7sT9uVwXyZa',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"location":"New York, NY","unit":"celsius"}' },
            },
          ],
        },
        finish_reason: 'tool_calls',
      },
    ],
    usage: zeroCacheUsage(384, 118),
  });
});

test('parses thinking into reasoning_content and cache tokens into usage', () => {
  assert.deepEqual(parse(fixture('thinking.json')), {
    id: 'msg_01Kq3xT5pN8cR2vW7yZ4bM6d',
    object: 'chat.completion',
    model: 'claude-sonnet-4-5-20250929',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: '27 × 453 = 12,231',
          reasoning_content: 'The user asks for 27 * 453. 27 * 453 = 27 * 400 + 27 * 53 = 10800 + 1431 = 12231.',
        },
        finish_reason: 'stop',
      },
    ],
    usage: {
      prompt_tokens: 50 + 3000 + 1200,
      completion_tokens: 210,
      total_tokens: 4460,
      prompt_tokens_details: { cached_tokens: 3000, cache_creation_tokens: 1200 },
    },
  });
});

test('reports thinking tokens as reasoning_tokens when Anthropic breaks them out', () => {
  const body = fixture('text.json');
  body.usage = { input_tokens: 5, output_tokens: 40, output_tokens_details: { thinking_tokens: 30 } };
  assert.deepEqual(parse(body).usage, {
    ...zeroCacheUsage(5, 40),
    completion_tokens_details: { reasoning_tokens: 30 },
  });
});

test('a json_object tool call comes back as JSON content with finish_reason stop', () => {
  const res = parse(fixture('json-object.json'));
  assert.deepEqual(res.choices, [
    { index: 0, message: { role: 'assistant', content: '{"city":"Paris","country":"France"}' }, finish_reason: 'stop' },
  ]);
});

test('a json_schema answer is the text content as is', () => {
  const res = parse(fixture('json-schema.json'));
  assert.deepEqual(res.choices[0]!.message, {
    role: 'assistant',
    content: '{"name":"Jane Doe","email":"jane@example.com"}',
  });
  assert.equal(res.choices[0]!.finish_reason, 'stop');
});

test('maps every stop_reason', () => {
  const cases: [string | null, string | null][] = [
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['refusal', 'content_filter'],
    [null, null],
  ];
  for (const [stopReason, expected] of cases) {
    const body = { ...fixture('text.json'), stop_reason: stopReason };
    assert.equal(parse(body).choices[0]!.finish_reason, expected, String(stopReason));
  }
  assert.equal(parse(fixture('parallel-tools.json')).choices[0]!.finish_reason, 'tool_calls');
});

test('a message without text has null content and falls back to the requested model', () => {
  const body: Record<string, unknown> = { ...fixture('text.json'), content: [] };
  delete body.model;
  const res = parse(body);
  assert.equal(res.model, MODEL);
  assert.deepEqual(res.choices[0]!.message, { role: 'assistant', content: null });
});

test('a body that is not a Messages API message is a 502', () => {
  const err = thrown(() => anthropicAdapter.parseChatResponse({ error: 'nope' }, MODEL));
  assert.equal(err.status, 502);
  assert.equal(err.code, 'upstream_invalid_response');
});

// ---- Errors ----

test('parses Anthropic error bodies into upstream errors', () => {
  const invalid = anthropicAdapter.parseError(400, fixtureText('error-invalid-request.json'), undefined, 'claude');
  assert.equal(invalid.status, 400);
  assert.equal(invalid.type, 'invalid_request_error');
  assert.equal(invalid.code, 'invalid_request_error');
  assert.equal(invalid.provider, 'claude');
  assert.equal(
    invalid.message,
    'claude: messages: roles must alternate between "user" and "assistant", but found multiple "user" roles in a row',
  );

  const limited = anthropicAdapter.parseError(429, fixtureText('error-rate-limit.json'), '30', 'claude');
  assert.equal(limited.status, 429);
  assert.equal(limited.type, 'rate_limit_error');
  assert.equal(limited.code, 'rate_limit_error');
  assert.deepEqual(limited.headers, { 'retry-after': '30' });
});

test('Anthropic 529 overloaded becomes a 503', () => {
  const err = anthropicAdapter.parseError(529, fixtureText('error-overloaded.json'), undefined, 'claude');
  assert.equal(err.status, 503);
  assert.equal(err.type, 'upstream_error');
  assert.equal(err.code, 'overloaded_error');
  assert.equal(err.message, 'claude: Overloaded');
});

test('a non-JSON error body is quoted, truncated to 500 characters', () => {
  const html = `<html>${'x'.repeat(1000)}</html>`;
  const err = anthropicAdapter.parseError(502, html, undefined, 'claude');
  assert.equal(err.status, 502);
  assert.equal(err.code, 'upstream_502');
  assert.equal(err.message, `claude: HTTP 502: ${html.slice(0, 500)}`);
  assert.equal(
    anthropicAdapter.parseError(500, '', undefined, 'claude').message,
    'claude: HTTP 500 with an empty body',
  );
  assert.equal(
    anthropicAdapter.parseError(404, '{"message":"x"}', undefined, 'claude').message,
    'claude: HTTP 404: {"message":"x"}',
  );
});

// ---- Streams ----

test('streams text as content chunks, with a role chunk first and the finish reason last', () => {
  const model = 'claude-sonnet-4-5-20250929';
  assert.deepEqual(replay(sseEvents('text.sse')), [
    chunk(model, { role: 'assistant', content: '' }),
    chunk(model, { content: 'Hello' }),
    chunk(model, { content: '! How can I help?' }),
    chunk(model, {}, 'stop'),
  ]);
});

test('adds a final usage chunk only when include_usage was asked for', () => {
  const chunks = replay(sseEvents('text.sse'), true);
  assert.equal(chunks.length, 5);
  assert.deepEqual(chunks.at(-1), {
    ...chunkBase,
    model: 'claude-sonnet-4-5-20250929',
    choices: [],
    usage: zeroCacheUsage(25, 9),
  });
});

test('null counts in message_delta usage keep the message_start values', () => {
  const events = sseEvents('text.sse').map((e) =>
    e.event === 'message_delta'
      ? {
          ...e,
          data: JSON.stringify({
            type: 'message_delta',
            delta: { stop_reason: 'end_turn', stop_sequence: null },
            usage: {
              input_tokens: null,
              cache_creation_input_tokens: null,
              cache_read_input_tokens: 7,
              output_tokens: 9,
            },
          }),
        }
      : e,
  );
  assert.deepEqual(replay(events, true).at(-1)!.usage, {
    prompt_tokens: 32,
    completion_tokens: 9,
    total_tokens: 41,
    prompt_tokens_details: { cached_tokens: 7, cache_creation_tokens: 0 },
  });
});

test('text or thinking a block opens with is streamed like its deltas', () => {
  const translator = anthropicAdapter.createStreamTranslator(ctx);
  const start = (index: number, block: object): StreamEvent => ({
    event: 'content_block_start',
    data: JSON.stringify({ type: 'content_block_start', index, content_block: block }),
  });
  assert.deepEqual(translator.event(start(0, { type: 'thinking', thinking: 'Hmm', signature: '' })), [
    chunk(MODEL, { reasoning_content: 'Hmm' }),
  ]);
  assert.deepEqual(translator.event(start(1, { type: 'text', text: 'Hi' })), [chunk(MODEL, { content: 'Hi' })]);
  assert.deepEqual(translator.event(start(2, { type: 'redacted_thinking', data: 'abc' })), []);
});

test('streams parallel tool calls with their own 0-based indexes between interleaved text', () => {
  const model = 'claude-sonnet-4-5-20250929';
  assert.deepEqual(replay(sseEvents('parallel-tools.sse')), [
    chunk(model, { role: 'assistant', content: '' }),
    chunk(model, { content: 'Checking both cities.' }),
    chunk(model, {
      tool_calls: [
        {
          index: 0,
          id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
          type: 'function',
          function: { name: 'get_weather', arguments: '' },
        },
      ],
    }),
    chunk(model, { tool_calls: [{ index: 0, function: { arguments: '{"location": "San Fra' } }] }),
    chunk(model, { tool_calls: [{ index: 0, function: { arguments: 'ncisco, CA"}' } }] }),
    chunk(model, { content: ' And New York.' }),
    chunk(model, {
      tool_calls: [
        {
          index: 1,
          id: 'toolu_01VnK8r2sJ4eLp6q9Wz3XyTb',
          type: 'function',
          function: { name: 'get_weather', arguments: '' },
        },
      ],
    }),
    chunk(model, { tool_calls: [{ index: 1, function: { arguments: '{"location": "New York, NY"}' } }] }),
    chunk(model, {}, 'tool_calls'),
  ]);
});

test('streams thinking as reasoning_content and combines start and delta usage with cache tokens', () => {
  const model = 'claude-sonnet-4-5-20250929';
  assert.deepEqual(replay(sseEvents('thinking.sse'), true), [
    chunk(model, { role: 'assistant', content: '' }),
    chunk(model, { reasoning_content: '27 * 453 = 10800 + 1431' }),
    chunk(model, { reasoning_content: ' = 12231.' }),
    chunk(model, { content: '12,231' }),
    chunk(model, {}, 'stop'),
    {
      ...chunkBase,
      model,
      choices: [],
      usage: {
        prompt_tokens: 40 + 2048 + 512,
        completion_tokens: 64,
        total_tokens: 2664,
        prompt_tokens_details: { cached_tokens: 2048, cache_creation_tokens: 512 },
      },
    },
  ]);
});

test('streams a json_object tool call as content and finishes with stop', () => {
  const model = 'claude-haiku-4-5-20251001';
  assert.deepEqual(replay(sseEvents('json-object.sse')), [
    chunk(model, { role: 'assistant', content: '' }),
    chunk(model, { content: '{"city": "Par' }),
    chunk(model, { content: 'is"}' }),
    chunk(model, {}, 'stop'),
  ]);
});

test('maps stream stop reasons', () => {
  const events = sseEvents('text.sse');
  for (const [stopReason, expected] of [
    ['max_tokens', 'length'],
    ['refusal', 'content_filter'],
    ['stop_sequence', 'stop'],
  ]) {
    const patched = events.map((e) =>
      e.event === 'message_delta'
        ? {
            ...e,
            data: JSON.stringify({
              type: 'message_delta',
              delta: { stop_reason: stopReason },
              usage: { output_tokens: 3 },
            }),
          }
        : e,
    );
    assert.equal(replay(patched).at(-1)!.choices[0]!.finish_reason, expected);
  }
});

test('uses the context model until message_start names one', () => {
  const translator = anthropicAdapter.createStreamTranslator(ctx);
  const [first] = translator.event({
    event: 'message_start',
    data: '{"type":"message_start","message":{"id":"m","usage":{}}}',
  });
  assert.equal(first!.model, MODEL);
});

test('an error event in the stream throws the mapped GatewayError after the chunks before it', () => {
  const translator = anthropicAdapter.createStreamTranslator(ctx);
  const events = sseEvents('error.sse');
  const before = events.slice(0, -1).flatMap((e) => translator.event(e));
  assert.equal(before.length, 2);
  const err = thrown(() => translator.event(events.at(-1)!));
  assert.equal(err.status, 503);
  assert.equal(err.code, 'overloaded_error');
  assert.equal(err.message, 'claude: Overloaded');
  assert.equal(err.provider, 'claude');
});

test('stream error types map to statuses', () => {
  const cases: [string, number][] = [
    ['rate_limit_error', 429],
    ['api_error', 500],
    ['invalid_request_error', 400],
    ['overloaded_error', 503],
    ['something_new', 502],
  ];
  for (const [type, status] of cases) {
    const translator = anthropicAdapter.createStreamTranslator(ctx);
    const data = JSON.stringify({ type: 'error', error: { type, message: 'boom' } });
    const err = thrown(() => translator.event({ event: 'error', data }));
    assert.equal(err.status, status, type);
    assert.equal(err.code, type);
  }
});

test('a stream cut before message_stop is a 502 stream_interrupted, even after the finish reason', () => {
  const cut = anthropicAdapter.createStreamTranslator(ctx);
  for (const e of sseEvents('cut.sse')) cut.event(e);
  const err = thrown(() => cut.end());
  assert.equal(err.status, 502);
  assert.equal(err.code, 'stream_interrupted');
  assert.match(err.message, /ended early/);

  const noStop = anthropicAdapter.createStreamTranslator(ctx);
  for (const e of sseEvents('text.sse').filter((e) => e.event !== 'message_stop')) noStop.event(e);
  assert.equal(thrown(() => noStop.end()).code, 'stream_interrupted');
});

test('an unreadable stream event is a 502', () => {
  const translator = anthropicAdapter.createStreamTranslator(ctx);
  const err = thrown(() => translator.event({ event: 'content_block_delta', data: '{not json' }));
  assert.equal(err.status, 502);
  assert.equal(err.code, 'upstream_invalid_stream');
});

test('tool results open a merged user turn, even when the user spoke first', () => {
  const body = JSON.parse(
    anthropicAdapter.buildChatRequest(
      {
        model: 'm',
        messages: [
          { role: 'user', content: 'weather?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'w', arguments: '{}' } }] },
          { role: 'user', content: 'and hurry' },
          { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
        ],
      },
      'claude-sonnet-4-5',
      { name: 'anthropic', type: 'anthropic', api_key: 'k', base_url: 'https://api.anthropic.com', headers: {}, timeouts: { connect_ms: 1, first_byte_ms: 1, idle_ms: 1, total_ms: 1 }, models: [], options: {} },
    ).body!,
  );
  assert.deepEqual(body.messages[2].content.map((b: { type: string }) => b.type), ['tool_result', 'text']);
});
