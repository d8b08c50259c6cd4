// Writes a provider's stream to the client as OpenAI server-sent events. The caller has already read up to the first
// real chunk (UpstreamStream.prime), so a provider that fails at once got a plain HTTP error; from here on a failure
// ends the stream with an error event (which the OpenAI SDKs raise), never a hang.

import type { FastifyReply } from 'fastify';
import { CLIENT_CLOSED, type GatewayError } from '../core/errors.ts';
import { jsonText } from '../core/json-text.ts';
import type { StreamChunk, UpstreamStream } from '../pipeline/upstream-stream.ts';
import { ClientAbortedError } from '../http/client.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { toGatewayError } from './errors.ts';
import { OVERHEAD_HEADER, overheadHeaderValue } from '../observability/overhead.ts';
import { capturing } from '../request-logs/capture.ts';


/** How one surface writes its server-sent events. */
export interface SseEncoder<T> {
  /** The events for one batch of items; `last` is the final batch, after which the stream ends. */
  encode(batch: T[], last: boolean): string;
  /** The event that ends a stream which failed after it started. */
  error(err: GatewayError): string;
}

export async function writeSse<T>(
  reply: FastifyReply,
  stream: UpstreamStream<T>,
  ctx: RequestContext,
  bodyLimit: number,
  encoder: SseEncoder<T>,
): Promise<void> {
  const res = reply.raw;
  if (ctx.payload) encoder = capturing(encoder, ctx.payload);
  reply.hijack();
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    // Tells nginx-style proxies in front of the gateway not to buffer the stream.
    'x-accel-buffering': 'no',
    // A hijacked reply skips Fastify's headers, so the request id is set here too.
    'x-request-id': ctx.id,
    'x-switchboard-provider': stream.target.provider.name,
    [OVERHEAD_HEADER]: overheadHeaderValue(ctx.startedAt, ctx.upstreamMs),
  });
  ctx.ttftMs = performance.now() - ctx.startedAt;
  try {
    // The last batch goes out with the end of the response, so the chunked-encoding terminator shares its write.
    await stream.pump((batch, last) => (last ? (res.end(encoder.encode(batch, true)), true) : res.write(encoder.encode(batch, false))), () => drained(res, ctx));
  } catch (err) {
    if (err instanceof ClientAbortedError) {
      ctx.error = CLIENT_CLOSED;
      // A reader that stopped reading may still hold the socket open: cut it rather than wait on it.
      res.destroy();
      return;
    }
    const error = toGatewayError(err, bodyLimit);
    ctx.error = error;
    res.write(encoder.error(error));
  } finally {
    stream.close();
    res.end();
  }
}

/** The usage-only chunk that ends a stream when usage was asked for (stream_options.include_usage). */
const usageOnly = (chunk: StreamChunk): boolean => typeof chunk !== 'string' && chunk.choices.length === 0 && chunk.usage != null;

/**
 * OpenAI chat-completion chunks; one string per batch, so one syscall per upstream read rather than one per chunk.
 * `withUsage: false` leaves out the usage-only chunk for a client that did not ask for it (the gateway always does).
 */
function chunkEncoder(withUsage: boolean): SseEncoder<StreamChunk> {
  return {
    encode(batch, last) {
      let text = '';
      for (const chunk of batch) {
        if (!withUsage && usageOnly(chunk)) continue;
        text += `data: ${typeof chunk === 'string' ? chunk : jsonText(chunk)}\n\n`;
      }
      return last ? `${text}data: [DONE]\n\n` : text;
    },
    error: (err) => `data: ${JSON.stringify(err.toOpenAI())}\n\n`,
  };
}

export const openaiChunkEncoder = chunkEncoder(true);
export const openaiChunkEncoderWithoutUsage = chunkEncoder(false);

/**
 * A slow reader: wait for it, but not longer than the provider may stay silent (idle_ms), and not after it left; a
 * reader that stopped reading would otherwise hold the upstream connection until total_ms.
 */
export function drained(res: NodeJS.WritableStream, ctx: RequestContext): Promise<void> {
  return new Promise((resolve, reject) => {
    const finish = (err?: Error) => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      ctx.abort.off('abort', onGone);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => finish();
    const onGone = () => finish(new ClientAbortedError());
    const timer = setTimeout(onGone, ctx.target?.provider.timeouts.idle_ms ?? 120_000);
    res.once('drain', onDrain);
    ctx.abort.once('abort', onGone);
    if (ctx.abort.aborted) onGone();
  });
}
