import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShadowMirror } from './mirror.ts';

const options = { use: 'shadow', share: 0.25, max_in_flight: 2, keep_output_chars: 100 };

test('a share of requests is sampled, drawn from the random source', () => {
  let i = 0;
  const draws = [0.1, 0.3, 0.24, 0.25, 0.9];
  const mirror = new ShadowMirror('smart', { ...options, max_in_flight: 10 }, () => draws[i++]!);
  assert.deepEqual(draws.map(() => mirror.sample()), [true, false, true, false, false]);
  assert.equal(mirror.inFlight, 2);
});

test('over max_in_flight a sampled request is skipped and counted, never queued; a finished call frees its slot', () => {
  const mirror = new ShadowMirror('smart', { ...options, share: 1 }, () => 0);
  assert.equal(mirror.sample(), true);
  assert.equal(mirror.sample(), true);
  assert.equal(mirror.sample(), false);
  assert.equal(mirror.skipped, 1);
  mirror.inFlight--;
  assert.equal(mirror.sample(), true);
});

test('share 0 never samples', () => {
  const mirror = new ShadowMirror('smart', { ...options, share: 0 }, () => 0);
  assert.equal(mirror.sample(), false);
  assert.equal(mirror.skipped, 0);
});
