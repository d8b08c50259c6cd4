import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { GatewayError } from '../core/errors.ts';
import type { UpstreamResponse } from '../http/client.ts';
import type { StreamEvent, StreamReader } from '../providers/types.ts';
import type { Target } from '../routing/router.ts';
import { RequestAbort } from '../http/abort.ts';
import { newContext } from './context.ts';
import { openaiTextReader, UpstreamStream, type StreamChunk } from './upstream-stream.ts';
import { createOpenAIStreamTranslator } from '../providers/openai/stream.ts';

/** Passes `data` of each event on; an event whose data is "boom" is an in-stream error. */
const reader: StreamReader<string> = {
  event: (ev: StreamEvent) => {
    if (ev.data === 'boom') throw new GatewayError(502, 'upstream_error', 'boom');
    if (ev.data === 'billed-boom') {
      const err = new GatewayError(502, 'upstream_error', 'failed generation');
      err.usage = { prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 };
      throw err;
    }
    return [ev.data];
  },
  end: () => [],
  complete: () => false,
  substantive: (item) => item !== 'open',
  usage: () => undefined,
};

function stream<T = string>(reads: string[], ctx = context(), read = reader as unknown as StreamReader<T>): UpstreamStream<T> {
  const body = Object.assign(Readable.from(reads.map((r) => Buffer.from(r))), { dump: async () => undefined });
  const response = { statusCode: 200, headers: {}, body } as unknown as UpstreamResponse;
  const target = { adapter: {}, provider: { name: 'p' }, model: 'm' } as unknown as Target;
  return new UpstreamStream(response, () => undefined, target, read, ctx);
}

function context() {
  return newContext({ id: 'r', surface: 'openai', operation: 'chat', model: 'm', stream: true, abort: new RequestAbort(), credential: undefined, clientIp: '' });
}

async function written<T>(s: UpstreamStream<T>): Promise<{ items: T[]; error?: unknown }> {
  const items: T[] = [];
  try {
    await s.prime();
    await s.pump((batch) => (items.push(...batch), true), async () => undefined);
    return { items };
  } catch (error) {
    return { items, error };
  }
}

test('an error after the stream is committed comes after the items its read brought before it', async () => {
  const out = await written(stream(['data: open\n\ndata: a\n\n', 'data: b\n\ndata: boom\n\ndata: c\n\n']));
  assert.deepEqual(out.items, ['open', 'a', 'b']);
  assert.match(String(out.error), /boom/);
});

test('an error in the read that would commit the stream is raised before anything is written (so it can fail over)', async () => {
  const s = stream(['data: open\n\ndata: a\n\ndata: boom\n\n']);
  await assert.rejects(s.prime(), /boom/);
});

test('a failed generation that was still billed leaves its usage on the request', async () => {
  const ctx = context();
  const out = await written(stream(['data: open\n\ndata: a\n\n', 'data: billed-boom\n\n'], ctx));
  assert.match(String(out.error), /failed generation/);
  assert.equal(ctx.usage?.total_tokens, 5);
});

describe('the OpenAI text reader', () => {
  const openaiStream = (events: string[]) => {
    const ctx = context();
    const reads = [events.map((data) => `data: ${data}\n\n`).join('')];
    return stream<StreamChunk>(reads, ctx, openaiTextReader(createOpenAIStreamTranslator({ provider: 'p', model: 'm' } as never)));
  };
  const ROLE = '{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}';
  const TEXT = '{"id":"c","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}';
  const STOP = '{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}';
  const USAGE = '{"id":"c","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}';

  test('passes the opening and the text after the first answer on as they came; parses the first answer and the usage', async () => {
    const out = await written(openaiStream([ROLE, TEXT, TEXT, STOP, USAGE, '[DONE]']));
    assert.equal(out.error, undefined);
    assert.deepEqual(
      out.items.map((item) => typeof item),
      ['string', 'object', 'string', 'string', 'object'],
    );
    assert.deepEqual(out.items[1], JSON.parse(TEXT));
    assert.deepEqual(out.items[4], JSON.parse(USAGE));
  });

  test('the first answer that is not JSON fails the stream before it is committed, so it can fail over', async () => {
    await assert.rejects(openaiStream([ROLE, '{"choices":[{"delta":{"content":"Hi"}}']).prime(), (e: GatewayError) => e.status === 502);
  });

  test('an error in the opening fails before the stream is committed', async () => {
    await assert.rejects(openaiStream(['{"error":{"message":"overloaded","code":"busy"}}', TEXT]).prime(), /overloaded/);
  });
});
