import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSseDecoder } from './sse.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

test('events come whole however the bytes are split, a multi-byte character across two reads included', () => {
  const decoder = createSseDecoder();
  const all = bytes('data: {"text":"héllo 👋"}\n\nevent: done\ndata: [DONE]\n\n');
  const events = [];
  // Every split point, a byte at a time: the emoji's four bytes and the é's two arrive in separate reads.
  for (let i = 0; i < all.length; i++) events.push(...decoder.feed(all.subarray(i, i + 1)));
  assert.deepEqual(events, [
    { event: undefined, data: '{"text":"héllo 👋"}' },
    { event: 'done', data: '[DONE]' },
  ]);
});

test('a leading byte-order mark is dropped, split across reads or not; a later U+FEFF is data', () => {
  const bom = [0xef, 0xbb, 0xbf];
  const whole = createSseDecoder().feed(Uint8Array.from([...bom, ...bytes('data: a\uFEFF\n\n')]));
  assert.deepEqual(whole, [{ event: undefined, data: 'a\uFEFF' }]);
  const split = createSseDecoder();
  assert.deepEqual(split.feed(Uint8Array.from(bom.slice(0, 2))), []);
  assert.deepEqual(split.feed(Uint8Array.from([bom[2]!, ...bytes('data: b\n\n')])), [{ event: undefined, data: 'b' }]);
});
