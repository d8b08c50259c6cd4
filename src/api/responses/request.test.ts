import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GatewayError } from '../../core/errors.ts';
import { parseResponsesEnvelope, parseResponsesRequest, toCanonicalRequest } from './request.ts';

const PNG = 'data:image/png;base64,iVBORw0KGgo=';

const canonical = (body: Record<string, unknown>) => toCanonicalRequest(parseResponsesRequest({ model: 'm', ...body }), 'anthropic');

/** The 400 a request gets, as [param, code]. */
function refusal(body: Record<string, unknown>): [string | null, string | null, string] {
  try {
    canonical(body);
  } catch (err) {
    const e = err as GatewayError;
    assert.equal(e.status, 400);
    return [e.param, e.code, e.message];
  }
  assert.fail('expected a 400');
}

test('input as a string is one user message; instructions become the system message', () => {
  const req = canonical({ input: 'Hello', instructions: 'Be terse.' });
  assert.deepEqual(req.messages, [
    { role: 'system', content: 'Be terse.' },
    { role: 'user', content: 'Hello' },
  ]);
  assert.equal(req.stream, undefined);
});

test('message items: roles, input_text, input_image by URL and data URL, output_text history', () => {
  const req = canonical({
    input: [
      { role: 'developer', content: 'Answer in French.' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is this?' }, { type: 'input_image', image_url: 'https://x.test/cat.jpg', detail: 'low' }, { type: 'input_image', image_url: PNG }] },
      { type: 'message', role: 'assistant', id: 'msg_1', status: 'completed', content: [{ type: 'output_text', text: 'Un chat.', annotations: [] }] },
      { role: 'user', content: 'Sûr ?' },
    ],
  });
  assert.deepEqual(req.messages, [
    { role: 'developer', content: 'Answer in French.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is this?' },
        { type: 'image_url', image_url: { url: 'https://x.test/cat.jpg', detail: 'low' } },
        { type: 'image_url', image_url: { url: PNG } },
      ],
    },
    { role: 'assistant', content: 'Un chat.' },
    { role: 'user', content: 'Sûr ?' },
  ]);
});

test('function_call items join one assistant turn; function_call_output items become tool messages; reasoning is left out', () => {
  const req = canonical({
    input: [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'two calls' }] },
      { role: 'assistant', content: 'Checking.' },
      { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call', id: 'fc_2', call_id: 'call_2', name: 'get_weather', arguments: '{"city":"Rome"}' },
      { type: 'function_call_output', call_id: 'call_1', output: '18C' },
      { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: '24C' }] },
    ],
  });
  assert.deepEqual(req.messages, [
    { role: 'user', content: 'Weather in Paris and Rome?' },
    {
      role: 'assistant',
      content: 'Checking.',
      tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_1', content: '18C' },
    { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '24C' }] },
  ]);
});

test('a function_call with no assistant message before it opens its own assistant turn', () => {
  const req = canonical({ input: [{ role: 'user', content: 'x' }, { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }, { type: 'function_call_output', call_id: 'c', output: 'ok' }] });
  assert.deepEqual(req.messages[1], { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] });
});

test('sampling, limits, tools, tool_choice, text.format, reasoning, metadata and user map to the chat fields', () => {
  const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };
  const req = canonical({
    input: 'x',
    stream: true,
    temperature: 0.3,
    top_p: 0.9,
    max_output_tokens: 64,
    tools: [{ type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object' }, strict: true }, { type: 'function', name: 'noop', parameters: null, strict: null }],
    tool_choice: { type: 'function', name: 'get_weather' },
    parallel_tool_calls: false,
    text: { format: { type: 'json_schema', name: 'answer', schema, strict: true, description: 'An answer' } },
    reasoning: { effort: 'high', summary: 'auto' },
    metadata: { team: 'a' },
    safety_identifier: 'user-1',
    store: false,
    include: ['reasoning.encrypted_content'],
    prompt_cache_key: 'k',
    truncation: 'disabled',
  });
  assert.deepEqual(req, {
    model: 'm',
    messages: [{ role: 'user', content: 'x' }],
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0.3,
    top_p: 0.9,
    max_completion_tokens: 64,
    tools: [
      { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object' }, strict: true } },
      { type: 'function', function: { name: 'noop' } },
    ],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    parallel_tool_calls: false,
    response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true, description: 'An answer' } },
    reasoning_effort: 'high',
    metadata: { team: 'a' },
    user: 'user-1',
  });
  assert.deepEqual(canonical({ input: 'x', text: { format: { type: 'json_object' } }, tool_choice: 'required' }).response_format, { type: 'json_object' });
  assert.equal(canonical({ input: 'x', text: { format: { type: 'text' } } }).response_format, undefined);
});

