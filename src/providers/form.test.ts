import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeForm } from './form.ts';

/** Parses the encoding back with the platform's own multipart parser. */
async function decode(form: { contentType: string; body: Buffer }): Promise<FormData> {
  return new Response(form.body, { headers: { 'content-type': form.contentType } }).formData();
}

test('a form encodes text fields and files, in order, repeated names kept', async () => {
  const audio = Uint8Array.from([0, 1, 2, 0x0d, 0x0a, 0x2d, 0x2d, 255]);
  const form = encodeForm([
    { name: 'file', filename: 'clip.wav', contentType: 'audio/wav', data: audio },
    { name: 'model', value: 'whisper-1' },
    { name: 'timestamp_granularities[]', value: 'word' },
    { name: 'timestamp_granularities[]', value: 'segment' },
    { name: 'prompt', value: 'Zoë said "hi"\r\nthen left' },
  ]);
  assert.match(form.contentType, /^multipart\/form-data; boundary=----switchboard[0-9a-f]{48}$/);
  const fields = await decode(form);
  assert.deepEqual([...fields.keys()], ['file', 'model', 'timestamp_granularities[]', 'timestamp_granularities[]', 'prompt']);
  const file = fields.get('file') as File;
  assert.equal(file.name, 'clip.wav');
  assert.equal(file.type, 'audio/wav');
  assert.deepEqual(new Uint8Array(await file.arrayBuffer()), audio);
  assert.deepEqual(fields.getAll('timestamp_granularities[]'), ['word', 'segment']);
  assert.equal(fields.get('prompt'), 'Zoë said "hi"\r\nthen left');
});

test('quotes and line breaks in names cannot break out of the part header', async () => {
  const form = encodeForm([{ name: 'file', filename: 'a"b\r\nX-Evil: 1.wav', contentType: 'audio/wav\r\nX-Evil: 1', data: new Uint8Array([1]) }]);
  const head = form.body.toString('latin1').split('\r\n\r\n')[0]!;
  assert.equal(head.split('\r\n').length, 3, head);
  assert.match(head, /filename="a%22b%0D%0AX-Evil: 1\.wav"/);
  const file = (await decode(form)).get('file') as File;
  assert.equal(file.size, 1);
});

test('every form gets its own boundary', () => {
  assert.notEqual(encodeForm([]).contentType, encodeForm([]).contentType);
});
