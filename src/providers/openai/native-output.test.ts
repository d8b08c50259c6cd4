import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { StreamEvent } from '../types.ts';
import { readStream, sseEvents as events } from '../../../test/helpers/native-stream.ts';
import { openaiAdapter } from './index.ts';

const native = openaiAdapter.native!.responses!;

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

const streamed = (input: StreamEvent[]) => readStream(native.createStreamReader('openai'), input);

let sequence = 0;
const sse = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`;

const REASONING = { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'The user wants Paris weather.' }] };
const MESSAGE = {
  id: 'msg_1',
  type: 'message',
  status: 'completed',
  role: 'assistant',
  content: [{ type: 'output_text', text: 'Checking Paris now.', annotations: [], logprobs: [] }],
};
const CALL = { id: 'fc_1', type: 'function_call', status: 'completed', arguments: '{"city":"Paris","unit":"c"}', call_id: 'call_1', name: 'get_weather' };

const RESPONSE = {
  id: 'resp_1',
  object: 'response',
  created_at: 1741290958,
  status: 'completed',
  error: null,
  model: 'o4-mini-2025-04-16',
  output: [REASONING, { id: 'ws_1', type: 'web_search_call', status: 'completed', action: { type: 'search', query: 'paris' } }, MESSAGE, CALL],
  usage: { input_tokens: 50, input_tokens_details: { cached_tokens: 0 }, output_tokens: 30, output_tokens_details: { reasoning_tokens: 12 }, total_tokens: 80 },
};

const EXPECTED = 'The user wants Paris weather.' + 'Checking Paris now.' + 'get_weather{"city":"Paris","unit":"c"}';

/** RESPONSE as the Responses API streams it, event for event. */
const RESPONSE_SSE = [
  sse('response.created', { response: { ...RESPONSE, status: 'in_progress', output: [], usage: null } }),
  sse('response.in_progress', { response: { ...RESPONSE, status: 'in_progress', output: [], usage: null } }),
  sse('response.output_item.added', { output_index: 0, item: { ...REASONING, summary: [] } }),
  sse('response.reasoning_summary_part.added', { item_id: 'rs_1', output_index: 0, summary_index: 0, part: { type: 'summary_text', text: '' } }),
  sse('response.reasoning_summary_text.delta', { item_id: 'rs_1', output_index: 0, summary_index: 0, delta: 'The user wants ', obfuscation: 'a1' }),
  sse('response.reasoning_summary_text.delta', { item_id: 'rs_1', output_index: 0, summary_index: 0, delta: 'Paris weather.', obfuscation: 'a2' }),
  sse('response.reasoning_summary_text.done', { item_id: 'rs_1', output_index: 0, summary_index: 0, text: 'The user wants Paris weather.' }),
  sse('response.reasoning_summary_part.done', { item_id: 'rs_1', output_index: 0, summary_index: 0, part: REASONING.summary[0] }),
  sse('response.output_item.done', { output_index: 0, item: REASONING }),
  sse('response.output_item.added', { output_index: 1, item: { id: 'ws_1', type: 'web_search_call', status: 'in_progress' } }),
  sse('response.web_search_call.in_progress', { output_index: 1, item_id: 'ws_1' }),
  sse('response.web_search_call.completed', { output_index: 1, item_id: 'ws_1' }),
  sse('response.output_item.done', { output_index: 1, item: RESPONSE.output[1]! }),
  sse('response.output_item.added', { output_index: 2, item: { ...MESSAGE, status: 'in_progress', content: [] } }),
  sse('response.content_part.added', { item_id: 'msg_1', output_index: 2, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }),
  sse('response.output_text.delta', { item_id: 'msg_1', output_index: 2, content_index: 0, delta: 'Checking ', logprobs: [], obfuscation: 'b1' }),
  sse('response.output_text.delta', { item_id: 'msg_1', output_index: 2, content_index: 0, delta: 'Paris now.', logprobs: [], obfuscation: 'b2' }),
  sse('response.output_text.done', { item_id: 'msg_1', output_index: 2, content_index: 0, text: 'Checking Paris now.', logprobs: [] }),
  sse('response.content_part.done', { item_id: 'msg_1', output_index: 2, content_index: 0, part: MESSAGE.content[0]! }),
  sse('response.output_item.done', { output_index: 2, item: MESSAGE }),
  sse('response.output_item.added', { output_index: 3, item: { ...CALL, status: 'in_progress', arguments: '' } }),
  sse('response.function_call_arguments.delta', { item_id: 'fc_1', output_index: 3, delta: '{"city":', obfuscation: 'c1' }),
  sse('response.function_call_arguments.delta', { item_id: 'fc_1', output_index: 3, delta: '"Paris","unit":"c"}', obfuscation: 'c2' }),
  sse('response.function_call_arguments.done', { item_id: 'fc_1', output_index: 3, name: 'get_weather', arguments: CALL.arguments }),
  sse('response.output_item.done', { output_index: 3, item: CALL }),
  sse('response.completed', { response: RESPONSE }),
].join('');

test('a whole response: reasoning summary, message text, then the function name and its arguments; built-in tool calls give nothing', () => {
  assert.equal(native.output(RESPONSE), EXPECTED);
});

test('the same response streamed gives the same text, read from the deltas', () => {
  const { items, text } = streamed(events(RESPONSE_SSE));
  assert.equal(items.length, 26);
  assert.equal(text, EXPECTED);
});

test('a recorded stream reads the same as the response its response.completed carries', () => {
  const input = events(fixture('responses-stream.sse'));
  const expected = 'Weather needs a tool.' + 'get_weather{"city":"Paris"}';
  assert.equal(streamed(input).text, expected);
  assert.equal(native.output(JSON.parse(input.at(-1)!.data).response), expected);
  assert.equal(native.output(JSON.parse(fixture('responses-text.json'))), 'In a peaceful grove beneath a silver moon, a unicorn named Lumina discovered a hidden pool.');
});

test('raw reasoning text (open-weight models) counts after the summary, whole or streamed', () => {
  const reasoning = { id: 'rs_2', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Short.' }], content: [{ type: 'reasoning_text', text: 'Long chain.' }] };
  assert.equal(native.output({ output: [reasoning] }), 'Short.Long chain.');
  const stream = [
    sse('response.output_item.added', { output_index: 0, item: { id: 'rs_2', type: 'reasoning', summary: [] } }),
    sse('response.reasoning_text.delta', { item_id: 'rs_2', output_index: 0, content_index: 0, delta: 'Long ' }),
    sse('response.reasoning_text.delta', { item_id: 'rs_2', output_index: 0, content_index: 0, delta: 'chain.' }),
    sse('response.reasoning_summary_text.delta', { item_id: 'rs_2', output_index: 0, summary_index: 0, delta: 'Short.' }),
  ].join('');
  assert.equal(native.createStreamReader('openai').output!(events(stream)), 'Short.Long chain.');
});

test('garbage gives an empty text and never throws', () => {
  const bodies = [undefined, null, 'text', [], { output: 'x' }, { output: [null, 1, { type: 'message', content: 'hi' }, { type: 'message', content: [{ type: 'output_text' }] }, { type: 'function_call', arguments: '{}' }, { type: 'reasoning', summary: [{ text: 'untyped' }] }] }];
  for (const body of bodies) assert.equal(native.output(body), '', JSON.stringify(body));
  const reader = native.createStreamReader('openai');
  assert.equal(reader.reportsUsage, true);
  const junk: StreamEvent[] = [
    { data: '[DONE]' },
    { data: 'not json' },
    { data: '{"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"orphan"}' },
    { data: '{"type":"response.output_item.added","output_index":1,"item":null}' },
    { data: '{"type":"response.output_item.added","output_index":2,"item":{"type":"message"}}' },
    { data: '{"type":"response.output_text.delta","output_index":2,"content_index":"0","delta":"bad index"}' },
    { data: '{"type":"response.output_text.delta","output_index":2,"content_index":0,"delta":7}' },
    { data: '{"type":"response.function_call_arguments.delta","output_index":2,"delta":"{}"}' },
  ];
  assert.equal(reader.output!(junk), '');
});
