import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { GatewayError } from '../../core/errors.ts';
import type { ChatChunk, ChatMessage, ChatRequest, ChatResponse } from '../../core/types.ts';
import type { ProviderConfig, StreamEvent, UpstreamCall } from '../types.ts';
import { bedrockAdapter, bedrockBaseUrl, bedrockOptionsSchema } from './index.ts';
import { thrownGatewayError } from '../../../test/helpers/gateway-error.ts';

// ---- Helpers ----

const CREDENTIALS = { access_key_id: 'AKIDEXAMPLE', secret_access_key: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

function bedrockProvider(options: Record<string, unknown> = { region: 'us-west-2', aws: CREDENTIALS }, extra: Partial<ProviderConfig> = {}): ProviderConfig {
  return {
    name: 'aws',
    type: 'bedrock',
    base_url: 'https://bedrock-runtime.us-west-2.amazonaws.com/',
    headers: {},
    timeouts: { connect_ms: 1000, first_byte_ms: 1000, idle_ms: 1000, total_ms: 1000 },
    models: [],
    options,
    ...extra,
  };
}

const provider = bedrockProvider();
const CLAUDE = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const hi: ChatMessage[] = [{ role: 'user', content: 'Hi' }];
const userHi = { role: 'user', content: [{ text: 'Hi' }] };
const WEATHER = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

function wireBody(req: Partial<ChatRequest>, model = CLAUDE): Record<string, any> {
  const call = bedrockAdapter.buildChatRequest({ model: 'smart', messages: hi, ...req }, model, provider);
  return JSON.parse(call.body!) as Record<string, any>;
}

function refusal(req: Partial<ChatRequest>, model = CLAUDE): GatewayError {
  try {
    wireBody(req, model);
  } catch (err) {
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`);
    assert.equal(err.status, 400);
    return err;
  }
  assert.fail('expected the request to be refused');
}

function assertUnsupported(req: Partial<ChatRequest>, param: string, model = CLAUDE): void {
  const err = refusal(req, model);
  assert.equal(err.code, 'unsupported_parameter');
  assert.equal(err.param, param);
  assert.match(err.message, new RegExp(`'aws' does not support '${param}'`));
}

function fixture(name: string): any {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

function parse(name: string): Omit<ChatResponse, 'created' | 'id'> {
  const { created, id, ...rest } = bedrockAdapter.parseChatResponse(fixture(name), CLAUDE);
  assert.ok(Math.abs(created - Date.now() / 1000) < 5, 'created is the current time in seconds');
  assert.match(id, /^chatcmpl-/);
  return rest;
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const str = (value: string) => ({ type: 'string' as const, value });

type Frame = { event?: string; exception?: string; error?: { code: string; message: string }; payload?: unknown };

/** Encodes fixture frames the way Bedrock sends them: one binary event-stream message each. */
function encode(frames: Frame[]): Uint8Array[] {
  return frames.map((f) => {
    let headers: MessageHeaders;
    if (f.event) headers = { ':event-type': str(f.event), ':content-type': str('application/json'), ':message-type': str('event') };
    else if (f.exception) headers = { ':exception-type': str(f.exception), ':content-type': str('application/json'), ':message-type': str('exception') };
    else headers = { ':error-code': str(f.error!.code), ':error-message': str(f.error!.message), ':message-type': str('error') };
    return codec.encode({ headers, body: fromUtf8(f.payload === undefined ? '' : JSON.stringify(f.payload)) });
  });
}

function joined(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/** Feeds bytes to a fresh decoder in pieces of `size` bytes (so messages straddle reads) and collects the events. */
function decode(bytes: Uint8Array, size = bytes.byteLength): StreamEvent[] {
  const decoder = bedrockAdapter.createStreamDecoder!();
  const events: StreamEvent[] = [];
  for (let i = 0; i < bytes.byteLength; i += size) events.push(...decoder.feed(bytes.subarray(i, i + size)));
  return events;
}

const ctx = { model: CLAUDE, provider: 'aws', includeUsage: false, id: 'chatcmpl-test', created: 1700000000 };

function replay(name: string, includeUsage = false, chunkSize = 7): ChatChunk[] {
  const translator = bedrockAdapter.createStreamTranslator({ ...ctx, includeUsage });
  const events = decode(joined(encode(fixture(name))), chunkSize);
  return [...events.flatMap((e) => translator.event(e)), ...translator.end()];
}

const chunkBase = { id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 1700000000, model: CLAUDE } as const;
const chunk = (delta: object, finish: string | null = null) => ({ ...chunkBase, choices: [{ index: 0, delta, finish_reason: finish }] });

const thrown = thrownGatewayError;

// ---- Endpoints ----

test('builds POST /model/{id}/converse and /converse-stream, the model id as one encoded segment', () => {
  const call = bedrockAdapter.buildChatRequest({ model: 'smart', messages: hi }, CLAUDE, bedrockProvider(undefined, { headers: { 'x-team': 'a' } }));
  assert.equal(call.method, 'POST');
  assert.equal(call.url, 'https://bedrock-runtime.us-west-2.amazonaws.com/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse');
  assert.deepEqual(call.headers, { 'content-type': 'application/json', 'x-team': 'a' });
  assert.deepEqual(JSON.parse(call.body!), { messages: [userHi] });

  const arn = 'arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0';
  const stream = bedrockAdapter.buildChatRequest({ model: 'smart', messages: hi, stream: true }, arn, provider);
  assert.equal(stream.url, `https://bedrock-runtime.us-west-2.amazonaws.com/model/${encodeURIComponent(arn)}/converse-stream`);
  assert.ok(!('stream' in JSON.parse(stream.body!)), 'streaming is the endpoint, not a body field');
});

test('has no embeddings API', () => {
  assert.equal(bedrockAdapter.buildEmbeddingsRequest, undefined);
});

// ---- Messages ----

test('system and developer messages become system blocks in order; same-role turns merge; empty text vanishes', () => {
  const body = wireBody({
    messages: [
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'Hi' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
      { role: 'user', content: [{ type: 'text', text: '' }, { type: 'text', text: 'again' }] },
      { role: 'assistant', content: 'Bonjour.' },
      { role: 'assistant', content: '' },
      { role: 'system', content: '' },
      { role: 'user', content: 'Thanks', name: 'ada' },
    ],
  });
  assert.deepEqual(body.system, [{ text: 'Be terse.' }, { text: 'Answer in French.' }]);
  assert.deepEqual(body.messages, [
    { role: 'user', content: [{ text: 'Hi' }, { text: 'again' }] },
    { role: 'assistant', content: [{ text: 'Bonjour.' }] },
    { role: 'user', content: [{ text: 'Thanks' }] },
  ]);
});

test('images: data URLs become bytes with their format; s3:// URIs are refused', () => {
  const body = wireBody({
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' } },
          { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
        ],
      },
    ],
  });
  assert.deepEqual(body.messages[0].content, [
    { text: 'Compare' },
    { image: { format: 'png', source: { bytes: 'iVBORw0KGgo=' } } },
    { image: { format: 'jpeg', source: { bytes: '/9j/4AAQ' } } },
  ]);
  assert.match(refusal({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 's3://my-bucket/cat.webp' } }] }] }).message, /gateway's credentials/);
});

