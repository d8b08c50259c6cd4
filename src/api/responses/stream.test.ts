import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createParser } from 'eventsource-parser';
import { GatewayError } from '../../core/errors.ts';
import type { ChatChunk, ChunkChoice } from '../../core/types.ts';
import { anthropicAdapter } from '../../providers/anthropic/index.ts';
import type { StreamEvent } from '../../providers/types.ts';
import { parseResponsesRequest } from './request.ts';
import { responseEcho } from './response.ts';
import { ResponsesStreamEncoder, responsesEventEncoder } from './stream.ts';

type Ev = Record<string, any>;

const echo = responseEcho(parseResponsesRequest({ model: 'smart', input: 'x', tools: [{ type: 'function', name: 'get_weather' }] }));

function chunk(delta: ChunkChoice['delta'], finish: ChunkChoice['finish_reason'] = null, usage?: ChatChunk['usage']): ChatChunk {
  return { id: 'c', object: 'chat.completion.chunk', created: 1700000000, model: 'claude-x', choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }], ...(usage && { usage }) };
}

/** The events of an SSE text, each checked to carry its type as the event name. */
function parse(sse: string): Ev[] {
  const out: Ev[] = [];
  createParser({
    onEvent: (e) => {
      const data = JSON.parse(e.data) as Ev;
      assert.equal(e.event, data.type);
      out.push(data);
    },
  }).feed(sse);
  return out;
}

/**
 * Replays events the way the openai SDK's ResponseStream builds its snapshot, failing where the SDK would (an event
 * for an item or part that does not exist), and checks every *.done against what the deltas built.
 */
function accumulate(events: Ev[]): Ev {
  let snapshot: Ev | undefined;
  events.forEach((e, i) => {
    assert.equal(e.sequence_number, i, 'sequence numbers count from 0 without gaps');
    if (!snapshot) {
      assert.equal(e.type, 'response.created');
      snapshot = structuredClone(e.response);
      return;
    }
    const item = snapshot.output[e.output_index];
    switch (e.type) {
      case 'response.output_item.added':
        assert.equal(e.output_index, snapshot.output.length);
        snapshot.output.push(structuredClone(e.item));
        break;
      case 'response.content_part.added':
        assert.equal(item.id, e.item_id);
        item.content.push(structuredClone(e.part));
        break;
      case 'response.output_text.delta':
        assert.equal(item.id, e.item_id);
        item.content[e.content_index].text += e.delta;
        break;
      case 'response.output_text.done':
        assert.equal(item.content[e.content_index].text, e.text);
        break;
      case 'response.reasoning_summary_part.added':
        item.summary.push(structuredClone(e.part));
        break;
      case 'response.reasoning_summary_text.delta':
        item.summary[e.summary_index].text += e.delta;
        break;
      case 'response.reasoning_summary_text.done':
        assert.equal(item.summary[e.summary_index].text, e.text);
        break;
      case 'response.function_call_arguments.delta':
        assert.equal(item.id, e.item_id);
        item.arguments += e.delta;
        break;
      case 'response.function_call_arguments.done':
        assert.equal(item.arguments, e.arguments);
        assert.equal(item.name, e.name);
        break;
      case 'response.output_item.done':
        assert.equal(item.id, e.item.id);
        snapshot.output[e.output_index] = e.item;
        break;
      case 'response.completed':
      case 'response.incomplete':
        assert.deepEqual(e.response.output, snapshot.output, 'the final response holds what the events built');
        snapshot = e.response;
        break;
    }
  });
  return snapshot!;
}

function encode(chunks: ChatChunk[], batches = 1): { events: Ev[]; encoder: ResponsesStreamEncoder } {
  const encoder = new ResponsesStreamEncoder(echo);
  let sse = '';
  const size = Math.ceil(chunks.length / batches);
  for (let i = 0; i < chunks.length; i += size) sse += encoder.encode(chunks.slice(i, i + size), i + size >= chunks.length);
  return { events: parse(sse), encoder };
}

const USAGE = { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29, completion_tokens_details: { reasoning_tokens: 3 } };

test('text with reasoning: the event sequence the SDK expects, ending with response.completed and usage', () => {
  const { events } = encode(
    [chunk({ role: 'assistant' }), chunk({ reasoning_content: 'Think' }), chunk({ reasoning_content: 'ing.' }), chunk({ content: 'Hel' }), chunk({ content: 'lo' }), chunk({}, 'stop'), chunk({}, null, USAGE)],
    3,
  );
  assert.deepEqual(events.map((e) => e.type), [
    'response.created',
    'response.in_progress',
    'response.output_item.added',
    'response.reasoning_summary_part.added',
    'response.reasoning_summary_text.delta',
    'response.reasoning_summary_text.delta',
    'response.reasoning_summary_text.done',
    'response.reasoning_summary_part.done',
    'response.output_item.done',
    'response.output_item.added',
    'response.content_part.added',
    'response.output_text.delta',
    'response.output_text.delta',
    'response.output_text.done',
    'response.content_part.done',
    'response.output_item.done',
    'response.completed',
  ]);
  const created = events[0]!.response;
  assert.equal(created.status, 'in_progress');
  assert.equal(created.model, 'claude-x');
  assert.deepEqual(created.output, []);
  assert.equal(created.usage, null);
  assert.deepEqual(events[2]!.item, { id: events[2]!.item.id, type: 'reasoning', summary: [] });
  assert.deepEqual(events[11], { type: 'response.output_text.delta', sequence_number: 11, item_id: events[9]!.item.id, output_index: 1, content_index: 0, delta: 'Hel', logprobs: [] });
  const final = accumulate(events);
  assert.equal(final.status, 'completed');
  assert.equal(final.id, created.id);
  assert.deepEqual(final.output.map((o: Ev) => o.type), ['reasoning', 'message']);
  assert.deepEqual(final.output[1].content, [{ type: 'output_text', text: 'Hello', annotations: [], logprobs: [] }]);
  assert.deepEqual(final.usage, { input_tokens: 20, input_tokens_details: { cached_tokens: 0 }, output_tokens: 9, output_tokens_details: { reasoning_tokens: 3 }, total_tokens: 29 });
  assert.deepEqual(final.tools, [{ type: 'function', name: 'get_weather' }]);
});

