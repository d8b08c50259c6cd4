import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeTime } from './dialect.ts';

test('writeTime: one stored format from any parseable time; the remembered last string never answers for another', () => {
  assert.equal(writeTime('2026-01-02T03:04:05Z'), '2026-01-02T03:04:05.000Z');
  assert.equal(writeTime('2026-01-02T03:04:05Z'), '2026-01-02T03:04:05.000Z', 'the same string again');
  assert.equal(writeTime('2026-01-02T04:04:05+01:00'), '2026-01-02T03:04:05.000Z', 'another string of the same instant');
  assert.equal(writeTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6))), '2026-01-02T03:04:05.006Z');
  assert.equal(writeTime('2026-01-02T03:04:05.007Z'), '2026-01-02T03:04:05.007Z');
  assert.throws(() => writeTime('not a time'), /not a valid time: not a time/);
  assert.throws(() => writeTime('not a time'), /not a valid time/, 'a refused string is not remembered as valid');
  assert.throws(() => writeTime(new Date(Number.NaN)), /not a valid time/);
});
