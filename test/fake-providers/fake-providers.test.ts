// Tests of the fake providers themselves: the wire formats (checked against the official SDKs, streaming included),
// the default and scripted scenarios, fault injection, recording, and the benchmark CLI.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, beforeEach, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { request } from 'undici';
import { startFakeProviders, type FakeProviders } from './server.ts';

const ANTHROPIC_HEADERS = { 'x-api-key': 'test-key', 'anthropic-version': '2023-06-01' };
const GEMINI_HEADERS = { 'x-goog-api-key': 'test-key' };

let fake: FakeProviders;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await request(`${fake.url}${path}`, {
    method: method as 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
}
const post = (path: string, body: unknown, headers?: Record<string, string>) => call('POST', path, body, headers);

/** Splits an SSE body into events: their `event:` name (if any) and parsed `data:` payload. */
function sse(text: string): { event?: string; data: any }[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split(/\r?\n/);
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = lines.find((l) => l.startsWith('data: '))!.slice(6);
      return { ...(event === undefined ? {} : { event }), data: data === '[DONE]' ? data : JSON.parse(data) };
    });
}

/** Reads a body that the server cuts: what arrived before the cut, and the error. */
async function readUntilCut(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await request(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  let text = '';
  let error: unknown;
  try {
    for await (const chunk of res.body) text += chunk.toString();
  } catch (err) {
    error = err;
  }
  return { status: res.statusCode, text, error };
}

const chatBody = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'gpt-4o', messages: [{ role: 'user', content }], ...extra });
const messagesBody = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content }], ...extra });
const geminiBody = (text: string, extra: Record<string, unknown> = {}) => ({ contents: [{ role: 'user', parts: [{ text }] }], ...extra });
const GEMINI_GENERATE = '/gemini/v1beta/models/gemini-2.5-flash:generateContent';
const GEMINI_STREAM = '/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent';
const WEATHER_TOOL_OPENAI = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

before(async () => {
  fake = await startFakeProviders();
});
after(() => fake.close());
beforeEach(() => fake.reset());