test('http(s) image URLs, other image types and images outside user messages are 400s naming the part', () => {
  const image = (url: string) => ({ messages: [{ role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url } }] }] });
  const web = refusal(image('https://example.com/cat.jpg'));
  assert.equal(web.param, 'messages[0].content[0].image_url.url');
  assert.match(web.message, /base64 data: URLs.*cannot fetch http\(s\) URLs/);
  assert.match(refusal(image('data:image/bmp;base64,Qk0=')).message, /png, jpeg, gif and webp/);
  assert.match(refusal(image('ftp://example.com/cat.png')).message, /must be a base64 data: URL/);
  const inAssistant = refusal({ messages: [...hi, { role: 'assistant', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }] as never }] });
  assert.equal(inAssistant.param, 'messages[1].content[0]');
  assert.equal(refusal({ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }] }] }).param, 'messages[0].content');
  const audio = [{ type: 'input_audio', input_audio: { data: 'AA==', format: 'wav' } }] as never;
  assert.equal(refusal({ messages: [{ role: 'user', content: audio }] }).param, 'messages[0].content[0].type');
});

test('assistant tool calls become toolUse blocks; tool results join one user turn, ahead of any text', () => {
  const body = wireBody({
    tools: [WEATHER],
    messages: [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: 'Checking.',
        reasoning_content: 'unsigned thoughts',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '' } },
        ],
      },
      { role: 'user', content: 'Also, be quick.' },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'rain' }] },
    ],
  });
  assert.deepEqual(body.messages, [
    { role: 'user', content: [{ text: 'Weather in Paris and Rome?' }] },
    {
      role: 'assistant',
      content: [
        { text: 'Checking.' },
        { toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { city: 'Paris' } } },
        { toolUse: { toolUseId: 'call_2', name: 'get_weather', input: {} } },
      ],
    },
    {
      role: 'user',
      content: [
        { toolResult: { toolUseId: 'call_1', content: [{ text: 'sunny' }] } },
        { toolResult: { toolUseId: 'call_2', content: [{ text: 'rain' }] } },
        { text: 'Also, be quick.' },
      ],
    },
  ]);
  assert.ok(!JSON.stringify(body).includes('unsigned thoughts'), 'reasoning without a signature is not replayed');
});

