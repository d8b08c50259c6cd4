// Writes a canonical chunk stream to the client as OpenAI server-sent events. The first chunk is pulled before the
// response is committed, so a provider that fails at once still gets a plain HTTP error with the right status; after
// that, a failure ends the stream with an error event (which the OpenAI SDKs raise), never a hang.

import { once } from 'node:events';
import type { FastifyReply } from 'fastify';
import { CLIENT_CLOSED } from '../core/errors.ts';
import type { ChatChunk } from '../core/types.ts';
import { ClientAbortedError } from '../http/client.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { toGatewayError } from './errors.ts';

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  // Tells nginx-style proxies in front of the gateway not to buffer the stream.
  'x-accel-buffering': 'no',
};

export async function writeSse(
  reply: FastifyReply,
  chunks: AsyncGenerator<ChatChunk>,
  ctx: RequestContext,
  headers: Record<string, string>,
  bodyLimit: number,
): Promise<void> {
  const first = await chunks.next();
  const res = reply.raw;
  reply.hijack();
  res.writeHead(200, { ...SSE_HEADERS, ...headers });
  ctx.ttftMs = performance.now() - ctx.startedAt;
  try {
    if (!first.done) {
      await write(res, first.value, ctx);
      for await (const chunk of chunks) await write(res, chunk, ctx);
    }
    res.write('data: [DONE]\n\n');
  } catch (err) {
    if (err instanceof ClientAbortedError || ctx.clientSignal.aborted) {
      ctx.error = CLIENT_CLOSED;
      // A reader that stopped reading may still hold the socket open: cut it rather than wait on it.
      res.destroy();
      return;
    }
    const error = toGatewayError(err, bodyLimit);
    ctx.error = error;
    res.write(`data: ${JSON.stringify(error.toOpenAI())}\n\n`);
  } finally {
    res.end();
  }
}

async function write(res: NodeJS.WritableStream, chunk: ChatChunk, ctx: RequestContext): Promise<void> {
  if (!res.write(`data: ${JSON.stringify(chunk)}\n\n`)) {
    // A slow reader: wait for it, but not longer than the provider may stay silent (idle_ms), and not after it left;
    // a reader that stopped reading would otherwise hold the upstream connection until total_ms.
    const idle = ctx.target?.provider.timeouts.idle_ms ?? 120_000;
    await once(res, 'drain', { signal: AbortSignal.any([ctx.clientSignal, AbortSignal.timeout(idle)]) }).catch(() => {
      throw new ClientAbortedError();
    });
  }
}
