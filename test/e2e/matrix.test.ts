// The compatibility matrix: every inbound surface, driven by its official SDK, against every provider type, for each
// feature. One gateway process and one fake serve all cases; each case is one test named
// `<surface> x <provider> x <feature>`, so the runner's output is the matrix (README.md, "Compatibility matrix").
// Every cell is served: none is skipped, and none is answered with a 400 by design.

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { ApiError, GoogleGenAI, Type, type Content, type FunctionDeclaration, type GenerateContentResponse } from '@google/genai';
import OpenAI from 'openai';
import type { RecordedRequest } from '../fake-providers/server.ts';
import { PROVIDERS, startAllProviders, type AllProviders, type ProviderUnderTest } from './all-providers.ts';

const FEATURES = ['plain', 'stream', 'tools', 'stream_tools', 'images', 'json_schema', 'errors'] as const;
type Feature = (typeof FEATURES)[number];
type Case = (p: ProviderUnderTest) => Promise<void>;
type Surface = Record<Feature, Case>;

let env: AllProviders;
let openai: OpenAI;
let anthropic: Anthropic;
let genai: GoogleGenAI;

before(async () => {
  env = await startAllProviders();
  openai = new OpenAI({ baseURL: `${env.gateway.url}/v1`, apiKey: 'sk-client', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: env.gateway.url, apiKey: 'sk-client', maxRetries: 0 });
  genai = new GoogleGenAI({ apiKey: 'sk-client', httpOptions: { baseUrl: env.gateway.url } });
});
after(() => env.stop());
beforeEach(() => env.fake.reset());

const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const PNG_DATA_URL = `data:image/png;base64,${PNG_BASE64}`;
const CITY = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const PERSON = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'], additionalProperties: false };
const PERSON_JSON = '{"name":"Ada","age":36}';
const ONE_CALL = [{ name: 'get_weather', arguments: { city: 'Paris' } }];
const TWO_CALLS = [
  { name: 'get_weather', arguments: { city: 'Paris' } },
  { name: 'get_weather', arguments: { city: 'Rome' } },
];
const STREAMED = 'one two three four';
const WEATHER_QUESTION = 'Weather in Paris and Rome?';
const TWO_CITIES = TWO_CALLS.map((c) => c.arguments);

function script(p: ProviderUnderTest, s: Parameters<AllProviders['fake']['script']>[0]): void {
  env.fake.script(s, { provider: p.fake });
}

function lastReceived(p: ProviderUnderTest): RecordedRequest {
  const calls = env.fake.received.filter((r) => r.provider === p.fake && !r.path.endsWith('/oauth/token'));
  assert.ok(calls.length > 0, `the ${p.fake} fake received no model call`);
  return calls.at(-1)!;
}

const sentText = (p: ProviderUnderTest): string => JSON.stringify(lastReceived(p).body);

/** The provider was asked to stream, in whatever way its wire format says so. */
function assertStreamedUpstream(p: ProviderUnderTest): void {
  const got = lastReceived(p);
  assert.ok(got.body?.stream === true || /stream/i.test(got.path), `${p.type} was not asked to stream (${got.path})`);
}

interface ToolExchange {
  /** The assistant turn's calls: id (Gemini has none, so the name), and the city asked for. */
  calls: { id: string; city: unknown }[];
  /** The tool results, each with the id (or name) of the call it answers and its content as text. */
  results: { id: string; text: string }[];
}

const asText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const parts = (items: unknown): any[] => (Array.isArray(items) ? items : []);

