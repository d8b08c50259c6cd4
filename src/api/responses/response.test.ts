import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatResponse } from '../../core/types.ts';
import { parseResponsesRequest } from './request.ts';
import { responseEcho, toResponsesResponse } from './response.ts';

const chat = (message: Partial<ChatResponse['choices'][number]['message']>, finish: ChatResponse['choices'][number]['finish_reason'] = 'stop'): ChatResponse => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1700000000,
  model: 'claude-sonnet-4-5',
  choices: [{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: finish }],
  usage: { prompt_tokens: 30, completion_tokens: 12, total_tokens: 42, prompt_tokens_details: { cached_tokens: 10 }, completion_tokens_details: { reasoning_tokens: 5 } },
});

const echo = responseEcho(parseResponsesRequest({ model: 'smart', input: 'x', instructions: 'Be terse.', temperature: 0.2, metadata: { a: 'b' } }));

test('a text answer: a completed response with reasoning and message items, usage in Responses naming', () => {
  const res = toResponsesResponse(chat({ content: 'Bonjour', reasoning_content: 'Greet back.' }), echo);
  assert.match(String(res.id), /^resp_/);
  assert.equal(res.object, 'response');
  assert.equal(res.status, 'completed');
  assert.equal(res.created_at, 1700000000);
  assert.equal(res.model, 'claude-sonnet-4-5');
  assert.equal(res.incomplete_details, null);
  assert.equal(res.error, null);
  assert.equal(res.instructions, 'Be terse.');
  assert.equal(res.temperature, 0.2);
  assert.deepEqual(res.metadata, { a: 'b' });
  assert.equal(res.store, false);
  assert.deepEqual(res.text, { format: { type: 'text' } });
  const [reasoning, message] = res.output as Record<string, any>[];
  assert.match(reasoning!.id, /^rs_/);
  assert.deepEqual({ ...reasoning, id: 'rs' }, { id: 'rs', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Greet back.' }] });
  assert.match(message!.id, /^msg_/);
  assert.deepEqual({ ...message, id: 'msg' }, {
    id: 'msg',
    type: 'message',
    status: 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text: 'Bonjour', annotations: [], logprobs: [] }],
  });
  assert.deepEqual(res.usage, {
    input_tokens: 30,
    input_tokens_details: { cached_tokens: 10 },
    output_tokens: 12,
    output_tokens_details: { reasoning_tokens: 5 },
    total_tokens: 42,
  });
});

test('tool calls become function_call items with the call ids the client sends back', () => {
  const res = toResponsesResponse(
    chat(
      {
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      'tool_calls',
    ),
    echo,
  );
  assert.equal(res.status, 'completed');
  const output = res.output as Record<string, any>[];
  assert.deepEqual(output.map((o) => [o.type, o.call_id, o.name, o.arguments, o.status]), [
    ['function_call', 'toolu_1', 'get_weather', '{"city":"Paris"}', 'completed'],
    ['function_call', 'toolu_2', 'get_weather', '{"city":"Rome"}', 'completed'],
  ]);
  assert.ok(output.every((o) => /^fc_/.test(o.id)));
});

test('an answer cut by its token limit is incomplete, with the reason; a filtered one says so', () => {
  const cut = toResponsesResponse(chat({ content: 'Once upon' }, 'length'), echo);
  assert.equal(cut.status, 'incomplete');
  assert.deepEqual(cut.incomplete_details, { reason: 'max_output_tokens' });
  assert.equal((cut.output as Record<string, any>[])[0]!.status, 'incomplete');
  assert.deepEqual(toResponsesResponse(chat({ content: '' }, 'content_filter'), echo).incomplete_details, { reason: 'content_filter' });
});

test('an empty answer still has its (empty) message; an answer without usage has usage null', () => {
  const res = toResponsesResponse({ ...chat({ content: null }), usage: undefined }, echo);
  assert.deepEqual((res.output as Record<string, any>[]).map((o) => o.content), [[{ type: 'output_text', text: '', annotations: [], logprobs: [] }]]);
  assert.equal(res.usage, null);
});

test('the echo repeats the request settings with OpenAI\'s defaults', () => {
  const e = responseEcho(parseResponsesRequest({ model: 'm', input: 'x' }));
  assert.deepEqual(e, {
    background: false,
    instructions: null,
    max_output_tokens: null,
    metadata: {},
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: null,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: null,
    truncation: 'disabled',
    user: null,
  });
});