describe('openai wire format', () => {
  it('answers a chat completion with the default echo, the request model and rough usage', async () => {
    const res = await post('/openai/v1/chat/completions', {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Hello' }, { type: 'text', text: 'world' }] },
      ],
    });
    assert.equal(res.status, 200);
    const body = res.json();
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, 'gpt-4o-mini');
    assert.deepEqual(body.choices[0].message, { role: 'assistant', content: 'Echo: Hello world', refusal: null });
    assert.equal(body.choices[0].finish_reason, 'stop');
    // 9 + 11 characters -> 5 tokens in; "Echo: Hello world" -> 3 words out.
    assert.deepEqual(body.usage, {
      prompt_tokens: 5,
      completion_tokens: 3,
      total_tokens: 8,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  it('streams a role chunk, text in pieces, a finish chunk and [DONE], with no usage chunk unless asked', async () => {
    const res = await post('/openai/v1/chat/completions', chatBody('stream me please', { stream: true }));
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/event-stream/);
    const events = sse(res.text).map((e) => e.data);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1);
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '', refusal: null });
    const content = chunks.map((c) => c.choices[0].delta.content ?? '').join('');
    assert.equal(content, 'Echo: stream me please');
    assert.equal(chunks.filter((c) => c.choices[0].delta.content).length, 3);
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id && !('usage' in c)));
  });

  it('streams a usage chunk with empty choices when stream_options.include_usage is set', async () => {
    fake.script({ text: 'ok', usage: { input: 12, output: 7, cached: 4, reasoning: 2 } });
    const res = await post('/openai/v1/chat/completions', chatBody('hi', { stream: true, stream_options: { include_usage: true } }));
    const chunks = sse(res.text).map((e) => e.data).slice(0, -1);
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.deepEqual(last.usage, {
      prompt_tokens: 12,
      completion_tokens: 7,
      total_tokens: 19,
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 2 },
    });
    assert.ok(chunks.slice(0, -1).every((c) => c.usage === null));
  });

  it('calls the first tool when asked about the weather, and answers once the tool result is back', async () => {
    const first = await post('/openai/v1/chat/completions', chatBody('What is the weather like?', { tools: [WEATHER_TOOL_OPENAI] }));
    const choice = first.json().choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    const [tc] = choice.message.tool_calls;
    assert.match(tc.id, /^call_/);
    assert.deepEqual({ ...tc, id: undefined }, { id: undefined, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });

    const second = await post('/openai/v1/chat/completions', {
      model: 'gpt-4o',
      tools: [WEATHER_TOOL_OPENAI],
      messages: [
        { role: 'user', content: 'What is the weather like?' },
        { role: 'assistant', content: null, tool_calls: [tc] },
        { role: 'tool', tool_call_id: tc.id, content: 'Sunny' },
      ],
    });
    assert.equal(second.json().choices[0].finish_reason, 'stop');
    assert.equal(second.json().choices[0].message.content, 'Echo: What is the weather like?');
    // Without tools the word alone does not trigger a call.
    const plain = await post('/openai/v1/chat/completions', chatBody('weather?'));
    assert.equal(plain.json().choices[0].message.content, 'Echo: weather?');
  });

  it('streams tool calls as index/id/type/name deltas followed by argument pieces', async () => {
    fake.script({
      reasoning: 'Two cities.',
      toolCalls: [
        { name: 'get_weather', arguments: { city: 'Rome' }, id: 'call_a' },
        { name: 'get_time', arguments: { tz: 'Europe/Rome' } },
      ],
    });
    const res = await post('/openai/v1/chat/completions', chatBody('x', { stream: true }));
    const chunks = sse(res.text).map((e) => e.data).slice(0, -1);
    assert.equal(chunks.map((c) => c.choices[0].delta.reasoning_content ?? '').join(''), 'Two cities.');
    const calls: { id?: string; name?: string; args: string }[] = [];
    for (const c of chunks) {
      for (const d of c.choices[0].delta.tool_calls ?? []) {
        if (d.id !== undefined) {
          assert.equal(d.index, calls.length);
          assert.equal(d.type, 'function');
          calls.push({ id: d.id, name: d.function.name, args: d.function.arguments });
        } else {
          calls[d.index]!.args += d.function.arguments;
        }
      }
    }
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[0], { id: 'call_a', name: 'get_weather', args: '{"city":"Rome"}' });
    assert.equal(calls[1]!.name, 'get_time');
    assert.deepEqual(JSON.parse(calls[1]!.args), { tz: 'Europe/Rome' });
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'tool_calls');
  });

  it('renders scripted reasoning, finish and usage in a non-stream completion', async () => {
    fake.script({ text: 'Cut short', reasoning: 'Thinking hard', finish: 'length', usage: { input: 100, output: 50, cached: 60, reasoning: 30 } });
    const body = (await post('/openai/v1/chat/completions', chatBody('x'))).json();
    assert.equal(body.choices[0].message.reasoning_content, 'Thinking hard');
    assert.equal(body.choices[0].message.content, 'Cut short');
    assert.equal(body.choices[0].finish_reason, 'length');
    assert.equal(body.usage.prompt_tokens_details.cached_tokens, 60);
    assert.equal(body.usage.completion_tokens_details.reasoning_tokens, 30);
  });

  it('embeds deterministically, as floats or base64 float32', async () => {
    const floats = (await post('/openai/v1/embeddings', { model: 'text-embedding-3-small', input: ['alpha', 'beta', 'alpha'] })).json();
    assert.equal(floats.object, 'list');
    assert.equal(floats.model, 'text-embedding-3-small');
    const vectors: number[][] = floats.data.map((d: any) => d.embedding);
    assert.deepEqual(floats.data.map((d: any) => d.index), [0, 1, 2]);
    assert.equal(vectors[0]!.length, 8);
    assert.ok(Math.abs(Math.hypot(...vectors[0]!) - 1) < 1e-9);
    assert.deepEqual(vectors[0], vectors[2]);
    assert.notDeepEqual(vectors[0], vectors[1]);
    assert.deepEqual(floats.usage, { prompt_tokens: 4, total_tokens: 4 });

    const b64 = (await post('/openai/v1/embeddings', { model: 'm', input: 'alpha', encoding_format: 'base64' })).json();
    const buf = Buffer.from(b64.data[0].embedding, 'base64');
    const decoded = Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4));
    assert.deepEqual(decoded, Array.from(new Float32Array(vectors[0]!)));

    fake.script({ embedding: [1, 0, 0] });
    const scripted = (await post('/openai/v1/embeddings', { model: 'm', input: 'anything' })).json();
    assert.deepEqual(scripted.data[0].embedding, [1, 0, 0]);
  });

  it('lists models and rejects bad requests in the OpenAI error shape', async () => {
    const models = await call('GET', '/openai/v1/models');
    assert.equal(models.json().object, 'list');
    assert.ok(models.json().data.some((m: any) => m.id === 'gpt-4o' && m.object === 'model'));

    const unknown = await post('/openai/v1/completions/legacy', {});
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json(), { error: { message: 'Invalid URL (POST /v1/completions/legacy)', type: 'invalid_request_error', param: null, code: null } });

    const malformed = await post('/openai/v1/chat/completions', '{"model":');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json().error.type, 'invalid_request_error');

    const noMessages = await post('/openai/v1/chat/completions', { model: 'gpt-4o' });
    assert.equal(noMessages.status, 400);
    assert.equal(noMessages.json().error.param, 'messages');

    const nowhere = await post('/nowhere/v1/chat/completions', {});
    assert.equal(nowhere.status, 404);
    assert.equal(typeof nowhere.json().error.message, 'string');
  });
});

