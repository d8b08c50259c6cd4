import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError, upstreamError } from '../../core/errors.ts';
import type { ChatChunk, ChatResponse, ChunkChoice } from '../../core/types.ts';
import type { StreamTranslator } from '../../providers/types.ts';
import { geminiErrorBody } from './errors.ts';
import { toGenerateContentResponse } from './response.ts';
import { GeminiChunkConverter, geminiSseEncoder, translatedReader } from './stream.ts';

const RESPONSE: ChatResponse = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: 'Checking.',
        reasoning_content: 'The user wants weather.',
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '' } },
        ],
      },
      finish_reason: 'tool_calls',
      logprobs: { content: [{ token: 'Check', logprob: -0.1, bytes: [], top_logprobs: [{ token: 'Check', logprob: -0.1 }, { token: 'Look', logprob: -2 }] }] },
    },
    { index: 1, message: { role: 'assistant', content: 'Cut' }, finish_reason: 'length' },
  ],
  usage: { prompt_tokens: 20, completion_tokens: 15, total_tokens: 35, prompt_tokens_details: { cached_tokens: 8 }, completion_tokens_details: { reasoning_tokens: 5 } },
};

test('a chat completion becomes a GenerateContentResponse: parts, calls with object args, finish reasons, usage, logprobs', () => {
  assert.deepEqual(toGenerateContentResponse(RESPONSE, true), {
    candidates: [
      {
        content: {
          role: 'model',
          parts: [
            { text: 'The user wants weather.', thought: true },
            { text: 'Checking.' },
            { functionCall: { id: 'call_a', name: 'get_weather', args: { city: 'Paris' } } },
            { functionCall: { id: 'call_b', name: 'get_weather', args: {} } },
          ],
        },
        index: 0,
        finishReason: 'STOP',
        logprobsResult: {
          chosenCandidates: [{ token: 'Check', logProbability: -0.1 }],
          topCandidates: [{ candidates: [{ token: 'Check', logProbability: -0.1 }, { token: 'Look', logProbability: -2 }] }],
        },
      },
      { content: { role: 'model', parts: [{ text: 'Cut' }] }, index: 1, finishReason: 'MAX_TOKENS' },
    ],
    usageMetadata: { promptTokenCount: 20, candidatesTokenCount: 10, totalTokenCount: 35, cachedContentTokenCount: 8, thoughtsTokenCount: 5 },
    modelVersion: 'gpt-4o-mini-2024-07-18',
    responseId: 'chatcmpl-1',
  });
});

test('thoughts are shown only when the client asked for them; content_filter is SAFETY', () => {
  const res = toGenerateContentResponse(
    { ...RESPONSE, choices: [{ index: 0, message: { role: 'assistant', content: null, reasoning_content: 'hidden' }, finish_reason: 'content_filter' }] },
    false,
  );
  assert.deepEqual(res.candidates, [{ content: { role: 'model', parts: [] }, index: 0, finishReason: 'SAFETY' }]);
});

test('arguments that are not a JSON object (a call cut by the token limit) reach the client as _raw_arguments', () => {
  const broken: ChatResponse = { ...RESPONSE, choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":' } }] }, finish_reason: 'length' }] };
  const res = toGenerateContentResponse(broken, false);
  assert.deepEqual(res.candidates![0]!.content!.parts, [{ functionCall: { id: 'c', name: 'f', args: { _raw_arguments: '{"a":' } } }]);
  assert.equal(res.candidates![0]!.finishReason, 'MAX_TOKENS');
});

const chunk = (choices: ChunkChoice[], extra: Partial<ChatChunk> = {}): ChatChunk => ({ id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1, model: 'm-1', choices, ...extra });
const delta = (d: ChunkChoice['delta'], finish: ChunkChoice['finish_reason'] = null, index = 0): ChunkChoice => ({ index, delta: d, finish_reason: finish });

test('stream: text slices go out as they come; the finishing event waits for the usage and carries it', () => {
  const c = new GeminiChunkConverter(false);
  assert.deepEqual(c.push([chunk([delta({ role: 'assistant', content: '' })])]), []);
  assert.deepEqual(c.push([chunk([delta({ content: 'Hel' })]), chunk([delta({ reasoning_content: 'hidden' })]), chunk([delta({ content: 'lo' })])]), [
    { candidates: [{ content: { role: 'model', parts: [{ text: 'Hel' }] }, index: 0 }], modelVersion: 'm-1', responseId: 'chatcmpl-9' },
    { candidates: [{ content: { role: 'model', parts: [{ text: 'lo' }] }, index: 0 }], modelVersion: 'm-1', responseId: 'chatcmpl-9' },
  ]);
  assert.deepEqual(c.push([chunk([delta({}, 'stop')])]), []);
  const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
  assert.deepEqual(c.push([chunk([], { usage })]), [
    {
      candidates: [{ content: { role: 'model', parts: [] }, index: 0, finishReason: 'STOP' }],
      modelVersion: 'm-1',
      responseId: 'chatcmpl-9',
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
    },
  ]);
  assert.deepEqual(c.usage, usage);
  assert.deepEqual(c.finish(), []);
});

test('stream: function calls go out whole once their arguments are complete, parallel calls in order', () => {
  const c = new GeminiChunkConverter(true);
  const out = [
    ...c.push([chunk([delta({ reasoning_content: 'Two cities.' })])]),
    ...c.push([chunk([delta({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] })])]),
    ...c.push([chunk([delta({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] })])]),
    ...c.push([chunk([delta({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] })])]),
    ...c.push([chunk([delta({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }] })])]),
    ...c.push([chunk([delta({}, 'tool_calls')])]),
    ...c.finish(),
  ];
  assert.deepEqual(out.map((r) => r.candidates[0]!.content.parts), [
    [{ text: 'Two cities.', thought: true }],
    [{ functionCall: { id: 'call_1', name: 'get_weather', args: { city: 'Paris' } } }],
    [{ functionCall: { id: 'call_2', name: 'get_weather', args: { city: 'Rome' } } }],
  ]);
  assert.equal(out.at(-1)!.candidates[0]!.finishReason, 'STOP');
  assert.equal(out.at(-1)!.usageMetadata, undefined);
});

