import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientMetadata, METADATA_MAX_BYTES } from './client-metadata.ts';

test("the body's metadata and the header's object are merged, the header winning", () => {
  assert.equal(clientMetadata({ user: 'u1', tier: 'free' }, '{"tier":"pro","trace":"t-9"}'), '{"user":"u1","tier":"pro","trace":"t-9"}');
  assert.equal(clientMetadata(undefined, '{"a":[1,{"b":null}]}'), '{"a":[1,{"b":null}]}');
  assert.equal(clientMetadata({ a: 1 }, undefined), '{"a":1}');
});

test('nothing, or nothing usable, is null: malformed headers and non-objects are left out, never thrown', () => {
  assert.equal(clientMetadata(undefined, undefined), null);
  assert.equal(clientMetadata({}, '{}'), null);
  for (const header of ['not json', '[1,2]', '"text"', '42', 'null', '{"a":']) assert.equal(clientMetadata(undefined, header), null, header);
  assert.equal(clientMetadata(['x'], ['{"a":1}']), null, 'arrays are not metadata; a header sent twice is ignored');
  assert.equal(clientMetadata('text', '{"ok":true}'), '{"ok":true}');
});

test('metadata is capped: entries past the cap are left out and marked', () => {
  const big = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'v'.repeat(200)]));
  const text = clientMetadata(big, undefined)!;
  assert.ok(Buffer.byteLength(text) <= METADATA_MAX_BYTES, String(text.length));
  const parsed = JSON.parse(text);
  assert.equal(parsed._truncated, true);
  assert.equal(parsed.k0, 'v'.repeat(200));
  assert.ok(Object.keys(parsed).length > 10 && Object.keys(parsed).length < 100);
  assert.deepEqual(JSON.parse(clientMetadata({ huge: 'x'.repeat(METADATA_MAX_BYTES) }, undefined)!), { _truncated: true });
  assert.equal(clientMetadata(undefined, `{"a":"${'x'.repeat(5 * METADATA_MAX_BYTES)}"}`), null, 'an absurd header is not even parsed');
});