test('bad tool call arguments, a tool message without its call id and an empty tool result are 400s', () => {
  const call = (args: string) => ({
    tools: [WEATHER],
    messages: [...hi, { role: 'assistant' as const, content: null, tool_calls: [{ id: 'c', type: 'function' as const, function: { name: 'get_weather', arguments: args } }] }],
  });
  const notJson = refusal(call('{city'));
  assert.equal(notJson.param, 'messages[1].tool_calls[0].function.arguments');
  assert.match(notJson.message, /not valid JSON/);
  assert.match(refusal(call('[1]')).message, /must be a JSON object/);
  assert.equal(refusal({ messages: [...hi, { role: 'tool', content: 'x' }] }).param, 'messages[1].tool_call_id');
  const empty = refusal({ tools: [WEATHER], messages: [...hi, { role: 'tool', tool_call_id: 'c', content: '' }] });
  assert.equal(empty.param, 'messages[1].content');
  assert.match(empty.message, /empty tool results/);
});

// ---- Tools ----

test('tools become toolSpecs with inputSchema.json; tool_choice maps to auto, any and tool', () => {
  const strict = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: {}, additionalProperties: false }, strict: true } };
  const bare = { type: 'function' as const, function: { name: 'ping' } };
  assert.deepEqual(wireBody({ tools: [WEATHER, strict, bare] }).toolConfig, {
    tools: [
      { toolSpec: { name: 'get_weather', description: 'Weather for a city', inputSchema: { json: WEATHER.function.parameters } } },
      { toolSpec: { name: 'lookup', inputSchema: { json: strict.function.parameters }, strict: true } },
      { toolSpec: { name: 'ping', inputSchema: { json: { type: 'object', properties: {} } } } },
    ],
  });
  assert.deepEqual(wireBody({ tools: [WEATHER], tool_choice: 'auto' }).toolConfig.toolChoice, { auto: {} });
  assert.deepEqual(wireBody({ tools: [WEATHER], tool_choice: 'required' }).toolConfig.toolChoice, { any: {} });
  assert.deepEqual(wireBody({ tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'get_weather' } } }).toolConfig.toolChoice, {
    tool: { name: 'get_weather' },
  });
  assert.equal(wireBody({ tools: [WEATHER], parallel_tool_calls: true }).toolConfig.toolChoice, undefined);
});

test("tool_choice 'none' withholds the tools, and is refused once the conversation holds tool calls", () => {
  assert.equal(wireBody({ tools: [WEATHER], tool_choice: 'none' }).toolConfig, undefined);
  assert.equal(wireBody({ tool_choice: 'none' }).toolConfig, undefined);
  assertUnsupported(
    {
      tools: [WEATHER],
      tool_choice: 'none',
      messages: [
        ...hi,
        { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c', content: 'sunny' },
      ],
    },
    'tool_choice',
  );
});

test('forcing a tool without tools, naming an unknown tool, turning off parallel calls or using the reserved name are 400s', () => {
  assert.equal(refusal({ tool_choice: 'required' }).param, 'tool_choice');
  assert.match(refusal({ tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'nope' } } }).message, /'nope', which is not in tools/);
  assertUnsupported({ tools: [WEATHER], parallel_tool_calls: false }, 'parallel_tool_calls');
  assert.equal(wireBody({ parallel_tool_calls: false }).toolConfig, undefined, 'without tools the switch changes nothing');
  assert.equal(refusal({ tools: [{ type: 'function', function: { name: 'switchboard_json_object' } }] }).param, 'tools[0].function.name');
});

// ---- Response format ----