describe('anthropic wire format', () => {
  it('requires x-api-key and anthropic-version, in the Anthropic error shape', async () => {
    const noKey = await post('/anthropic/v1/messages', messagesBody('hi'), { 'anthropic-version': '2023-06-01' });
    assert.equal(noKey.status, 401);
    assert.deepEqual(noKey.json(), { type: 'error', error: { type: 'authentication_error', message: 'x-api-key header is required' } });
    const noVersion = await post('/anthropic/v1/messages', messagesBody('hi'), { 'x-api-key': 'k' });
    assert.equal(noVersion.status, 400);
    assert.equal(noVersion.json().error.type, 'invalid_request_error');
    const noMaxTokens = await post('/anthropic/v1/messages', { model: 'c', messages: [] }, ANTHROPIC_HEADERS);
    assert.equal(noMaxTokens.status, 400);
    assert.equal(noMaxTokens.json().error.message, 'max_tokens: Field required');
    const unknown = await post('/anthropic/v1/complete', {}, ANTHROPIC_HEADERS);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json().error.type, 'not_found_error');
    const malformed = await post('/anthropic/v1/messages', '{nope', ANTHROPIC_HEADERS);
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json().type, 'error');
  });

  it('answers a message with thinking, text and tool_use blocks and cache-aware usage', async () => {
    fake.script({
      reasoning: 'Consider Rome.',
      text: 'Checking.',
      toolCalls: [{ name: 'get_weather', arguments: { city: 'Rome' } }],
      usage: { input: 50, output: 20, cached: 30 },
    });
    const res = await post('/anthropic/v1/messages', messagesBody('hi'), ANTHROPIC_HEADERS);
    assert.equal(res.status, 200);
    const msg = res.json();
    assert.equal(msg.type, 'message');
    assert.equal(msg.model, 'claude-sonnet-4-5');
    assert.deepEqual(msg.content.map((b: any) => b.type), ['thinking', 'text', 'tool_use']);
    assert.equal(msg.content[0].thinking, 'Consider Rome.');
    assert.equal(typeof msg.content[0].signature, 'string');
    assert.match(msg.content[2].id, /^toolu_/);
    assert.deepEqual(msg.content[2].input, { city: 'Rome' });
    assert.equal(msg.stop_reason, 'tool_use');
    assert.deepEqual(
      { ...msg.usage, service_tier: undefined },
      { input_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 30, output_tokens: 20, service_tier: undefined },
    );
  });

  it('streams the real event sequence with per-block indexes', async () => {
    fake.script({ reasoning: 'Hmm, let me see.', text: 'Hello there friend', toolCalls: [{ name: 'f', arguments: { a: 1 } }], finish: 'tool_calls', usage: { input: 9, output: 11 } });
    const res = await post('/anthropic/v1/messages', messagesBody('hi', { stream: true }), ANTHROPIC_HEADERS);
    const events = sse(res.text);
    assert.ok(events.every((e) => e.event === e.data.type));
    const seq = events.map((e) => (e.data.index === undefined ? e.event : `${e.event}#${e.data.index}:${e.data.delta?.type ?? e.data.content_block?.type ?? ''}`));
    assert.deepEqual(seq, [
      'message_start',
      'content_block_start#0:thinking',
      'ping',
      'content_block_delta#0:thinking_delta',
      'content_block_delta#0:thinking_delta',
      'content_block_delta#0:thinking_delta',
      'content_block_delta#0:signature_delta',
      'content_block_stop#0:',
      'content_block_start#1:text',
      'content_block_delta#1:text_delta',
      'content_block_delta#1:text_delta',
      'content_block_delta#1:text_delta',
      'content_block_stop#1:',
      'content_block_start#2:tool_use',
      'content_block_delta#2:input_json_delta',
      'content_block_delta#2:input_json_delta',
      'content_block_delta#2:input_json_delta',
      'content_block_stop#2:',
      'message_delta',
      'message_stop',
    ]);
    assert.equal(events[0]!.data.message.usage.input_tokens, 9);
    const text = events.filter((e) => e.data.delta?.type === 'text_delta').map((e) => e.data.delta.text).join('');
    assert.equal(text, 'Hello there friend');
    const json = events.filter((e) => e.data.delta?.type === 'input_json_delta').map((e) => e.data.delta.partial_json).join('');
    assert.deepEqual(JSON.parse(json), { a: 1 });
    assert.deepEqual(events.at(-2)!.data, { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 11 } });
  });

  it('uses the weather default with Anthropic tools and echoes the system-less last user text', async () => {
    const tools = [{ name: 'lookup', input_schema: { type: 'object' } }];
    const call1 = (await post('/anthropic/v1/messages', messagesBody('Weather in Paris?', { tools }), ANTHROPIC_HEADERS)).json();
    assert.equal(call1.stop_reason, 'tool_use');
    assert.deepEqual(call1.content.map((b: any) => [b.type, b.name, b.input]), [['tool_use', 'lookup', { city: 'Paris' }]]);
    const call2 = (
      await post(
        '/anthropic/v1/messages',
        {
          model: 'c',
          max_tokens: 10,
          tools,
          system: [{ type: 'text', text: 'sys' }],
          messages: [
            { role: 'user', content: 'Weather in Paris?' },
            { role: 'assistant', content: call1.content },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: call1.content[0].id, content: 'Sunny' }] },
          ],
        },
        ANTHROPIC_HEADERS,
      )
    ).json();
    assert.equal(call2.stop_reason, 'end_turn');
    assert.deepEqual(call2.content, [{ type: 'text', text: 'Echo: Weather in Paris?' }]);
  });
});

