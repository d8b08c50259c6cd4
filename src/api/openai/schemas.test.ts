import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../core/errors.ts';
import { parseChatRequest, parseEmbeddingsRequest } from './schemas.ts';

const badParam = (fn: () => unknown, param: string, message: RegExp) =>
  assert.throws(fn, (err: GatewayError) => err.status === 400 && err.param === param && message.test(err.message));

test('a valid request passes, unknown fields kept and nulls dropped', () => {
  const req = parseChatRequest({
    model: 'm',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] }],
    temperature: null,
    service_tier: 'flex',
  });
  assert.equal(req.service_tier, 'flex');
  assert.equal('temperature' in req, false);
});

test('nulls are dropped at the request levels but kept inside tool schemas', () => {
  const req = parseChatRequest({
    model: 'm',
    messages: [{ role: 'user', content: 'x', name: null }],
    tools: [{ type: 'function', function: { name: 'f', strict: null, description: null, parameters: { type: 'object', properties: { a: { default: null } } } } }],
    stream_options: { include_usage: null },
  });
  assert.deepEqual(req.messages[0], { role: 'user', content: 'x' });
  assert.deepEqual(req.tools![0]!.function, { name: 'f', parameters: { type: 'object', properties: { a: { default: null } } } });
  assert.deepEqual(req.stream_options, {});
});

test('wrong types are a 400 naming the field', () => {
  badParam(() => parseChatRequest({ model: 'm', messages: [{ role: 'robot', content: 'x' }] }), 'messages[0].role', /Invalid 'messages\[0\]\.role'/);
  badParam(() => parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }), 'temperature', /number/);
  badParam(() => parseChatRequest({ model: 'm', messages: [] }), 'messages', /at least one message/);
  badParam(() => parseChatRequest({ messages: [{ role: 'user', content: 'x' }] }), 'model', /model/);
  badParam(() => parseChatRequest({ model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] }), 'messages[0].content[0].image_url.url', /Invalid/);
  badParam(() => parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: -1 }), 'max_tokens', /Invalid/);
  assert.throws(() => parseChatRequest([1]), (err: GatewayError) => err.status === 400 && /JSON object/.test(err.message));
});

test('embeddings input must be text or token ids', () => {
  assert.deepEqual(parseEmbeddingsRequest({ model: 'e', input: ['a', 'b'] }).input, ['a', 'b']);
  badParam(() => parseEmbeddingsRequest({ model: 'e', input: [{}] }), 'input', /Invalid/);
});