test('json_schema goes to outputConfig.textFormat with the schema as JSON text', () => {
  const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false };
  const body = wireBody({ response_format: { type: 'json_schema', json_schema: { name: 'person', description: 'A person', schema, strict: true } } });
  assert.deepEqual(body.outputConfig, {
    textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema), name: 'person', description: 'A person' } } },
  });
  assert.equal(refusal({ response_format: { type: 'json_schema', json_schema: { name: 'x' } } }).param, 'response_format.json_schema.schema');
  assert.deepEqual(wireBody({ response_format: { type: 'text' } }), { messages: [userHi] });
});

test('json_object forces the reserved JSON tool, and cannot be combined with tools or thinking', () => {
  assert.deepEqual(wireBody({ response_format: { type: 'json_object' } }).toolConfig, {
    tools: [{ toolSpec: { name: 'switchboard_json_object', description: 'Give your complete answer as a JSON object.', inputSchema: { json: { type: 'object' } } } }],
    toolChoice: { tool: { name: 'switchboard_json_object' } },
  });
  assert.match(refusal({ response_format: { type: 'json_object' }, tools: [WEATHER] }).message, /cannot be combined with tools/);
  assert.match(refusal({ response_format: { type: 'json_object' }, reasoning_effort: 'low' }).message, /cannot be combined with reasoning_effort/);
});

// ---- Parameters ----

test('sampling, limits and stop go to inferenceConfig; metadata and user to requestMetadata', () => {
  const body = wireBody({ temperature: 0.3, top_p: 0.9, max_tokens: 100, max_completion_tokens: 200, stop: 'END', metadata: { team: 'search' }, user: 'u-42' });
  assert.deepEqual(body.inferenceConfig, { maxTokens: 200, temperature: 0.3, topP: 0.9, stopSequences: ['END'] });
  assert.deepEqual(body.requestMetadata, { team: 'search', user: 'u-42' });
  assert.deepEqual(wireBody({ stop: ['a', 'b'], max_tokens: 5 }).inferenceConfig, { maxTokens: 5, stopSequences: ['a', 'b'] });
  assert.equal(refusal({ metadata: { user: 'a' }, user: 'b' }).param, 'user');
});

test('parameters Converse cannot honour are 400s naming them; default zero penalties pass', () => {
  assertUnsupported({ seed: 7 }, 'seed');
  assertUnsupported({ n: 2 }, 'n');
  assertUnsupported({ logprobs: true }, 'logprobs');
  assertUnsupported({ top_logprobs: 2 }, 'top_logprobs');
  assertUnsupported({ presence_penalty: 0.5 }, 'presence_penalty');
  assertUnsupported({ frequency_penalty: -1 }, 'frequency_penalty');
  assertUnsupported({ logit_bias: { '50256': -100 } }, 'logit_bias');
  assertUnsupported({ modalities: ['audio'] }, 'modalities');
  assert.deepEqual(wireBody({ n: 1, presence_penalty: 0, frequency_penalty: 0, logprobs: false, store: false }), { messages: [userHi] });
});

// ---- Reasoning ----

test('reasoning_effort on Claude becomes a thinking budget, with maxTokens raised above it', () => {
  const body = wireBody({ reasoning_effort: 'low', max_completion_tokens: 1000 });
  assert.deepEqual(body.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 2048 } });
  assert.equal(body.inferenceConfig.maxTokens, 3048);
  assert.equal(wireBody({ reasoning_effort: 'high' }, 'us.anthropic.claude-opus-4-1-20250805-v1:0').inferenceConfig.maxTokens, 16384 + 4096);
  assert.deepEqual(wireBody({ reasoning_effort: 'none' }), { messages: [userHi] });
});

test('reasoning_effort on other families, or with settings thinking forbids, is a 400', () => {
  assertUnsupported({ reasoning_effort: 'medium' }, 'reasoning_effort', 'meta.llama3-3-70b-instruct-v1:0');
  assertUnsupported({ reasoning_effort: 'medium' }, 'reasoning_effort', 'amazon.nova-pro-v1:0');
  assertUnsupported({ reasoning_effort: 'low', temperature: 0.2 }, 'temperature');
  assertUnsupported({ reasoning_effort: 'low', top_p: 0.5 }, 'top_p');
  assertUnsupported({ reasoning_effort: 'low', tools: [WEATHER], tool_choice: 'required' }, 'tool_choice');
});