describe('gemini wire format', () => {
  it('requires an API key by header or ?key=', async () => {
    const none = await post(GEMINI_GENERATE, geminiBody('hi'));
    assert.equal(none.status, 403);
    assert.equal(none.json().error.status, 'PERMISSION_DENIED');
    assert.equal(none.json().error.code, 403);
    assert.equal((await post(`${GEMINI_GENERATE}?key=abc`, geminiBody('hi'))).status, 200);
    assert.equal((await post(GEMINI_GENERATE, geminiBody('hi'), GEMINI_HEADERS)).status, 200);
  });

  it('answers generateContent with thought, text and function call parts and usage metadata', async () => {
    fake.script({ reasoning: 'Ponder.', text: 'Done.', toolCalls: [{ name: 'f', arguments: { x: 1 } }], usage: { input: 40, output: 25, cached: 10, reasoning: 5 } });
    const body = (await post(GEMINI_GENERATE, geminiBody('hi'), GEMINI_HEADERS)).json();
    assert.equal(body.modelVersion, 'gemini-2.5-flash');
    const [cand] = body.candidates;
    assert.equal(cand.content.role, 'model');
    assert.deepEqual(cand.content.parts, [{ text: 'Ponder.', thought: true }, { text: 'Done.' }, { functionCall: { name: 'f', args: { x: 1 } } }]);
    assert.equal(cand.finishReason, 'STOP');
    assert.deepEqual(body.usageMetadata, { promptTokenCount: 40, candidatesTokenCount: 20, totalTokenCount: 65, cachedContentTokenCount: 10, thoughtsTokenCount: 5 });
  });

  it('streams SSE payloads with CRLF framing; the last one carries finishReason and usageMetadata', async () => {
    const res = await post(`${GEMINI_STREAM}?alt=sse`, geminiBody('stream this text', { systemInstruction: { parts: [{ text: 'sys' }] } }), GEMINI_HEADERS);
    assert.match(String(res.headers['content-type']), /^text\/event-stream/);
    assert.ok(res.text.includes('}\r\n\r\ndata: '));
    const payloads = sse(res.text).map((e) => e.data);
    assert.equal(payloads.length, 3);
    assert.equal(payloads.map((p) => p.candidates[0].content.parts[0].text).join(''), 'Echo: stream this text');
    assert.ok(payloads.slice(0, -1).every((p) => p.candidates[0].finishReason === undefined && p.usageMetadata === undefined));
    const last = payloads.at(-1);
    assert.equal(last.candidates[0].finishReason, 'STOP');
    // "sys" + "stream this text" = 19 characters -> 5 tokens; 4 words out.
    assert.deepEqual(last.usageMetadata, { promptTokenCount: 5, candidatesTokenCount: 4, totalTokenCount: 9 });
  });

  it('streams as one JSON array without alt=sse, and calls the weather tool by default', async () => {
    const tools = [{ functionDeclarations: [{ name: 'weather_now', parameters: { type: 'object' } }] }];
    const res = await post(GEMINI_STREAM, geminiBody('weather please', { tools }), GEMINI_HEADERS);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const list = res.json();
    assert.ok(Array.isArray(list));
    assert.deepEqual(list.at(-1).candidates[0].content.parts, [{ functionCall: { name: 'weather_now', args: { city: 'Paris' } } }]);
    const answered = (
      await post(
        GEMINI_GENERATE,
        {
          tools,
          contents: [
            { role: 'user', parts: [{ text: 'weather please' }] },
            { role: 'model', parts: [{ functionCall: { name: 'weather_now', args: { city: 'Paris' } } }] },
            { role: 'user', parts: [{ functionResponse: { name: 'weather_now', response: { sky: 'clear' } } }] },
          ],
        },
        GEMINI_HEADERS,
      )
    ).json();
    assert.deepEqual(answered.candidates[0].content.parts, [{ text: 'Echo: weather please' }]);
  });

  it('embeds single and batched contents', async () => {
    const one = (await post('/gemini/v1beta/models/gemini-embedding-001:embedContent', { content: { parts: [{ text: 'alpha' }] } }, GEMINI_HEADERS)).json();
    assert.equal(one.embedding.values.length, 8);
    const batch = (
      await post(
        '/gemini/v1beta/models/gemini-embedding-001:batchEmbedContents',
        { requests: ['alpha', 'beta'].map((text) => ({ model: 'models/gemini-embedding-001', content: { parts: [{ text }] } })) },
        GEMINI_HEADERS,
      )
    ).json();
    assert.equal(batch.embeddings.length, 2);
    assert.deepEqual(batch.embeddings[0].values, one.embedding.values);
    // Same text, same vector, whichever provider embeds it.
    const openaiVector = (await post('/openai/v1/embeddings', { model: 'm', input: 'alpha' })).json().data[0].embedding;
    assert.deepEqual(openaiVector, one.embedding.values);
  });

  it('rejects unknown methods, malformed JSON and missing contents in the Gemini error shape', async () => {
    const unknown = await post('/gemini/v1beta/models/gemini-2.5-flash:predictLongRunning', {}, GEMINI_HEADERS);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json().error.status, 'NOT_FOUND');
    const malformed = await post(GEMINI_GENERATE, 'not json', GEMINI_HEADERS);
    assert.equal(malformed.status, 400);
    assert.deepEqual(Object.keys(malformed.json().error), ['code', 'message', 'status']);
    const empty = await post(GEMINI_GENERATE, { contents: [] }, GEMINI_HEADERS);
    assert.equal(empty.status, 400);
    assert.equal(empty.json().error.status, 'INVALID_ARGUMENT');
  });
});