test('stream: several candidates keep their indexes; usage arriving with nothing held goes out on its own', () => {
  const c = new GeminiChunkConverter(false);
  const first = c.push([chunk([delta({ content: 'A' }, 'stop', 0), delta({ content: 'B' }, null, 1)])]);
  assert.deepEqual(first, []);
  const second = c.push([chunk([delta({ content: 'C' }, 'length', 1)])]);
  assert.deepEqual(second.map((r) => r.candidates.map((x) => [x.index, x.content.parts, x.finishReason])), [[[0, [{ text: 'A' }], 'STOP'], [1, [{ text: 'B' }], undefined]]]);
  const end = c.finish();
  assert.deepEqual(end.map((r) => r.candidates.map((x) => [x.index, x.content.parts, x.finishReason])), [[[1, [{ text: 'C' }], 'MAX_TOKENS']]]);
  const late = new GeminiChunkConverter(false);
  assert.deepEqual(late.push([chunk([], { usage: { prompt_tokens: 1, completion_tokens: 0, total_tokens: 1 } })]), [
    { candidates: [], usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 0, totalTokenCount: 1 }, modelVersion: 'm-1', responseId: 'chatcmpl-9' },
  ]);
});

test('translated reader: the translator drives the converter; its end and its errors come through', () => {
  const chunks: ChatChunk[][] = [[chunk([delta({ role: 'assistant', content: 'Hi' })])], [chunk([delta({}, 'stop')]), chunk([], { usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })]];
  const translator: StreamTranslator = {
    event: (ev) => (ev.data === 'boom' ? (() => { throw upstreamError('openai', 500, 'boom'); })() : chunks.shift() ?? []),
    end: () => [],
    complete: () => chunks.length === 0,
  };
  const reader = translatedReader(translator, new GeminiChunkConverter(false));
  const a = reader.event({ data: '1' });
  assert.deepEqual(JSON.parse(a[0]!.data).candidates[0].content.parts, [{ text: 'Hi' }]);
  assert.equal(reader.complete(), false);
  const b = reader.event({ data: '2' });
  assert.equal(JSON.parse(b[0]!.data).usageMetadata.totalTokenCount, 2);
  assert.equal(reader.usage(b[0]!)?.total_tokens, 2);
  assert.equal(reader.complete(), true);
  assert.deepEqual(reader.end(), []);
  assert.throws(() => reader.event({ data: 'boom' }), (e: GatewayError) => e.status === 500);
});

test('errors in the Gemini shape: the HTTP status by its google.rpc name, a Gemini upstream name kept', () => {
  const cases: [GatewayError, number, string][] = [
    [new GatewayError(400, 'invalid_request_error', 'bad'), 400, 'INVALID_ARGUMENT'],
    [new GatewayError(401, 'authentication_error', 'key'), 401, 'UNAUTHENTICATED'],
    [new GatewayError(403, 'permission_error', 'no'), 403, 'PERMISSION_DENIED'],
    [new GatewayError(404, 'not_found_error', 'gone', { code: 'model_not_found' }), 404, 'NOT_FOUND'],
    [upstreamError('openai', 429, 'slow down', { code: 'rate_limit_exceeded' }), 429, 'RESOURCE_EXHAUSTED'],
    [upstreamError('gemini', 400, 'User location is not supported', { code: 'FAILED_PRECONDITION' }), 400, 'FAILED_PRECONDITION'],
    [new GatewayError(500, 'api_error', 'oops'), 500, 'INTERNAL'],
    [new GatewayError(502, 'upstream_error', 'bad gateway'), 502, 'UNAVAILABLE'],
    [upstreamError('anthropic', 503, 'overloaded'), 503, 'UNAVAILABLE'],
    [new GatewayError(504, 'timeout_error', 'slow'), 504, 'DEADLINE_EXCEEDED'],
  ];
  for (const [err, code, status] of cases) assert.deepEqual(geminiErrorBody(err), { error: { code, message: err.message, status } });
  const event = geminiSseEncoder.error(new GatewayError(503, 'upstream_error', 'x'));
  assert.equal(event, 'data: {"error":{"code":503,"message":"x","status":"UNAVAILABLE"}}\r\n\r\n');
  assert.equal(geminiSseEncoder.encode([{ data: '{"a":1}' }, { data: '{"b":2}' }], true), 'data: {"a":1}\r\n\r\ndata: {"b":2}\r\n\r\n');
});