test('thinking is left off for a step that continues a tool loop, whose signed thinking cannot be replayed', () => {
  const body = wireBody({
    reasoning_effort: 'low',
    tools: [WEATHER],
    messages: [
      ...hi,
      { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c', content: 'sunny' },
    ],
  });
  assert.equal(body.additionalModelRequestFields, undefined);
  assert.equal(body.inferenceConfig, undefined);
});

// ---- Responses ----

test('parses a text answer; cache reads and writes count into prompt_tokens', () => {
  assert.deepEqual(parse('converse-text.json'), {
    object: 'chat.completion',
    model: CLAUDE,
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1512, completion_tokens: 9, total_tokens: 1521, prompt_tokens_details: { cached_tokens: 1200, cache_creation_tokens: 300 } },
  });
});

test('parses parallel tool calls with their text', () => {
  const res = parse('converse-parallel-tools.json');
  assert.deepEqual(res.choices[0], {
    index: 0,
    message: {
      role: 'assistant',
      content: "I'll look up both cities.",
      tool_calls: [
        { id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'tooluse_Wx9Ol2LrRbKq1rT3c7bXsA', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome","unit":"celsius"}' } },
      ],
    },
    finish_reason: 'tool_calls',
  });
  assert.deepEqual(res.usage, { prompt_tokens: 415, completion_tokens: 98, total_tokens: 513, prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 0 } });
});

test('parses reasoning into reasoning_content, leaving redacted reasoning out', () => {
  assert.deepEqual(parse('converse-reasoning.json').choices[0]!.message, {
    role: 'assistant',
    content: '42',
    reasoning_content: 'The user wants 6 times 7. That is 42.',
  });
});

test('a json_object tool call comes back as JSON content with finish_reason stop', () => {
  const { choices } = parse('converse-json-object.json');
  assert.deepEqual(choices[0], { index: 0, message: { role: 'assistant', content: '{"name":"Ada","year":1843}' }, finish_reason: 'stop' });
});

test('maps every stopReason; malformed output is a 502 naming the reason', () => {
  const finish = (stopReason: string) => {
    const body = { output: { message: { role: 'assistant', content: [{ text: 'x' }] } }, stopReason };
    return bedrockAdapter.parseChatResponse(body, CLAUDE).choices[0]!.finish_reason;
  };
  const expected: Record<string, string> = {
    end_turn: 'stop',
    stop_sequence: 'stop',
    max_tokens: 'length',
    model_context_window_exceeded: 'length',
    tool_use: 'stop',
    guardrail_intervened: 'content_filter',
    content_filtered: 'content_filter',
    something_new: 'stop',
  };
  for (const [reason, want] of Object.entries(expected)) assert.equal(finish(reason), want, reason);
  for (const reason of ['malformed_model_output', 'malformed_tool_use']) {
    const err = thrown(() => finish(reason));
    assert.equal(err.status, 502);
    assert.match(err.message, new RegExp(reason));
  }
  const billed = { output: { message: { role: 'assistant', content: [{ text: 'x' }] } }, stopReason: 'malformed_tool_use', usage: { inputTokens: 9, outputTokens: 4 } };
  assert.deepEqual(thrown(() => bedrockAdapter.parseChatResponse(billed, CLAUDE)).usage, { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13, prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 0 } }, 'still billed');
});

test('a stream that stops with malformed output fails once its usage arrives, carrying it', () => {
  const t = bedrockAdapter.createStreamTranslator(ctx);
  assert.deepEqual(t.event({ event: 'messageStop', data: '{"stopReason":"malformed_model_output"}' }), []);
  const err = thrown(() => t.event({ event: 'metadata', data: '{"usage":{"inputTokens":5,"outputTokens":2,"totalTokens":7}}' }));
  assert.equal(err.status, 502);
  assert.deepEqual([err.usage?.prompt_tokens, err.usage?.completion_tokens], [5, 2]);
  const cut = bedrockAdapter.createStreamTranslator(ctx);
  cut.event({ event: 'messageStop', data: '{"stopReason":"malformed_tool_use"}' });
  assert.equal(thrown(() => cut.end()).status, 502, 'without metadata the failure still ends the stream');
});

test('a body that is not a Converse response is a 502', () => {
  const err = thrown(() => bedrockAdapter.parseChatResponse({ message: 'hi' }, CLAUDE));
  assert.equal(err.status, 502);
  assert.equal(err.code, 'upstream_invalid_response');
});

// ---- Errors ----