describe('scripts, faults and recording', () => {
  it('records method, path, query, headers and body', async () => {
    await post(`${GEMINI_GENERATE}?key=k1`, geminiBody('hi'), { 'x-extra': 'yes' });
    assert.equal(fake.received.length, 1);
    const [r] = fake.received;
    assert.equal(r!.provider, 'gemini');
    assert.equal(r!.method, 'POST');
    assert.equal(r!.path, GEMINI_GENERATE);
    assert.deepEqual(r!.query, { key: 'k1' });
    assert.equal(r!.headers['x-extra'], 'yes');
    assert.deepEqual(r!.body, geminiBody('hi'));
  });

  it('hands scripts out FIFO, honouring the provider filter', async () => {
    fake.script({ text: 'for anthropic' }, { provider: 'anthropic' });
    fake.script({ text: 'first' });
    fake.script({ text: 'second' });
    const a = await post('/openai/v1/chat/completions', chatBody('x'));
    const b = await post('/anthropic/v1/messages', messagesBody('x'), ANTHROPIC_HEADERS);
    const c = await post('/openai/v1/chat/completions', chatBody('x'));
    const d = await post('/openai/v1/chat/completions', chatBody('x'));
    assert.equal(a.json().choices[0].message.content, 'first');
    assert.equal(b.json().content[0].text, 'for anthropic');
    assert.equal(c.json().choices[0].message.content, 'second');
    assert.equal(d.json().choices[0].message.content, 'Echo: x');
  });

  it('injects status faults in each provider shape, with retry-after, for `times` requests, keeping the script queued', async () => {
    fake.script({ text: 'after the faults' });
    fake.fault({ kind: 'status', status: 429, retryAfter: '7' }, { provider: 'openai', times: 2 });
    fake.fault({ kind: 'status', status: 529 }, { provider: 'anthropic' });
    fake.fault({ kind: 'status', status: 503 }, { provider: 'gemini' });

    const models = await call('GET', '/openai/v1/models');
    assert.equal(models.status, 200, 'listings are never faulted');
    for (let i = 0; i < 2; i++) {
      const res = await post('/openai/v1/chat/completions', chatBody('x'));
      assert.equal(res.status, 429);
      assert.equal(res.headers['retry-after'], '7');
      assert.deepEqual(Object.keys(res.json().error).sort(), ['code', 'message', 'param', 'type']);
      assert.equal(res.json().error.code, 'rate_limit_exceeded');
    }
    const anth = await post('/anthropic/v1/messages', messagesBody('x'), ANTHROPIC_HEADERS);
    assert.equal(anth.status, 529);
    assert.equal(anth.json().error.type, 'overloaded_error');
    const gem = await post(GEMINI_GENERATE, geminiBody('x'), GEMINI_HEADERS);
    assert.equal(gem.status, 503);
    assert.deepEqual({ ...gem.json().error, message: '' }, { code: 503, message: '', status: 'UNAVAILABLE' });

    const ok = await post('/openai/v1/chat/completions', chatBody('x'));
    assert.equal(ok.json().choices[0].message.content, 'after the faults');
  });

  it('sends a raw fault body as given', async () => {
    fake.fault({ kind: 'status', status: 502, body: '<html>Bad Gateway</html>' });
    const res = await post('/openai/v1/chat/completions', chatBody('x'));
    assert.equal(res.status, 502);
    assert.equal(res.text, '<html>Bad Gateway</html>');
    assert.match(String(res.headers['content-type']), /^text\/plain/);
  });

  it('delays the answer on a latency fault', async () => {
    fake.fault({ kind: 'latency', ms: 150 });
    const t0 = performance.now();
    const res = await post('/openai/v1/chat/completions', chatBody('x'));
    assert.equal(res.status, 200);
    assert.ok(performance.now() - t0 >= 140);
  });

  it('cuts a stream after N events', async () => {
    fake.fault({ kind: 'cut', afterEvents: 2 }, { provider: 'anthropic' });
    const res = await readUntilCut('/anthropic/v1/messages', messagesBody('hello', { stream: true }), ANTHROPIC_HEADERS);
    assert.equal(res.status, 200);
    assert.ok(res.error instanceof Error);
    assert.deepEqual(sse(res.text).map((e) => e.event), ['message_start', 'content_block_start']);
  });

  it('cuts a non-stream response after the headers', async () => {
    fake.fault({ kind: 'cut', afterEvents: 0 });
    const res = await readUntilCut('/openai/v1/chat/completions', chatBody('x'));
    assert.equal(res.status, 200);
    assert.equal(res.text, '');
    assert.ok(res.error instanceof Error);
  });

  it('never answers on a hang fault', async () => {
    fake.fault({ kind: 'hang' }, { provider: 'gemini' });
    await assert.rejects(
      request(`${fake.url}${GEMINI_GENERATE}`, { method: 'POST', headers: GEMINI_HEADERS, body: JSON.stringify(geminiBody('x')), headersTimeout: 300 }),
      /timeout/i,
    );
    assert.equal((await post(GEMINI_GENERATE, geminiBody('x'), GEMINI_HEADERS)).status, 200);
  });

  it('reset() clears records, scripts and faults', async () => {
    fake.script({ text: 'stale' });
    fake.fault({ kind: 'status', status: 500 });
    await call('GET', '/openai/v1/models');
    fake.reset();
    assert.equal(fake.received.length, 0);
    const res = await post('/openai/v1/chat/completions', chatBody('fresh'));
    assert.equal(res.json().choices[0].message.content, 'Echo: fresh');
  });
});