/** The tool calls and results of the conversation the provider received, read from its own wire format. */
function toolExchange(p: ProviderUnderTest): ToolExchange {
  const body = lastReceived(p).body;
  switch (p.fake) {
    case 'anthropic': {
      const blocks = parts(body.messages).flatMap((m) => parts(m.content));
      return {
        calls: blocks.filter((b) => b.type === 'tool_use').map((b) => ({ id: b.id, city: b.input?.city })),
        results: blocks.filter((b) => b.type === 'tool_result').map((b) => ({ id: b.tool_use_id, text: asText(b.content) })),
      };
    }
    case 'bedrock': {
      const blocks = parts(body.messages).flatMap((m) => parts(m.content));
      return {
        calls: blocks.filter((b) => b.toolUse).map((b) => ({ id: b.toolUse.toolUseId, city: b.toolUse.input?.city })),
        results: blocks.filter((b) => b.toolResult).map((b) => ({ id: b.toolResult.toolUseId, text: asText(b.toolResult.content) })),
      };
    }
    case 'gemini':
    case 'vertex': {
      const all = parts(body.contents).flatMap((c) => parts(c.parts));
      return {
        calls: all.filter((x) => x.functionCall).map((x) => ({ id: x.functionCall.id ?? x.functionCall.name, city: x.functionCall.args?.city })),
        results: all.filter((x) => x.functionResponse).map((x) => ({ id: x.functionResponse.id ?? x.functionResponse.name, text: asText(x.functionResponse.response) })),
      };
    }
    default: {
      if (body.input !== undefined) {
        // The Responses API, which OpenAI serves natively.
        const items = parts(body.input);
        return {
          calls: items.filter((i) => i.type === 'function_call').map((i) => ({ id: i.call_id, city: JSON.parse(i.arguments).city })),
          results: items.filter((i) => i.type === 'function_call_output').map((i) => ({ id: i.call_id, text: asText(i.output) })),
        };
      }
      const msgs = parts(body.messages);
      return {
        calls: msgs.flatMap((m) => parts(m.tool_calls)).map((c) => ({ id: c.id, city: JSON.parse(c.function.arguments).city })),
        results: msgs.filter((m) => m.role === 'tool').map((m) => ({ id: m.tool_call_id, text: asText(m.content) })),
      };
    }
  }
}

/** The second turn reached the provider whole: both calls, and each result linked to its call. */
function assertToolResultsReached(p: ProviderUnderTest): void {
  const { calls, results } = toolExchange(p);
  assert.deepEqual(calls.map((c) => c.city), ['Paris', 'Rome'], `the calls ${p.type} received`);
  assert.deepEqual(results.map((r) => r.id), calls.map((c) => c.id), `the results ${p.type} received answer its calls`);
  assert.ok(results[0]!.text.includes('18C') && results[1]!.text.includes('24C'), `the results ${p.type} received: ${JSON.stringify(results)}`);
}

function assertImageReached(p: ProviderUnderTest): void {
  assert.ok(sentText(p).includes(PNG_BASE64), `the image bytes did not reach ${p.type}`);
}

/**
 * Found as JSON, or as a JSON string inside the body (Bedrock takes the schema as a string). Case-insensitive, since
 * Gemini's OpenAPI-style schemas spell types in capitals.
 */
function assertSchemaReached(p: ProviderUnderTest): void {
  const text = sentText(p).toLowerCase();
  const part = '"age":{"type":"integer"}';
  assert.ok(text.includes(part) || text.includes(JSON.stringify(part).slice(1, -1)), `the schema did not reach ${p.type}`);
}

/** The scripted usage: 20 input tokens of which 5 cached (where the wire format reports them), 3 output. */
const USAGE = { input: 20, output: 3, cached: 5 };
const cached = (p: ProviderUnderTest): number | undefined => (p.cachedTokens ? USAGE.cached : undefined);

function fault429(p: ProviderUnderTest): void {
  env.fake.fault({ kind: 'status', status: 429, retryAfter: '3' }, { provider: p.fake });
}

/** The OpenAI error shape, the status and retry-after kept, the provider named. */
function assertOpenAI429(err: unknown, p: ProviderUnderTest): void {
  assert.ok(err instanceof OpenAI.APIError, `expected an APIError, got ${String(err)}`);
  assert.equal(err.status, 429);
  assert.equal(err.type, 'rate_limit_error');
  assert.deepEqual(Object.keys(err.error as object).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(err.headers?.get('retry-after'), '3');
  assert.match(err.message, new RegExp(p.type));
}

// ---- OpenAI chat completions ----

const CHAT_WEATHER: OpenAI.Chat.ChatCompletionTool = { type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: CITY } };

