import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { StreamEvent } from '../types.ts';
import { readStream } from '../../../test/helpers/native-stream.ts';
import { geminiNative } from './native.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

/** The items the stream reader yields for these streamGenerateContent responses, each one server-sent event. */
const streamed = (responses: unknown[]) => readStream(geminiNative.createStreamReader('gem'), responses.map((r) => ({ data: JSON.stringify(r) })));

const META = { modelVersion: 'gemini-2.5-flash', responseId: 'y2-1aLPDKqOInvgPyPq2sAo' };
const usage = (candidates: number) => ({ promptTokenCount: 64, candidatesTokenCount: candidates, totalTokenCount: 64 + candidates + 76, thoughtsTokenCount: 76 });

const THOUGHT = { text: '**Checking the weather**\n\nParis needs a lookup.\n', thought: true };
const CALL = { functionCall: { id: 'q0w9e8r7', name: 'get_weather', args: { city: 'Paris', unit: 'celsius' } }, thoughtSignature: 'CuQBAdHtim8YmA7Zb3ZzN2hH' };

const WHOLE = {
  candidates: [{ content: { parts: [THOUGHT, { text: 'Let me check ' }, { text: 'Paris.' }, CALL], role: 'model' }, finishReason: 'STOP', index: 0 }],
  usageMetadata: usage(30),
  ...META,
};

const EXPECTED = THOUGHT.text + 'Let me check Paris.' + 'get_weather{"city":"Paris","unit":"celsius"}';

/** WHOLE as streamGenerateContent sends it: the thought, the text in slices, the call whole, an empty closing part. */
const CHUNKS = [
  { candidates: [{ content: { parts: [THOUGHT], role: 'model' }, index: 0 }], usageMetadata: usage(0), ...META },
  { candidates: [{ content: { parts: [{ text: 'Let me check ' }], role: 'model' }, index: 0 }], usageMetadata: usage(4), ...META },
  { candidates: [{ content: { parts: [{ text: 'Paris.' }, CALL], role: 'model' }, index: 0 }], usageMetadata: usage(30), ...META },
  { candidates: [{ content: { parts: [{ text: '' }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: usage(30), ...META },
];

test('a whole answer: thoughts, text, then the function name and its args as JSON', () => {
  assert.equal(geminiNative.output(WHOLE), EXPECTED);
});

test('the same answer streamed gives the same text', () => {
  const { items, text } = streamed(CHUNKS);
  assert.equal(items.length, CHUNKS.length);
  assert.equal(text, EXPECTED);
});

test('recorded answers: thinking then text, parallel calls in order', () => {
  assert.equal(
    geminiNative.output(fixture('generate-thinking.json')),
    '**Working out the sum**\n\nThe user asks for 17 * 23. 17 * 20 = 340 and 17 * 3 = 51, so 391.\n17 × 23 = 391',
  );
  assert.equal(
    streamed(fixture('stream-thinking.json') as unknown[]).text,
    '**Counting the letters**\n\nI need the r\'s in "strawberry": s-t-r-a-w-b-e-r-r-y.\nThere are three r\'s in "strawberry".',
  );
  assert.equal(
    streamed(fixture('stream-parallel-tools.json') as unknown[]).text,
    'get_weather{"city":"Paris"}get_weather{"city":"London"}get_time{"timezone":"Europe/Paris"}',
  );
});

test('several candidates streamed interleaved read each in turn, as the whole answer has them', () => {
  const whole = {
    candidates: [
      { content: { parts: [{ text: 'Red ' }, { text: 'sky.' }], role: 'model' }, finishReason: 'STOP', index: 0 },
      { content: { parts: [{ text: 'Blue ' }, { text: 'sea.' }], role: 'model' }, finishReason: 'STOP', index: 1 },
    ],
    ...META,
  };
  const chunks = [
    { candidates: [{ content: { parts: [{ text: 'Red ' }], role: 'model' }, index: 0 }, { content: { parts: [{ text: 'Blue ' }], role: 'model' }, index: 1 }], ...META },
    { candidates: [{ content: { parts: [{ text: 'sea.' }], role: 'model' }, finishReason: 'STOP', index: 1 }], ...META },
    { candidates: [{ content: { parts: [{ text: 'sky.' }], role: 'model' }, finishReason: 'STOP', index: 0 }], ...META },
  ];
  assert.equal(geminiNative.output(whole), 'Red sky.Blue sea.');
  assert.equal(streamed(chunks).text, 'Red sky.Blue sea.');
});

test('garbage gives an empty text and never throws', () => {
  const bodies = [
    undefined,
    null,
    'text',
    [],
    { embeddings: [] },
    { candidates: 'x' },
    { candidates: [null, 3, { content: null }, { content: { parts: 'hi' } }, { content: { parts: [null, { text: 5 }, { functionCall: { args: {} } }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }] } }] },
  ];
  for (const body of bodies) assert.equal(geminiNative.output(body), '', JSON.stringify(body));
  const reader = geminiNative.createStreamReader('gem');
  assert.equal(reader.reportsUsage, true);
  const junk: StreamEvent[] = [{ data: '' }, { data: 'not json' }, { data: '[{"candidates":[]}]' }, { data: 'null' }, ...bodies.map((b) => ({ data: JSON.stringify(b) ?? '' }))];
  assert.equal(reader.output!(junk), '');
});