test('parallel tool calls from an Anthropic stream: one function_call item each, arguments streamed, call ids kept', () => {
  const translator = anthropicAdapter.createStreamTranslator({ model: 'claude', provider: 'anthropic', includeUsage: true, id: 'x', created: 1 });
  const chunks: ChatChunk[] = [];
  createParser({ onEvent: (e) => chunks.push(...translator.event({ event: e.event, data: e.data })) }).feed(
    readFileSync(new URL('../../providers/anthropic/fixtures/parallel-tools.sse', import.meta.url), 'utf8'),
  );
  chunks.push(...translator.end());
  const { events } = encode(chunks, 4);
  const final = accumulate(events);
  const calls = final.output.filter((o: Ev) => o.type === 'function_call');
  assert.equal(calls.length, 2);
  for (const call of calls) {
    assert.match(call.call_id, /^toolu_/);
    assert.match(call.id, /^fc_/);
    assert.equal(call.status, 'completed');
    assert.doesNotThrow(() => JSON.parse(call.arguments));
  }
  assert.ok(events.some((e) => e.type === 'response.function_call_arguments.delta'));
  const added = events.filter((e) => e.type === 'response.output_item.added' && e.item.type === 'function_call');
  assert.deepEqual(added.map((e) => [e.item.status, e.item.arguments]), [['in_progress', ''], ['in_progress', '']]);
  assert.ok(final.usage.input_tokens > 0);
});

test('interleaved argument pieces of parallel calls land on their own items', () => {
  const call = (index: number, args: string, id?: string) => chunk({ tool_calls: [{ index, ...(id && { id, type: 'function' as const }), function: { ...(id && { name: `f${index}` }), arguments: args } }] });
  const { events } = encode([chunk({ role: 'assistant' }), call(0, '{"a":', 'call_a'), call(1, '{"b":', 'call_b'), call(0, '1}'), call(1, '2}'), chunk({}, 'tool_calls'), chunk({}, null, USAGE)]);
  const final = accumulate(events);
  assert.deepEqual(final.output.map((o: Ev) => [o.call_id, o.name, o.arguments]), [['call_a', 'f0', '{"a":1}'], ['call_b', 'f1', '{"b":2}']]);
});

test('an answer cut by its token limit ends with response.incomplete and an incomplete message', () => {
  const { events } = encode([chunk({ role: 'assistant', content: 'Once upon' }), chunk({}, 'length'), chunk({}, null, USAGE)]);
  const last = events.at(-1)!;
  assert.equal(last.type, 'response.incomplete');
  assert.equal(last.response.status, 'incomplete');
  assert.deepEqual(last.response.incomplete_details, { reason: 'max_output_tokens' });
  assert.equal(accumulate(events).output[0].status, 'incomplete');
});

test('an empty answer still gets its empty message', () => {
  const { events } = encode([chunk({ role: 'assistant' }), chunk({}, 'stop')]);
  const final = accumulate(events);
  assert.deepEqual(final.output.map((o: Ev) => o.content), [[{ type: 'output_text', text: '', annotations: [], logprobs: [] }]]);
  assert.equal(final.usage, null);
});

test('a stream failing mid-way ends with an error event numbered after the last event sent', () => {
  const { events, encoder } = encode([chunk({ role: 'assistant', content: 'Hi' })]);
  const err = new GatewayError(502, 'upstream_error', 'anthropic: the stream ended before it was complete', { code: 'stream_interrupted' });
  const [error] = parse(encoder.error(err));
  assert.deepEqual(error, { type: 'error', sequence_number: events.length, code: 'stream_interrupted', message: 'anthropic: the stream ended before it was complete', param: null });
});

test('native events are written as they came, and an error after them takes the next sequence number', () => {
  const encoder = responsesEventEncoder();
  const batch: StreamEvent[] = [
    { event: 'response.created', data: '{"type":"response.created","sequence_number":0}' },
    { event: 'response.in_progress', data: '{"type":"response.in_progress","sequence_number":1}' },
  ];
  assert.equal(encoder.encode(batch, false), 'event: response.created\ndata: {"type":"response.created","sequence_number":0}\n\nevent: response.in_progress\ndata: {"type":"response.in_progress","sequence_number":1}\n\n');
  const [error] = parse(encoder.error(new GatewayError(429, 'rate_limit_error', 'openai: slow down', { code: 'rate_limit_exceeded' })));
  assert.equal(error!.sequence_number, 2);
  assert.equal(error!.code, 'rate_limit_exceeded');
});