const chat: Surface = {
  async stream_tools(p) {
    script(p, { toolCalls: TWO_CALLS });
    const stream = openai.chat.completions.stream({ model: p.model, messages: [{ role: 'user', content: WEATHER_QUESTION }], tools: [CHAT_WEATHER] });
    const final = await stream.finalChatCompletion();
    const calls = final.choices[0]!.message.tool_calls ?? [];
    assert.deepEqual(calls.map((c) => (c.type === 'function' ? [c.function.name, JSON.parse(c.function.arguments)] : [])), TWO_CALLS.map((c) => [c.name, c.arguments]));
    assert.ok(calls.every((c) => c.id) && new Set(calls.map((c) => c.id)).size === 2);
    assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
    assertStreamedUpstream(p);
  },
  async plain(p) {
    script(p, { text: 'Bonjour!', usage: USAGE });
    const { data: res, response } = await openai.chat.completions
      .create({ model: p.model, messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Greet me' }] })
      .withResponse();
    assert.equal(response.headers.get('x-switchboard-provider'), p.type);
    assert.equal(res.choices[0]!.message.content, 'Bonjour!');
    assert.equal(res.choices[0]!.finish_reason, 'stop');
    assert.deepEqual([res.usage?.prompt_tokens, res.usage?.completion_tokens, res.usage?.total_tokens, res.usage?.prompt_tokens_details?.cached_tokens], [20, 3, 23, cached(p)]);
    assert.match(sentText(p), /Be terse\./);
  },
  async stream(p) {
    script(p, { text: STREAMED, usage: { input: 12, output: 4 } });
    const stream = await openai.chat.completions.create({ model: p.model, messages: [{ role: 'user', content: 'Count' }], stream: true, stream_options: { include_usage: true } });
    let role: string | undefined;
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      role ??= chunk.choices[0]?.delta.role;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assert.equal(role, 'assistant');
    assert.equal(text, STREAMED);
    assert.equal(finish, 'stop');
    assert.deepEqual([usage?.prompt_tokens, usage?.completion_tokens], [12, 4]);
    assertStreamedUpstream(p);
  },
  async tools(p) {
    const question: OpenAI.Chat.ChatCompletionMessageParam = { role: 'user', content: 'Weather in Paris and Rome?' };
    script(p, { toolCalls: ONE_CALL });
    const single = await openai.chat.completions.create({ model: p.model, messages: [question], tools: [CHAT_WEATHER], tool_choice: 'auto' });
    assert.equal(single.choices[0]!.finish_reason, 'tool_calls');
    const [call, ...more] = single.choices[0]!.message.tool_calls ?? [];
    assert.equal(more.length, 0);
    assert.ok(call?.type === 'function' && call.id);
    assert.deepEqual([call.function.name, JSON.parse(call.function.arguments)], ['get_weather', { city: 'Paris' }]);

    script(p, { toolCalls: TWO_CALLS });
    const parallel = await openai.chat.completions.create({ model: p.model, messages: [question], tools: [CHAT_WEATHER] });
    const calls = (parallel.choices[0]!.message.tool_calls ?? []).filter((c) => c.type === 'function');
    assert.deepEqual(calls.map((c) => [c.function.name, JSON.parse(c.function.arguments)]), TWO_CALLS.map((c) => [c.name, c.arguments]));
    assert.equal(new Set(calls.map((c) => c.id)).size, 2, 'each call has its own id');

    script(p, { text: 'Sunny in both.' });
    const answer = await openai.chat.completions.create({
      model: p.model,
      tools: [CHAT_WEATHER],
      messages: [question, parallel.choices[0]!.message, ...calls.map((c, i) => ({ role: 'tool' as const, tool_call_id: c.id, content: i === 0 ? '18C' : '24C' }))],
    });
    assert.equal(answer.choices[0]!.message.content, 'Sunny in both.');
    assertToolResultsReached(p);
  },
  async images(p) {
    script(p, { text: 'A red pixel.' });
    const res = await openai.chat.completions.create({
      model: p.model,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: PNG_DATA_URL } }] }],
    });
    assert.equal(res.choices[0]!.message.content, 'A red pixel.');
    assertImageReached(p);
  },
  async json_schema(p) {
    script(p, { text: PERSON_JSON });
    const res = await openai.chat.completions.create({
      model: p.model,
      messages: [{ role: 'user', content: 'Who wrote the first program?' }],
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema: PERSON, strict: true } },
    });
    assert.deepEqual(JSON.parse(res.choices[0]!.message.content!), { name: 'Ada', age: 36 });
    assertSchemaReached(p);
  },
  async errors(p) {
    fault429(p);
    const err = await openai.chat.completions.create({ model: p.model, messages: [{ role: 'user', content: 'hi' }] }).then(() => assert.fail('expected a 429'), (e: unknown) => e);
    assertOpenAI429(err, p);
  },
};