describe('server options', () => {
  it('applies latencyMs to every request, spaces stream events by streamEventDelayMs, and can skip recording', async () => {
    const slow = await startFakeProviders({ latencyMs: 100, streamEventDelayMs: 30, record: false });
    try {
      let t0 = performance.now();
      const res = await request(`${slow.url}/openai/v1/models`);
      await res.body.text();
      assert.ok(performance.now() - t0 >= 90);

      t0 = performance.now();
      const stream = await request(`${slow.url}/openai/v1/chat/completions`, { method: 'POST', body: JSON.stringify(chatBody('abc', { stream: true })) });
      const firstByte = performance.now() - t0;
      const events = sse(await stream.body.text());
      // role, 3 content pieces, finish, [DONE]: 5 gaps of 30 ms after the headers.
      assert.equal(events.length, 6);
      assert.ok(performance.now() - t0 - firstByte >= 140);
      assert.equal(slow.received.length, 0);
    } finally {
      await slow.close();
    }
  });

  it('main.ts prints its URL, serves, and exits cleanly on SIGTERM', async () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0', '--latency', '5'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let out = '';
      for await (const chunk of child.stdout) {
        out += chunk;
        if (out.includes('\n')) break;
      }
      const m = /^fake-providers listening on (http:\/\/127\.0\.0\.1:(\d+))\n$/.exec(out);
      assert.ok(m, `unexpected output: ${out}`);
      const res = await request(`${m[1]}/anthropic/v1/messages`, { method: 'POST', headers: ANTHROPIC_HEADERS, body: JSON.stringify(messagesBody('cli')) });
      assert.equal(((await res.body.json()) as any).content[0].text, 'Echo: cli');
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0);
    }
  });
});

