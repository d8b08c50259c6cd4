import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { badRequest } from '../../core/errors.ts';
import { parseJson } from '../../core/json-text.ts';
import { itemJson, mapBounded } from './batch.ts';

test('mapBounded keeps input order and never runs more than the limit at once', async () => {
  let running = 0;
  let peak = 0;
  const results = await mapBounded([5, 1, 4, 2, 3, 0, 6], 3, async (n, i) => {
    running++;
    peak = Math.max(peak, running);
    for (let k = 0; k < n; k++) await tick();
    running--;
    return `${i}:${n}`;
  });
  assert.deepEqual(results, ['0:5', '1:1', '2:4', '3:2', '4:3', '5:0', '6:6']);
  assert.equal(peak, 3);
});

test('mapBounded starts nothing more once stopped, and a limit above the item count is fine', async () => {
  let stop = false;
  const started: number[] = [];
  const results = await mapBounded([0, 1, 2, 3], 1, async (n) => {
    started.push(n);
    if (n === 1) stop = true;
    return n;
  }, () => stop);
  assert.deepEqual(started, [0, 1]);
  assert.deepEqual(results, [0, 1, undefined, undefined]);
  assert.deepEqual(await mapBounded([1, 2], 32, async (n) => n * 2), [2, 4]);
});

test('an item carries its response as the text it came in, or its error', () => {
  const upstream = '{"id":"chatcmpl-1",  "object":"chat.completion","choices":[]}';
  const ok = itemJson(2, { response: parseJson(upstream) as object });
  assert.equal(ok, `{"index":2,"status":200,"response":${upstream}}`);
  const failed = JSON.parse(itemJson(0, { error: badRequest('messages is required', 'messages') }));
  assert.deepEqual(failed, { index: 0, status: 400, error: { message: 'messages is required', type: 'invalid_request_error', code: 'invalid_request', param: 'messages' } });
});