// ---- Anthropic Messages ----

const ANTHROPIC_WEATHER: Anthropic.Tool = { name: 'get_weather', description: 'Weather for a city', input_schema: CITY as Anthropic.Tool.InputSchema };

const textOf = (msg: Anthropic.Message): string =>
  msg.content
    .filter((b): b is Anthropic.TextBlock => b.type === 'text')
    .map((b) => b.text)
    .join('');

const toolUses = (msg: Anthropic.Message): Anthropic.ToolUseBlock[] => msg.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');

const messages: Surface = {
  async stream_tools(p) {
    script(p, { toolCalls: TWO_CALLS });
    const stream = anthropic.messages.stream({ model: p.model, max_tokens: 100, tools: [ANTHROPIC_WEATHER], messages: [{ role: 'user', content: WEATHER_QUESTION }] });
    const final = await stream.finalMessage();
    const uses = toolUses(final);
    assert.deepEqual(uses.map((u) => [u.name, u.input]), TWO_CALLS.map((c) => [c.name, c.arguments]));
    assert.ok(uses.every((u) => u.id) && new Set(uses.map((u) => u.id)).size === 2);
    assert.equal(final.stop_reason, 'tool_use');
    assertStreamedUpstream(p);
  },
  async plain(p) {
    script(p, { text: 'Bonjour!', usage: USAGE });
    const { data: msg, response } = await anthropic.messages.create({ model: p.model, max_tokens: 100, system: 'Be terse.', messages: [{ role: 'user', content: 'Greet me' }] }).withResponse();
    assert.equal(response.headers.get('x-switchboard-provider'), p.type);
    assert.equal(msg.type, 'message');
    assert.equal(textOf(msg), 'Bonjour!');
    assert.equal(msg.stop_reason, 'end_turn');
    assert.deepEqual([msg.usage.input_tokens, msg.usage.cache_read_input_tokens ?? 0, msg.usage.output_tokens], [20 - (cached(p) ?? 0), cached(p) ?? 0, 3]);
    assert.match(sentText(p), /Be terse\./);
  },
  async stream(p) {
    script(p, { text: STREAMED, usage: { input: 12, output: 4 } });
    const stream = anthropic.messages.stream({ model: p.model, max_tokens: 100, messages: [{ role: 'user', content: 'Count' }] });
    let deltas = '';
    stream.on('text', (t) => (deltas += t));
    const final = await stream.finalMessage();
    assert.equal(deltas, STREAMED);
    assert.equal(textOf(final), STREAMED);
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.usage.output_tokens, 4);
    assertStreamedUpstream(p);
  },
  async tools(p) {
    const question: Anthropic.MessageParam = { role: 'user', content: 'Weather in Paris and Rome?' };
    script(p, { toolCalls: ONE_CALL });
    const single = await anthropic.messages.create({ model: p.model, max_tokens: 100, tools: [ANTHROPIC_WEATHER], tool_choice: { type: 'auto' }, messages: [question] });
    assert.equal(single.stop_reason, 'tool_use');
    assert.deepEqual(toolUses(single).map((u) => [u.name, u.input]), [['get_weather', { city: 'Paris' }]]);

    script(p, { toolCalls: TWO_CALLS });
    const parallel = await anthropic.messages.create({ model: p.model, max_tokens: 100, tools: [ANTHROPIC_WEATHER], messages: [question] });
    const uses = toolUses(parallel);
    assert.deepEqual(uses.map((u) => [u.name, u.input]), TWO_CALLS.map((c) => [c.name, c.arguments]));
    assert.equal(new Set(uses.map((u) => u.id)).size, 2, 'each call has its own id');

    script(p, { text: 'Sunny in both.' });
    const answer = await anthropic.messages.create({
      model: p.model,
      max_tokens: 100,
      tools: [ANTHROPIC_WEATHER],
      messages: [
        question,
        { role: 'assistant', content: parallel.content },
        { role: 'user', content: uses.map((u, i) => ({ type: 'tool_result' as const, tool_use_id: u.id, content: i === 0 ? '18C' : '24C' })) },
      ],
    });
    assert.equal(textOf(answer), 'Sunny in both.');
    assertToolResultsReached(p);
  },
  async images(p) {
    script(p, { text: 'A red pixel.' });
    const msg = await anthropic.messages.create({
      model: p.model,
      max_tokens: 100,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } }] }],
    });
    assert.equal(textOf(msg), 'A red pixel.');
    assertImageReached(p);
  },
  async json_schema(p) {
    script(p, { text: PERSON_JSON });
    const msg = await anthropic.messages.create({
      model: p.model,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Who wrote the first program?' }],
      output_config: { format: { type: 'json_schema', schema: PERSON } },
    });
    assert.deepEqual(JSON.parse(textOf(msg)), { name: 'Ada', age: 36 });
    assertSchemaReached(p);
  },
  async errors(p) {
    fault429(p);
    const err = await anthropic.messages.create({ model: p.model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).then(() => assert.fail('expected a 429'), (e: unknown) => e);
    assert.ok(err instanceof Anthropic.APIError, `expected an APIError, got ${String(err)}`);
    assert.equal(err.status, 429);
    const body = err.error as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'rate_limit_error');
    assert.match(body.error.message, new RegExp(p.type));
    assert.equal(err.headers?.get('retry-after'), '3');
  },
};

