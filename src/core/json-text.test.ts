import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonText, parseJson } from './json-text.ts';

test('a parsed object is sent back as the exact text it came from', () => {
  const text = '{ "id": "x",  "choices": [], "unknown_field": 1.50 }';
  const value = parseJson(text) as Record<string, unknown>;
  assert.equal(jsonText(value), text);
});

test('a new object, or a copy, is serialised', () => {
  const value = parseJson('{"a":1}') as Record<string, unknown>;
  assert.equal(jsonText({ ...value, b: 2 }), '{"a":1,"b":2}');
  assert.equal(jsonText({ c: [1] }), '{"c":[1]}');
  assert.equal(parseJson('3'), 3);
});
