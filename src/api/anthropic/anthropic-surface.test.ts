import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../core/errors.ts';
import type { ChatChunk } from '../../core/types.ts';
import { parseMessagesRequest, toCanonicalRequest } from './request.ts';
import { anthropicError, toAnthropicMessage } from './response.ts';
import { AnthropicStreamEncoder } from './stream.ts';

const where = "provider 'openai' (type openai)";

test('a Messages request becomes the canonical request: system, images, tool uses and results, choices, thinking', () => {
  const req = parseMessagesRequest({
    model: 'm',
    max_tokens: 64,
    system: [{ type: 'text', text: 'A' }, { type: 'text', text: 'B' }],
    stream: true,
    stop_sequences: ['X'],
    metadata: { user_id: 'u1' },
    thinking: { type: 'enabled', budget_tokens: 3000 },
    tools: [{ name: 'f', description: 'd', input_schema: { type: 'object' } }],
    tool_choice: { type: 'any', disable_parallel_tool_use: true },
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAA' } }] },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm', signature: 's' }, { type: 'text', text: 'calling' }, { type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'ok' }], is_error: true }, { type: 'text', text: 'next' }] },
    ],
  });
  assert.deepEqual(toCanonicalRequest(req, where), {
    model: 'm',
    max_completion_tokens: 64,
    stream: true,
    stream_options: { include_usage: true },
    stop: ['X'],
    user: 'u1',
    reasoning_effort: 'medium',
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' }, description: 'd' } }],
    tool_choice: 'required',
    parallel_tool_calls: false,
    messages: [
      { role: 'system', content: 'A\n\nB' },
      { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAA' } }] },
      { role: 'assistant', content: 'calling', tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
      { role: 'tool', tool_call_id: 't1', content: 'Error: ok' },
      { role: 'user', content: 'next' },
    ],
  });
});

test('structured outputs (output_config.format) become a json_schema response format', () => {
  const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
  const req = parseMessagesRequest({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], output_config: { format: { type: 'json_schema', schema }, effort: null } });
  assert.deepEqual(toCanonicalRequest(req, where).response_format, { type: 'json_schema', json_schema: { name: 'response', schema } });
  const plain = parseMessagesRequest({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], output_config: {} });
  assert.equal(toCanonicalRequest(plain, where).response_format, undefined);
  const other = parseMessagesRequest({ model: 'm', max_tokens: 5, messages: [], output_config: { format: { type: 'xml' } } });
  assert.throws(() => toCanonicalRequest(other, where), (e: GatewayError) => e.status === 400 && /output_config\.format\.type \(xml\)/.test(e.message));
});

test('what cannot be translated is refused naming the field', () => {
  const refused = (body: Record<string, unknown>, param: RegExp) =>
    assert.throws(() => toCanonicalRequest(parseMessagesRequest({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], ...body }), where), (e: GatewayError) => e.status === 400 && param.test(e.message));
  refused({ top_k: 3 }, /top_k/);
  refused({ container: 'c' }, /container/);
  refused({ output_config: { effort: 'high' } }, /output_config\.effort/);
  refused({ tools: [{ type: 'bash_20250124', name: 'bash' }] }, /tools\[0\] \(bash_20250124\)/);
  refused({ messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] }, /messages\[0\]\.content\[0\] \(document\)/);
  assert.throws(() => parseMessagesRequest({ model: 'm', messages: [] }), (e: GatewayError) => e.status === 400 && e.param === 'max_tokens');
});

test('a canonical answer becomes a Message with Anthropic usage accounting', () => {
  const msg = toAnthropicMessage(
    {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'gpt',
      choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: 'Hi', reasoning_content: 'think', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"x":2}' } }] } }],
      usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13, prompt_tokens_details: { cached_tokens: 4 } },
    },
    'alias',
  );
  assert.deepEqual(msg, {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'alias',
    content: [{ type: 'thinking', thinking: 'think', signature: '' }, { type: 'text', text: 'Hi' }, { type: 'tool_use', id: 'c1', name: 'f', input: { x: 2 } }],
    stop_reason: 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: 6, output_tokens: 3, cache_read_input_tokens: 4, cache_creation_input_tokens: 0 },
  });
});

function events(sse: string): { event: string; data: Record<string, unknown> }[] {
  return sse
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const [e, d] = block.split('\n');
      return { event: e!.slice(7), data: JSON.parse(d!.slice(6)) as Record<string, unknown> };
    });
}

const chunk = (delta: ChatChunk['choices'][0]['delta'], finish: ChatChunk['choices'][0]['finish_reason'] = null): ChatChunk => ({
  id: 'chatcmpl-9',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt',
  choices: [{ index: 0, delta, finish_reason: finish }],
});

test('the stream encoder opens one block per kind, numbers them, and ends with usage and the stop reason', () => {
  const enc = new AnthropicStreamEncoder('alias');
  const first = enc.encode([chunk({ role: 'assistant', content: '' }), chunk({ reasoning_content: 'r' }), chunk({ content: 'He' }), chunk({ content: 'llo' })], false);
  const rest = enc.encode(
    [
      chunk({ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '{"x"' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
      { ...chunk({}), choices: [], usage: { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 } },
    ],
    true,
  );
  const all = events(first + rest);
  assert.deepEqual(all.map((e) => `${e.event}${e.data.index ?? ''}`), [
    'message_start',
    'content_block_start0', 'content_block_delta0', 'content_block_stop0',
    'content_block_start1', 'content_block_delta1', 'content_block_delta1', 'content_block_stop1',
    'content_block_start2', 'content_block_delta2', 'content_block_delta2', 'content_block_stop2',
    'content_block_start3', 'content_block_delta3', 'content_block_stop3',
    'message_delta', 'message_stop',
  ]);
  assert.deepEqual(all[8]!.data.content_block, { type: 'tool_use', id: 'a', name: 'f', input: {} });
  assert.deepEqual(all.at(-2)!.data, { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { input_tokens: 7, output_tokens: 5, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 } });
  assert.deepEqual(events(enc.error(new GatewayError(529, 'api_error', 'busy')))[0]!.data, { type: 'error', error: { type: 'overloaded_error', message: 'busy' } });
});

test('errors take the Anthropic shape and type for their status', () => {
  assert.deepEqual(anthropicError(new GatewayError(401, 'authentication_error', 'no')), { type: 'error', error: { type: 'authentication_error', message: 'no' } });
  assert.equal(anthropicError(new GatewayError(502, 'upstream_error', 'x')).error.type, 'api_error');
});
