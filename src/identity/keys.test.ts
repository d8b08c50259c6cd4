import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { constantTimeMatcher, displayPrefix, generateKey, hashKey, looksLikeVirtualKey, VIRTUAL_KEY_PREFIX } from './keys.ts';
import { deriveMasterKey } from './secrets.ts';

const pepper = deriveMasterKey('pepper-source-secret-0123456789abcdefghij').pepper;

test('generated keys: sk-sb- and 43 base62 characters, all different, with their display prefix', () => {
  const keys = Array.from({ length: 500 }, generateKey);
  for (const { key, prefix } of keys) {
    assert.match(key, /^sk-sb-[0-9A-Za-z]{43}$/);
    assert.equal(prefix, key.slice(0, 12));
    assert.ok(key.startsWith(prefix));
    assert.equal(displayPrefix(key), prefix);
  }
  assert.equal(new Set(keys.map((k) => k.key)).size, keys.length);
  // Every base62 digit turns up, at the start as well, so the encoding is neither truncated nor biased to a range.
  const firstDigits = new Set(keys.map((k) => k.key[VIRTUAL_KEY_PREFIX.length]));
  assert.ok(firstDigits.size > 30, `first digits seen: ${firstDigits.size}`);
  assert.equal(new Set(keys.flatMap((k) => [...k.key.slice(VIRTUAL_KEY_PREFIX.length)])).size, 62);
});

test('looksLikeVirtualKey accepts only the exact shape', () => {
  const { key } = generateKey();
  assert.ok(looksLikeVirtualKey(key));
  for (const other of ['', 'sk-sb-', key.slice(0, -1), `${key}x`, key.replace('sk-sb-', 'sk-'), `${key.slice(0, -1)}-`, `Bearer ${key}`, 'sk-proj-abc', 'master-key-0123456789']) {
    assert.ok(!looksLikeVirtualKey(other), other);
  }
});

test('hashKey is a keyed HMAC: stable for one pepper, different under another, never the key itself', () => {
  const { key } = generateKey();
  const hash = hashKey(key, pepper);
  assert.match(hash, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(hashKey(key, pepper), hash);
  assert.notEqual(hashKey(key, deriveMasterKey('another-secret-0123456789abcdefghijklmn').pepper), hash);
  assert.notEqual(hashKey(generateKey().key, pepper), hash);
  assert.equal(hashKey(key, randomBytes(32)).length, 43);
  assert.ok(!hash.includes(key.slice(VIRTUAL_KEY_PREFIX.length, 20)));
});

test('constantTimeMatcher matches exactly one value, whatever the length of the candidate', () => {
  const matches = constantTimeMatcher('sb-master-0123456789');
  assert.ok(matches('sb-master-0123456789'));
  for (const wrong of [undefined, '', 'sb-master-012345678', 'sb-master-0123456789x', 'SB-MASTER-0123456789', 'x'.repeat(10_000)]) {
    assert.ok(!matches(wrong), String(wrong));
  }
});
