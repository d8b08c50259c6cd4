import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCursor, encodeCursor } from './cursor.ts';

test('a cursor names a position and reads back as it', () => {
  const position = { time: '2030-01-02T03:04:05.678Z', request_id: 'req/with:odd chars' };
  const cursor = encodeCursor(position);
  assert.match(cursor, /^[A-Za-z0-9_-]+$/, 'safe in a query string as it is');
  assert.deepEqual(decodeCursor(cursor), position);
});

test('anything else is not a cursor', () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  for (const bad of ['', '!!!', 'bm90IGpzb24', b64({ time: 'x' }), b64(['not a time', 'r']), b64(['2030-01-01T00:00:00Z', '']), b64(['2030-01-01T00:00:00Z'])]) {
    assert.equal(decodeCursor(bad), undefined, bad);
  }
});