test('what only OpenAI\'s Responses service can provide is refused with a 400 naming it', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ store: true }, 'store'],
    [{ previous_response_id: 'resp_1' }, 'previous_response_id'],
    [{ background: true }, 'background'],
    [{ conversation: 'conv_1' }, 'conversation'],
    [{ prompt: { id: 'pmpt_1' } }, 'prompt'],
    [{ tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    [{ tools: [{ type: 'function', name: 'f' }, { type: 'file_search', vector_store_ids: ['vs'] }] }, 'tools[1].type'],
    [{ tool_choice: { type: 'web_search_preview' } }, 'tool_choice'],
    [{ include: ['message.output_text.logprobs'] }, 'include[0]'],
    [{ truncation: 'auto' }, 'truncation'],
    [{ text: { verbosity: 'low' } }, 'text.verbosity'],
    [{ service_tier: 'flex' }, 'service_tier'],
    [{ top_logprobs: 3 }, 'top_logprobs'],
    [{ frobnicate: 1 }, 'frobnicate'],
  ];
  for (const [extra, param] of cases) {
    const [got, code, message] = refusal({ input: 'x', ...extra });
    assert.equal(got, param, JSON.stringify(extra));
    assert.equal(code, 'unsupported_parameter');
    assert.match(message, /^Provider 'anthropic' does not support/);
  }
  assert.match(refusal({ tools: [{ type: 'web_search' }], input: 'x' })[2], /the gateway cannot provide on a translated provider/);
});

test('input the translation cannot carry, or that is malformed, is a 400 naming the item', () => {
  const cases: [unknown, string][] = [
    [[{ type: 'item_reference', id: 'msg_1' }], 'input[0].type'],
    [[{ type: 'web_search_call', id: 'ws_1' }], 'input[0].type'],
    [[{ role: 'user', content: [{ type: 'input_file', file_id: 'file-1' }] }], 'input[0].content[0].type'],
    [[{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }], 'input[0].content[0].file_id'],
    [[{ role: 'user', content: [{ type: 'input_image' }] }], 'input[0].content[0].image_url'],
    [[{ role: 'user', content: [{ type: 'bogus' }] }], 'input[0].content[0].type'],
    [[{ role: 'tool', content: 'x' }], 'input[0].role'],
    [[{ role: 'user', content: 'x' }, { type: 'function_call', name: 'f', arguments: '{}' }], 'input[1].call_id'],
    [[{ role: 'user', content: 'x' }, { type: 'function_call_output', call_id: 'c' }], 'input[1].output'],
    [[{ role: 'assistant', content: [{ type: 'input_image', image_url: PNG }] }], 'input[0].content[0]'],
    [[], 'input'],
  ];
  for (const [input, param] of cases) assert.equal(refusal({ input })[0], param, JSON.stringify(input));
  assert.equal(refusal({ instructions: 'only a system prompt' })[0], 'input');
  assert.throws(() => parseResponsesRequest({ model: 'm', input: 'x', temperature: 3 }), (e: GatewayError) => e.status === 400 && e.param === 'temperature');
  assert.throws(() => parseResponsesRequest({ model: 'm', input: 'x', reasoning: { effort: 'huge' } }), (e: GatewayError) => e.param === 'reasoning.effort');
});

test('the envelope every target needs: a model, and stream as a boolean; the rest is left to the target', () => {
  assert.deepEqual(parseResponsesEnvelope({ model: 'gpt-4.1', stream: true, reasoning: { effort: 'brand-new' } }), { model: 'gpt-4.1', stream: true, reasoning: { effort: 'brand-new' } });
  assert.throws(() => parseResponsesEnvelope({ input: 'x' }), (e: GatewayError) => e.status === 400 && e.param === 'model');
  assert.throws(() => parseResponsesEnvelope({ model: 'm', stream: 'yes' }), (e: GatewayError) => e.param === 'stream');
  assert.throws(() => parseResponsesEnvelope([]), (e: GatewayError) => e.status === 400);
});
