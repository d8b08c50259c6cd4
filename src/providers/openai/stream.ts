// OpenAI-format streams arrive already in canonical chunks; the translator only checks their shape, surfaces an error
// sent inside the stream, and notices a stream that stopped without its `[DONE]`.

import { badUpstreamResponse, GatewayError, upstreamError } from '../../core/errors.ts';
import { parseJson } from '../../core/json-text.ts';
import type { ChatChunk } from '../../core/types.ts';
import type { StreamContext, StreamEvent, StreamTranslator } from '../types.ts';

export function createOpenAIStreamTranslator(ctx: StreamContext): StreamTranslator {
  let done = false;
  let finished = false;
  return {
    event(ev: StreamEvent): ChatChunk[] {
      if (ev.data === '[DONE]') {
        done = true;
        return [];
      }
      let chunk: ChatChunk & { error?: { message?: string; code?: string } };
      try {
        chunk = parseJson(ev.data) as typeof chunk;
      } catch {
        throw badUpstreamResponse(`${ctx.provider}: stream event is not JSON: ${ev.data.slice(0, 200)}`, ctx.provider);
      }
      if (chunk.error) {
        throw upstreamError(ctx.provider, 500, chunk.error.message ?? 'error in stream', { code: chunk.error.code ?? null });
      }
      if (chunk.choices?.some((c) => c.finish_reason)) finished = true;
      return [chunk];
    },
    complete: () => done,
    end(): ChatChunk[] {
      // Some OpenAI-compatible servers omit [DONE] but do send a finish_reason; only a stream with neither was cut.
      if (!done && !finished) {
        throw new GatewayError(502, 'upstream_error', `${ctx.provider}: the stream ended before it was complete`, {
          code: 'stream_interrupted',
          provider: ctx.provider,
        });
      }
      return [];
    },
  };
}