describe('official SDKs against the fakes', () => {
  it('openai SDK: completion, stream with tools and usage, embeddings (base64), models', async () => {
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${fake.url}/openai/v1`, maxRetries: 0 });
    const done = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello SDK' }] });
    assert.equal(done.choices[0]!.message.content, 'Echo: Hello SDK');

    const stream = client.chat.completions.stream({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      stream_options: { include_usage: true },
    });
    const final = await stream.finalChatCompletion();
    const tc = final.choices[0]!.message.tool_calls![0]!;
    assert.equal(tc.type === 'function' && tc.function.name, 'get_weather');
    assert.equal(tc.type === 'function' && tc.function.arguments, '{"city":"Paris"}');
    assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(final.usage?.completion_tokens, 1);

    const text = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'one two three' }], stream: true });
    let got = '';
    for await (const chunk of text) got += chunk.choices[0]?.delta.content ?? '';
    assert.equal(got, 'Echo: one two three');

    const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'] });
    assert.equal(fake.received.at(-1)!.body.encoding_format, 'base64');
    assert.equal(emb.data.length, 2);
    assert.equal(emb.data[0]!.embedding.length, 8);

    const models = await client.models.list();
    assert.ok(models.data.some((m) => m.id === 'gpt-4o'));

    fake.fault({ kind: 'status', status: 429, retryAfter: '1' });
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.RateLimitError);
      assert.equal(err.code, 'rate_limit_exceeded');
      return true;
    });
  });

  it('anthropic SDK: message and stream agree on thinking, text and tool_use', async () => {
    const client = new Anthropic({ apiKey: 'sk-ant-test', baseURL: `${fake.url}/anthropic`, maxRetries: 0 });
    const scenario = { reasoning: 'Let me think.', text: 'It is sunny.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Rome' }, id: 'toolu_1' }], usage: { input: 30, output: 12, cached: 8 } };
    const params = { model: 'claude-haiku-4-5', max_tokens: 256, messages: [{ role: 'user' as const, content: 'Weather in Rome?' }] };

    fake.script(scenario);
    const msg = await client.messages.create(params);
    fake.script(scenario);
    const streamed = await client.messages.stream(params).finalMessage();

    for (const m of [msg, streamed]) {
      assert.deepEqual(m.content.map((b) => b.type), ['thinking', 'text', 'tool_use']);
      const [thinking, text, tool] = m.content;
      assert.equal(thinking!.type === 'thinking' && thinking!.thinking, 'Let me think.');
      assert.ok(thinking!.type === 'thinking' && thinking!.signature.length > 0);
      assert.equal(text!.type === 'text' && text!.text, 'It is sunny.');
      assert.deepEqual(tool!.type === 'tool_use' && [tool!.id, tool!.name, tool!.input], ['toolu_1', 'get_weather', { city: 'Rome' }]);
      assert.equal(m.stop_reason, 'tool_use');
      assert.equal(m.usage.input_tokens, 22);
      assert.equal(m.usage.cache_read_input_tokens, 8);
      assert.equal(m.usage.output_tokens, 12);
    }

    fake.fault({ kind: 'status', status: 529 });
    await assert.rejects(client.messages.create(params), (err: unknown) => {
      assert.ok(err instanceof Anthropic.APIError);
      assert.equal(err.status, 529);
      assert.equal((err.error as any).error.type, 'overloaded_error');
      return true;
    });
  });

  it('google genai SDK: generateContent, stream, function calls and embeddings', async () => {
    const ai = new GoogleGenAI({ apiKey: 'g-test', httpOptions: { baseUrl: `${fake.url}/gemini` } });
    const res = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello Gemini' });
    assert.equal(res.text, 'Echo: Hello Gemini');
    assert.equal(res.usageMetadata?.totalTokenCount, 3 + 3);
    assert.equal(res.modelVersion, 'gemini-2.5-flash');

    fake.script({ reasoning: 'Hm.', text: 'Streaming along nicely' });
    let got = '';
    let last: any;
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'x' })) {
      got += chunk.text ?? '';
      last = chunk;
    }
    assert.equal(got, 'Streaming along nicely');
    assert.equal(last.candidates[0].finishReason, 'STOP');
    assert.equal(last.usageMetadata.thoughtsTokenCount, 1);

    const call = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'What is the weather?',
      config: { tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'weather' }] }] },
    });
    assert.deepEqual(call.functionCalls?.map((f) => [f.name, f.args]), [['get_weather', { city: 'Paris' }]]);

    const emb = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['alpha', 'beta'] });
    assert.equal(emb.embeddings?.length, 2);
    assert.equal(emb.embeddings?.[0]?.values?.length, 8);
    assert.equal(fake.received.at(-1)!.headers['x-goog-api-key'], 'g-test');
  });
});