// ---- OpenAI Responses ----

const RESPONSES_WEATHER: OpenAI.Responses.FunctionTool = { type: 'function', name: 'get_weather', description: 'Weather for a city', parameters: CITY, strict: false };

const functionCalls = (r: OpenAI.Responses.Response): OpenAI.Responses.ResponseFunctionToolCall[] =>
  r.output.filter((o): o is OpenAI.Responses.ResponseFunctionToolCall => o.type === 'function_call');

const responses: Surface = {
  async stream_tools(p) {
    script(p, { toolCalls: TWO_CALLS });
    const stream = openai.responses.stream({ model: p.model, input: WEATHER_QUESTION, tools: [RESPONSES_WEATHER] });
    const final = await stream.finalResponse();
    const calls = functionCalls(final);
    assert.deepEqual(calls.map((c) => [c.name, JSON.parse(c.arguments)]), TWO_CALLS.map((c) => [c.name, c.arguments]));
    assert.ok(calls.every((c) => c.call_id) && new Set(calls.map((c) => c.call_id)).size === 2);
    assert.equal(final.status, 'completed');
    assertStreamedUpstream(p);
  },
  async plain(p) {
    script(p, { text: 'Bonjour!', usage: USAGE });
    const { data: res, response } = await openai.responses.create({ model: p.model, instructions: 'Be terse.', input: 'Greet me' }).withResponse();
    assert.equal(response.headers.get('x-switchboard-provider'), p.type);
    assert.equal(res.status, 'completed');
    assert.equal(res.output_text, 'Bonjour!');
    assert.deepEqual([res.usage?.input_tokens, res.usage?.output_tokens, res.usage?.total_tokens, res.usage?.input_tokens_details.cached_tokens ?? 0], [20, 3, 23, cached(p) ?? 0]);
    assert.match(sentText(p), /Be terse\./);
  },
  async stream(p) {
    script(p, { text: STREAMED, usage: { input: 12, output: 4 } });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of await openai.responses.create({ model: p.model, input: 'Count', stream: true })) events.push(e);
    const text = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('');
    assert.equal(text, STREAMED);
    const completed = events.at(-1);
    assert.equal(completed?.type, 'response.completed');
    assert.equal(completed.response.status, 'completed');
    const output = completed.response.output.flatMap((o) => (o.type === 'message' ? o.content : []));
    assert.equal(output.map((c) => (c.type === 'output_text' ? c.text : '')).join(''), STREAMED);
    assert.deepEqual([completed.response.usage?.input_tokens, completed.response.usage?.output_tokens], [12, 4]);
    assertStreamedUpstream(p);
  },
  async tools(p) {
    script(p, { toolCalls: ONE_CALL });
    const single = await openai.responses.create({ model: p.model, input: 'Weather in Paris?', tools: [RESPONSES_WEATHER], tool_choice: 'auto' });
    assert.deepEqual(functionCalls(single).map((c) => [c.name, JSON.parse(c.arguments)]), [['get_weather', { city: 'Paris' }]]);

    script(p, { toolCalls: TWO_CALLS });
    const input: OpenAI.Responses.ResponseInputItem[] = [{ role: 'user', content: 'Weather in Paris and Rome?' }];
    const parallel = await openai.responses.create({ model: p.model, input, tools: [RESPONSES_WEATHER], parallel_tool_calls: true });
    const calls = functionCalls(parallel);
    assert.deepEqual(calls.map((c) => [c.name, JSON.parse(c.arguments)]), TWO_CALLS.map((c) => [c.name, c.arguments]));
    assert.equal(new Set(calls.map((c) => c.call_id)).size, 2, 'each call has its own call_id');

    script(p, { text: 'Sunny in both.' });
    const answer = await openai.responses.create({
      model: p.model,
      tools: [RESPONSES_WEATHER],
      input: [
        ...input,
        ...calls.map((c) => ({ type: 'function_call' as const, call_id: c.call_id, name: c.name, arguments: c.arguments })),
        ...calls.map((c, i) => ({ type: 'function_call_output' as const, call_id: c.call_id, output: i === 0 ? '18C' : '24C' })),
      ],
    });
    assert.equal(answer.output_text, 'Sunny in both.');
    assertToolResultsReached(p);
  },
  async images(p) {
    script(p, { text: 'A red pixel.' });
    const res = await openai.responses.create({
      model: p.model,
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'What is this?' }, { type: 'input_image', image_url: PNG_DATA_URL, detail: 'auto' }] }],
    });
    assert.equal(res.output_text, 'A red pixel.');
    assertImageReached(p);
  },
  async json_schema(p) {
    script(p, { text: PERSON_JSON });
    const res = await openai.responses.create({
      model: p.model,
      input: 'Who wrote the first program?',
      text: { format: { type: 'json_schema', name: 'person', schema: PERSON, strict: true } },
    });
    assert.deepEqual(JSON.parse(res.output_text), { name: 'Ada', age: 36 });
    assertSchemaReached(p);
  },
  async errors(p) {
    fault429(p);
    const err = await openai.responses.create({ model: p.model, input: 'hi' }).then(() => assert.fail('expected a 429'), (e: unknown) => e);
    assertOpenAI429(err, p);
  },
};