test('maps Bedrock error bodies by status, keeping retry-after; ModelErrorException (424) is a 502', () => {
  const err = (status: number, body: string, retryAfter?: string) => bedrockAdapter.parseError(status, body, retryAfter, 'aws');
  const validation = err(400, JSON.stringify(fixture('error-validation.json')));
  assert.equal(validation.status, 400);
  assert.equal(validation.type, 'invalid_request_error');
  assert.equal(validation.message, 'aws: The model returned the following errors: messages: text content blocks must be non-empty');
  const throttled = err(429, JSON.stringify(fixture('error-throttling.json')), '3');
  assert.equal(throttled.status, 429);
  assert.equal(throttled.headers['retry-after'], '3');
  assert.equal(throttled.provider, 'aws');
  assert.equal(err(403, JSON.stringify(fixture('error-signature.json'))).type, 'permission_error');
  assert.equal(err(403, '{"Message":"User is not authorized"}').message, 'aws: User is not authorized');
  assert.equal(err(424, '{"message":"Received error from model"}').status, 502);
  assert.equal(err(503, '{"message":"Service unavailable"}').status, 503);
  assert.equal(err(502, '<html>Bad Gateway</html>').message, 'aws: HTTP 502: <html>Bad Gateway</html>');
  assert.equal(err(500, '').message, 'aws: HTTP 500 with an empty body');
});

// ---- Event stream decoding ----

test('decodes event-stream messages whether a read holds several or a message spans many reads', () => {
  const bytes = joined(encode(fixture('stream-text.frames.json')));
  const whole = decode(bytes);
  assert.deepEqual(whole.map((e) => e.event), ['messageStart', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata']);
  assert.deepEqual(JSON.parse(whole[1]!.data), { contentBlockIndex: 0, delta: { text: 'Hello' }, p: 'abcdefghijk' });
  for (const size of [1, 3, 13, 64]) assert.deepEqual(decode(bytes, size), whole, `reads of ${size} bytes`);
});

test('exception and error messages become exception: events with a JSON message', () => {
  const [exception, error] = decode(
    joined(encode([{ exception: 'validationException', payload: { message: 'bad input' } }, { error: { code: 'InternalFailure', message: 'oops' } }])),
  );
  assert.deepEqual(exception, { event: 'exception:validationException', data: '{"message":"bad input"}' });
  assert.deepEqual(error, { event: 'exception:InternalFailure', data: '{"message":"oops"}' });
});

test('a corrupted message or an impossible length is a 502, not a hang or a crash', () => {
  const bytes = joined(encode(fixture('stream-text.frames.json')));
  bytes[20] = bytes[20]! ^ 0xff;
  const corrupt = thrown(() => decode(bytes));
  assert.equal(corrupt.status, 502);
  assert.equal(corrupt.code, 'upstream_invalid_stream');
  const html = new TextEncoder().encode('<html><body>Service Unavailable</body></html>');
  assert.equal(thrown(() => decode(html)).code, 'upstream_invalid_stream');
});

// ---- Stream translation ----

test('streams text: role first, content deltas, the finish reason, and no usage unless asked', () => {
  assert.deepEqual(replay('stream-text.frames.json'), [
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: 'Hello' }),
    chunk({ content: ' there,' }),
    chunk({ content: ' friend!' }),
    chunk({}, 'stop'),
  ]);
});

test('include_usage adds a usage chunk from metadata, cache tokens included', () => {
  const chunks = replay('stream-text.frames.json', true);
  assert.deepEqual(chunks.at(-1), {
    ...chunkBase,
    choices: [],
    usage: { prompt_tokens: 1035, completion_tokens: 6, total_tokens: 1041, prompt_tokens_details: { cached_tokens: 1000, cache_creation_tokens: 20 } },
  });
  assert.equal(chunks.length, 6);
});

