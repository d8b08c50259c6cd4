import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { StreamEvent } from '../types.ts';
import { readStream, sseEvents as events } from '../../../test/helpers/native-stream.ts';
import { anthropicNative } from './native.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

const streamed = (input: StreamEvent[]) => readStream(anthropicNative.createStreamReader('anthropic'), input);

const sse = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

const MESSAGE = {
  id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [
    { type: 'thinking', thinking: 'Paris weather needs the tool.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl' },
    { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rL' },
    { type: 'text', text: "I'll look it up." },
    { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { location: 'Paris, France', unit: 'celsius' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 412, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 97 },
};

const EXPECTED = 'Paris weather needs the tool.' + "I'll look it up." + 'get_weather{"location":"Paris, France","unit":"celsius"}';

/** MESSAGE as Anthropic streams it: the tool input as JSON text in pieces, with the spacing the API puts in it. */
const MESSAGE_SSE = [
  sse('message_start', { message: { ...MESSAGE, content: [], stop_reason: null, usage: { input_tokens: 412, output_tokens: 1 } } }),
  sse('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
  sse('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Paris weather ' } }),
  sse('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'needs the tool.' } }),
  sse('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl' } }),
  sse('content_block_stop', { index: 0 }),
  sse('content_block_start', { index: 1, content_block: { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rL' } }),
  sse('content_block_stop', { index: 1 }),
  sse('content_block_start', { index: 2, content_block: { type: 'text', text: '' } }),
  sse('content_block_delta', { index: 2, delta: { type: 'text_delta', text: "I'll look" } }),
  'event: ping\ndata: {"type": "ping"}\n\n',
  sse('content_block_delta', { index: 2, delta: { type: 'text_delta', text: ' it up.' } }),
  sse('content_block_stop', { index: 2 }),
  sse('content_block_start', { index: 3, content_block: { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: {} } }),
  sse('content_block_delta', { index: 3, delta: { type: 'input_json_delta', partial_json: '' } }),
  sse('content_block_delta', { index: 3, delta: { type: 'input_json_delta', partial_json: '{"location": "Par' } }),
  sse('content_block_delta', { index: 3, delta: { type: 'input_json_delta', partial_json: 'is, France", "unit": "celsius"}' } }),
  sse('content_block_stop', { index: 3 }),
  sse('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 97 } }),
  sse('message_stop', {}),
].join('');

test('a whole message: thinking, text, then the tool name and its input as JSON; redacted thinking gives nothing', () => {
  assert.equal(anthropicNative.output(MESSAGE), EXPECTED);
});

test('the same message streamed gives the same text, the input JSON pieces joined and written compactly', () => {
  const { items, text } = streamed(events(MESSAGE_SSE));
  assert.equal(items.length, 20);
  assert.equal(text, EXPECTED);
});

test('recorded streams: thinking then text; text and tool calls interleaved, in block order', () => {
  assert.equal(streamed(events(fixture('thinking.sse'))).text, '27 * 453 = 10800 + 1431 = 12231.' + '12,231');
  assert.equal(
    streamed(events(fixture('parallel-tools.sse'))).text,
    'Checking both cities.get_weather{"location":"San Francisco, CA"} And New York.get_weather{"location":"New York, NY"}',
  );
  assert.equal(anthropicNative.output(JSON.parse(fixture('thinking.json'))), 'The user asks for 27 * 453. 27 * 453 = 27 * 400 + 27 * 53 = 10800 + 1431 = 12231.27 × 453 = 12,231');
});

test('a tool called without arguments reads as {} either way; server tool calls count, their results do not', () => {
  const whole = {
    content: [
      { type: 'tool_use', id: 'toolu_1', name: 'get_time', input: {} },
      { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'paris weather' } },
      { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [{ type: 'web_search_result', title: 'Paris', url: 'https://example.com' }] },
    ],
  };
  const expected = 'get_time{}web_search{"query":"paris weather"}';
  assert.equal(anthropicNative.output(whole), expected);
  const stream = [
    sse('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_time', input: {} } }),
    sse('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '' } }),
    sse('content_block_start', { index: 1, content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} } }),
    sse('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"query": "paris weather"}' } }),
    sse('content_block_start', { index: 2, content_block: whole.content[2]! }),
  ].join('');
  const reader = anthropicNative.createStreamReader('anthropic');
  assert.equal(reader.output!(events(stream)), expected);
});

test('a stream cut inside a tool input keeps the JSON text it got', () => {
  const cut = events(MESSAGE_SSE).slice(0, 16);
  assert.equal(anthropicNative.createStreamReader('anthropic').output!(cut), 'Paris weather needs the tool.' + "I'll look it up." + 'get_weather{"location": "Par');
});

test('garbage gives an empty text and never throws', () => {
  for (const body of [undefined, null, 'text', 42, [], {}, { content: 'hi' }, { content: [null, 7, 'x', { type: 'text', text: 5 }, { type: 'tool_use' }, { type: 'thinking' }] }]) {
    assert.equal(anthropicNative.output(body), '', JSON.stringify(body));
  }
  const reader = anthropicNative.createStreamReader('anthropic');
  assert.equal(reader.reportsUsage, true);
  const junk: StreamEvent[] = [
    { data: 'not json' },
    { data: '[1,2]' },
    { data: 'null' },
    { event: 'content_block_delta', data: '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"orphan"}}' },
    { data: '{"type":"content_block_start","index":1,"content_block":null}' },
    { data: '{"type":"content_block_start","index":"2","content_block":{"type":"text","text":"x"}}' },
    { data: '{"type":"content_block_start","index":3,"content_block":{"type":"text","text":""}}' },
    { data: '{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":null}}' },
    { data: '{"type":"content_block_delta","index":3,"delta":"text"}' },
  ];
  assert.equal(reader.output!(junk), '');
  assert.equal(reader.output!([]), '');
});