// ---- Gemini native ----

const GEMINI_WEATHER: FunctionDeclaration = { name: 'get_weather', description: 'Weather for a city', parametersJsonSchema: CITY };

async function chunksOf(stream: AsyncGenerator<GenerateContentResponse>): Promise<GenerateContentResponse[]> {
  const out: GenerateContentResponse[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

const gemini: Surface = {
  async stream_tools(p) {
    script(p, { toolCalls: TWO_CALLS });
    const chunks = await chunksOf(
      await genai.models.generateContentStream({ model: p.model, contents: WEATHER_QUESTION, config: { tools: [{ functionDeclarations: [GEMINI_WEATHER] }] } }),
    );
    const calls = chunks.flatMap((c) => c.functionCalls ?? []);
    assert.deepEqual(calls.map((c) => c.args), TWO_CITIES);
    assert.ok(calls.every((c) => c.name === 'get_weather'));
    assert.equal(chunks.at(-1)!.candidates?.[0]?.finishReason, 'STOP');
    assertStreamedUpstream(p);
  },
  async plain(p) {
    script(p, { text: 'Bonjour!', usage: USAGE });
    const res = await genai.models.generateContent({ model: p.model, contents: 'Greet me', config: { systemInstruction: 'Be terse.' } });
    assert.equal(res.sdkHttpResponse?.headers?.['x-switchboard-provider'], p.type);
    assert.equal(res.text, 'Bonjour!');
    assert.equal(res.candidates?.[0]?.finishReason, 'STOP');
    const u = res.usageMetadata;
    assert.deepEqual([u?.promptTokenCount, u?.candidatesTokenCount, u?.totalTokenCount, u?.cachedContentTokenCount], [20, 3, 23, cached(p)]);
    assert.match(sentText(p), /Be terse\./);
  },
  async stream(p) {
    script(p, { text: STREAMED, usage: { input: 12, output: 4 } });
    const chunks = await chunksOf(await genai.models.generateContentStream({ model: p.model, contents: 'Count' }));
    assert.equal(chunks.map((c) => c.text ?? '').join(''), STREAMED);
    const last = chunks.at(-1)!;
    assert.equal(last.candidates?.[0]?.finishReason, 'STOP');
    assert.deepEqual([last.usageMetadata?.promptTokenCount, last.usageMetadata?.totalTokenCount], [12, 16]);
    assertStreamedUpstream(p);
  },
  async tools(p) {
    const question: Content = { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] };
    const tools = [{ functionDeclarations: [GEMINI_WEATHER] }];
    script(p, { toolCalls: ONE_CALL });
    const single = await genai.models.generateContent({ model: p.model, contents: [question], config: { tools } });
    assert.deepEqual((single.functionCalls ?? []).map((c) => [c.name, c.args]), [['get_weather', { city: 'Paris' }]]);

    script(p, { toolCalls: TWO_CALLS });
    const parallel = await genai.models.generateContent({ model: p.model, contents: [question], config: { tools } });
    const calls = parallel.functionCalls ?? [];
    assert.deepEqual(calls.map((c) => [c.name, c.args]), TWO_CALLS.map((c) => [c.name, c.arguments]));

    script(p, { text: 'Sunny in both.' });
    const answer = await genai.models.generateContent({
      model: p.model,
      config: { tools },
      contents: [
        question,
        parallel.candidates![0]!.content!,
        { role: 'user', parts: calls.map((c, i) => ({ functionResponse: { ...(c.id !== undefined && { id: c.id }), name: c.name!, response: { output: i === 0 ? '18C' : '24C' } } })) },
      ],
    });
    assert.equal(answer.text, 'Sunny in both.');
    assertToolResultsReached(p);
  },
  async images(p) {
    script(p, { text: 'A red pixel.' });
    const res = await genai.models.generateContent({
      model: p.model,
      contents: [{ role: 'user', parts: [{ text: 'What is this?' }, { inlineData: { mimeType: 'image/png', data: PNG_BASE64 } }] }],
    });
    assert.equal(res.text, 'A red pixel.');
    assertImageReached(p);
  },
  async json_schema(p) {
    script(p, { text: PERSON_JSON });
    const res = await genai.models.generateContent({
      model: p.model,
      contents: 'Who wrote the first program?',
      config: { responseMimeType: 'application/json', responseJsonSchema: PERSON },
    });
    assert.deepEqual(JSON.parse(res.text!), { name: 'Ada', age: 36 });
    assertSchemaReached(p);

    // The older OpenAPI-style schema, with upper-case types.
    script(p, { text: PERSON_JSON });
    const typed = await genai.models.generateContent({
      model: p.model,
      contents: 'Who wrote the first program?',
      config: { responseMimeType: 'application/json', responseSchema: { type: Type.OBJECT, properties: { name: { type: Type.STRING }, age: { type: Type.INTEGER } }, required: ['name', 'age'] } },
    });
    assert.deepEqual(JSON.parse(typed.text!), { name: 'Ada', age: 36 });
    assertSchemaReached(p);
  },
  async errors(p) {
    fault429(p);
    const err = await genai.models.generateContent({ model: p.model, contents: 'hi' }).then(() => assert.fail('expected a 429'), (e: unknown) => e);
    assert.ok(err instanceof ApiError, `expected an ApiError, got ${String(err)}`);
    assert.equal(err.status, 429);
    const body = JSON.parse(err.message.slice(err.message.indexOf('{'))) as { error: { code: number; status: string; message: string } };
    assert.equal(body.error.code, 429);
    assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
    assert.match(body.error.message, new RegExp(p.type));
  },
};

// ---- The matrix ----

const SURFACES: Record<string, Surface> = {
  'openai-chat': chat,
  'anthropic-messages': messages,
  'openai-responses': responses,
  'gemini-native': gemini,
};

for (const [surfaceName, surface] of Object.entries(SURFACES)) {
  for (const p of PROVIDERS) {
    for (const feature of FEATURES) {
      test(`${surfaceName} x ${p.type} x ${feature}`, () => surface[feature](p));
    }
  }
}
