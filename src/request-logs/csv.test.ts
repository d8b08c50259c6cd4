import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCsv } from '../../test/helpers/csv.ts';
import { csvField, csvRow } from './csv.ts';

test('fields are quoted only when they must be, quotes doubled', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField('cr\rlf'), '"cr\rlf"');
  assert.equal(csvField(null), '');
  assert.equal(csvField(undefined), '');
  assert.equal(csvField(0), '0');
  assert.equal(csvField(false), 'false');
  assert.equal(csvField({ a: '1,2' }), '"{""a"":""1,2""}"');
  assert.equal(csvRow(['a', 'b,c', null, 3]), 'a,"b,c",,3\r\n');
});

test('whatever the values hold, rows read back as they were written', () => {
  const rows = [
    ['id', 'text', 'json'],
    ['1', 'comma, "quote" and\r\nCRLF', '{"k":"v,\\"x\\""}'],
    ['2', '', ' spaced '],
    ['3', '"', '\n'],
  ];
  const text = rows.map(csvRow).join('');
  assert.deepEqual(parseCsv(text), rows);
});
