import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cappedText, cutUtf8, PayloadCapture } from './capture.ts';
import { MASK } from './mask.ts';

test('a whole answer and the request body are kept as they came, secrets masked', () => {
  const capture = new PayloadCapture(1024);
  capture.answer('{"choices":[{"message":{"content":"use sk-abcdefghijklmnopqrstuvwx"}}]}');
  const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }], api_key: 'inline' };
  assert.deepEqual(capture.finish(body), {
    request_body: `{"model":"m","messages":[{"role":"user","content":"hi"}],"api_key":"${MASK}"}`,
    response_body: `{"choices":[{"message":{"content":"use ${MASK}"}}]}`,
    request_truncated: false,
    response_truncated: false,
  });
});

test('nothing captured reads as null: no body (a multipart upload), no answer (a failed request)', () => {
  assert.deepEqual(new PayloadCapture(100).finish(undefined), { request_body: null, response_body: null, request_truncated: false, response_truncated: false });
});

test('a stream is assembled from its pieces and cut at the cap, however many pieces come after', () => {
  const capture = new PayloadCapture(64);
  for (let i = 0; i < 1000; i++) capture.append(`data: {"n":${i}}\n\n`);
  const { response_body, response_truncated } = capture.finish({});
  assert.equal(response_truncated, true);
  assert.equal(Buffer.byteLength(response_body!), 64);
  assert.ok(response_body!.startsWith('data: {"n":0}\n\ndata: {"n":1}'));

  const small = new PayloadCapture(64);
  small.append('data: a\n\n');
  small.append('data: b\n\n');
  assert.deepEqual([small.finish({}).response_body, small.finish({}).response_truncated], ['data: a\n\ndata: b\n\n', false]);
});

test('a body over the cap is cut on a character boundary and marked truncated', () => {
  assert.deepEqual(cappedText('abcdef', 4), { text: 'abcd', truncated: true });
  assert.deepEqual(cappedText('abcd', 4), { text: 'abcd', truncated: false });
  // é is two bytes, 😀 four: never half a character.
  assert.equal(cutUtf8('aé', 2), 'a');
  assert.equal(cutUtf8('a😀b', 4), 'a');
  assert.equal(cutUtf8('a😀b', 5), 'a😀');
  assert.equal(cutUtf8('😀', 3), '');
});

test('a secret straddling the cap is masked, not left half visible', () => {
  const text = `${'x'.repeat(20)} sk-abcdefghijklmnopqrstuvwxyz0123456789`;
  const { text: cut, truncated } = cappedText(text, 30);
  assert.equal(truncated, true);
  assert.ok(!cut.includes('sk-abc'), cut);
  assert.ok(cut.startsWith(`${'x'.repeat(20)} [REDAC`));
});