test('streams parallel tool calls with ids, names and argument deltas under their own indexes', () => {
  assert.deepEqual(replay('stream-parallel-tools.frames.json'), [
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: 'Checking both.' }),
    chunk({ tool_calls: [{ index: 0, id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city": ' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
    chunk({ tool_calls: [{ index: 1, id: 'tooluse_Wx9Ol2LrRbKq1rT3c7bXsA', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 1, function: { arguments: '{"city": "Rome"}' } }] }),
    chunk({}, 'tool_calls'),
  ]);
});

test('streams reasoning as reasoning_content, without the signature', () => {
  assert.deepEqual(replay('stream-reasoning.frames.json').slice(1), [
    chunk({ reasoning_content: 'Six times seven' }),
    chunk({ reasoning_content: ' is 42.' }),
    chunk({ content: '42' }),
    chunk({}, 'stop'),
  ]);
});

test('streams a json_object tool call as content and finishes with stop', () => {
  const translator = bedrockAdapter.createStreamTranslator(ctx);
  const events: StreamEvent[] = [
    { event: 'messageStart', data: '{"role":"assistant"}' },
    { event: 'contentBlockStart', data: '{"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":"t1","name":"switchboard_json_object"}}}' },
    { event: 'contentBlockDelta', data: '{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{\\"a\\":"}}}' },
    { event: 'contentBlockDelta', data: '{"contentBlockIndex":0,"delta":{"toolUse":{"input":"1}"}}}' },
    { event: 'messageStop', data: '{"stopReason":"tool_use"}' },
  ];
  assert.deepEqual(events.flatMap((e) => translator.event(e)).slice(1), [chunk({ content: '{"a":' }), chunk({ content: '1}' }), chunk({}, 'stop')]);
});

test('an exception in the stream throws the mapped error after the chunks before it', () => {
  const translator = bedrockAdapter.createStreamTranslator(ctx);
  const events = decode(joined(encode(fixture('stream-throttled.frames.json'))));
  assert.deepEqual(translator.event(events[0]!).length + translator.event(events[1]!).length, 2);
  const err = thrown(() => translator.event(events[2]!));
  assert.equal(err.status, 429);
  assert.equal(err.code, 'throttlingException');
  assert.equal(err.message, 'aws: Too many tokens, please wait before trying again.');
});

test('stream exception types map to statuses; unknown ones are 502', () => {
  const statuses: Record<string, number> = {
    validationException: 400,
    throttlingException: 429,
    internalServerException: 500,
    modelStreamErrorException: 502,
    serviceUnavailableException: 503,
    InternalFailure: 502,
  };
  for (const [type, status] of Object.entries(statuses)) {
    const err = thrown(() => bedrockAdapter.createStreamTranslator(ctx).event({ event: `exception:${type}`, data: '{"message":"m"}' }));
    assert.equal(err.status, status, type);
  }
});

test('the stream is complete after metadata; cut before messageStop it is a 502, after it the answer stands', () => {
  const events = decode(joined(encode(fixture('stream-text.frames.json'))));
  const translator = bedrockAdapter.createStreamTranslator(ctx);
  for (const e of events.slice(0, 5)) translator.event(e);
  assert.equal(translator.complete!(), false);
  const cut = thrown(() => translator.end());
  assert.equal(cut.status, 502);
  assert.equal(cut.code, 'stream_interrupted');

  const noMetadata = bedrockAdapter.createStreamTranslator({ ...ctx, includeUsage: true });
  for (const e of events.slice(0, 6)) noMetadata.event(e);
  assert.equal(noMetadata.complete!(), false);
  assert.deepEqual(noMetadata.end(), []);
  noMetadata.event(events[6]!);
  assert.equal(noMetadata.complete!(), true);
});

test('an unreadable payload or tool input for a block that opened no call is a 502', () => {
  const translator = bedrockAdapter.createStreamTranslator(ctx);
  assert.equal(thrown(() => translator.event({ event: 'contentBlockDelta', data: 'not json' })).status, 502);
  assert.equal(thrown(() => translator.event({ event: 'contentBlockDelta', data: '{"contentBlockIndex":3,"delta":{"toolUse":{"input":"{}"}}}' })).status, 502);
});

// ---- Credentials ----

const baseCall = (): UpstreamCall => bedrockAdapter.buildChatRequest({ model: 'smart', messages: hi }, CLAUDE, provider);

test('a Bedrock API key goes as a bearer token, with no signature', async () => {
  const p = bedrockProvider({ region: 'us-west-2' }, { api_key: 'ABSKexample' });
  const call = await bedrockAdapter.authorize!(baseCall(), p);
  assert.equal(call.headers.authorization, 'Bearer ABSKexample');
  assert.equal(call.headers['x-amz-date'], undefined);
});

test('AWS keys sign the final call with SigV4 for service bedrock in the region; the signature checks out', async () => {
  const call = await bedrockAdapter.authorize!(baseCall(), provider);
  const auth = call.headers.authorization!;
  const m = /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/(\d{8})\/us-west-2\/bedrock\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  assert.ok(m, auth);
  assert.equal(m[2], 'content-type;host;x-amz-date');
  assert.equal(call.headers.host, 'bedrock-runtime.us-west-2.amazonaws.com');
  assert.ok(call.headers['x-amz-date']!.startsWith(m[1]!));
  assert.equal(call.body, baseCall().body);

  // The same request signed at the same instant by a separate signer gives the same signature.
  const d = call.headers['x-amz-date']!;
  const signingDate = new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`);
  const reference = new SignatureV4({
    credentials: { accessKeyId: CREDENTIALS.access_key_id, secretAccessKey: CREDENTIALS.secret_access_key },
    region: 'us-west-2',
    service: 'bedrock',
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
  });
  const url = new URL(call.url);
  const expected = await reference.sign(
    {
      method: 'POST',
      protocol: 'https:',
      hostname: url.hostname,
      path: url.pathname,
      query: {},
      headers: { 'content-type': 'application/json', host: url.host },
      body: call.body,
    },
    { signingDate },
  );
  assert.equal(auth, expected.headers.authorization);
});

test('a session token is sent and signed; no credentials at all is a 401 that says what to set', async () => {
  const temporary = bedrockProvider({ region: 'eu-central-1', aws: { ...CREDENTIALS, session_token: 'IQoJb3JpZ2luX2VjEXAMPLE' } });
  const call = await bedrockAdapter.authorize!(baseCall(), temporary);
  assert.equal(call.headers['x-amz-security-token'], 'IQoJb3JpZ2luX2VjEXAMPLE');
  assert.match(call.headers.authorization!, /\/eu-central-1\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,/);

  const err = await bedrockAdapter.authorize!(baseCall(), bedrockProvider({ region: 'us-west-2' })).then(
    () => assert.fail('expected a 401'),
    (e: unknown) => e as GatewayError,
  );
  assert.equal(err.status, 401);
  assert.equal(err.code, 'provider_credentials_missing');
  assert.match(err.message, /^aws: .*api_key.*AWS_ACCESS_KEY_ID/);
});

// ---- Options ----

test('options: region and keys from the entry, else from the AWS environment variables', () => {
  const parse = (options: unknown, env: NodeJS.ProcessEnv = {}) => bedrockOptionsSchema(env).safeParse(options);
  assert.deepEqual(parse({ region: 'us-east-1', aws: CREDENTIALS }, { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'other', AWS_SECRET_ACCESS_KEY: 'other' }).data, {
    region: 'us-east-1',
    aws: CREDENTIALS,
  });
  assert.deepEqual(parse({}, { AWS_DEFAULT_REGION: 'ap-southeast-2', AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' }).data, {
    region: 'ap-southeast-2',
    aws: { access_key_id: 'id', secret_access_key: 'secret', session_token: 'token' },
  });
  assert.deepEqual(parse({ aws: { ...CREDENTIALS, session_token: '' } }, { AWS_REGION: 'us-gov-west-1' }).data, { region: 'us-gov-west-1', aws: CREDENTIALS });
  assert.deepEqual(parse({ region: 'us-east-1' }).data, { region: 'us-east-1' });
  assert.equal(bedrockBaseUrl({ region: 'eu-west-3' }), 'https://bedrock-runtime.eu-west-3.amazonaws.com');
});

test('options: a missing region, half a key pair, a bad region or an unknown field is a problem at its path', () => {
  const issues = (options: unknown, env: NodeJS.ProcessEnv = {}) => bedrockOptionsSchema(env).safeParse(options).error?.issues.map((i) => [i.path.join('.'), i.message]);
  assert.deepEqual(issues({}), [['region', 'Bedrock needs a region: set region (e.g. us-east-1), or AWS_REGION in the environment']]);
  assert.match(issues({ region: 'us-east-1' }, { AWS_ACCESS_KEY_ID: 'id' })![0]![1]!, /AWS_SECRET_ACCESS_KEY is not set while AWS_ACCESS_KEY_ID is/);
  assert.equal(issues({ region: 'US East' })![0]![0], 'region');
  assert.equal(issues({ region: 'us-east-1', aws: { access_key_id: 'id' } })![0]![0], 'aws.secret_access_key');
  assert.ok(issues({ region: 'us-east-1', project: 'x' })!.some(([, message]) => /Unrecognized key/.test(message!)));
});
