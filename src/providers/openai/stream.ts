// OpenAI-format streams arrive already in canonical chunks; the translator only checks their shape, surfaces an error
// sent inside the stream, and notices a stream that stopped without its `[DONE]`.

import { badUpstreamResponse, upstreamError, streamInterrupted } from '../../core/errors.ts';
import { parseJson } from '../../core/json-text.ts';
import type { ChatChunk } from '../../core/types.ts';
import type { StreamContext, StreamEvent, StreamTranslator } from '../types.ts';

/**
 * Whether the JSON text has the key with a value starting with `first` (or, without `first`, with any value). Keys are
 * matched as `"key"` followed by a colon, which text inside a JSON string cannot produce (its quotes are escaped).
 */
export function hasKey(json: string, key: string, first?: string): boolean {
  const quoted = `"${key}"`;
  for (let at = json.indexOf(quoted); at !== -1; at = json.indexOf(quoted, at + 1)) {
    let i = at + quoted.length;
    while (json.charCodeAt(i) <= 32) i++;
    if (json[i] !== ':') continue;
    i++;
    while (json.charCodeAt(i) <= 32) i++;
    if (first === undefined || json[i] === first) return true;
  }
  return false;
}

export function createOpenAIStreamTranslator(ctx: StreamContext): StreamTranslator {
  let done = false;
  let finished = false;
  const event = (ev: StreamEvent): ChatChunk[] => {
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
  };
  return {
    event,
    passthrough(ev: StreamEvent): ChatChunk | string | null {
      const data = ev.data;
      // Parsing every event was the largest cost of a passthrough stream; only the few that matter are parsed.
      if (data === '[DONE]' || data.charCodeAt(0) !== 123 /* { */ || hasKey(data, 'usage', '{') || hasKey(data, 'error')) {
        return event(ev)[0] ?? null;
      }
      if (hasKey(data, 'finish_reason', '"')) finished = true;
      return data;
    },
    complete: () => done,
    end(): ChatChunk[] {
      // Some OpenAI-compatible servers omit [DONE] but do send a finish_reason; only a stream with neither was cut.
      if (!done && !finished) {
        throw streamInterrupted(ctx.provider, '[DONE] or a finish_reason');
      }
      return [];
    },
  };
}
