// OpenAI-format streams arrive already in canonical chunks; the translator only checks their shape, surfaces an error
// sent inside the stream, and notices a stream that stopped without its `[DONE]`.

import { badUpstreamResponse, upstreamError, streamInterrupted } from '../../core/errors.ts';
import { parseJson } from '../../core/json-text.ts';
import type { ChatChunk } from '../../core/types.ts';
import type { StreamContext, StreamEvent, StreamTranslator } from '../types.ts';

/** `key"` for each key asked about: searched for without its opening quote (see keyValues). */
const KEY_TAILS = new Map<string, string>();

/**
 * Calls `matches` with the position of each value of `key` in the JSON text until it returns true. Keys are matched
 * as `"key"` followed by a colon, which text inside a JSON string cannot produce (its quotes are escaped). The search
 * is for `key"`, checked for the quote before it after: JSON is full of quotes, and searching from one stopped at
 * every one of them (about 15k instructions a stream in V8's string search).
 */
function someValue(json: string, key: string, matches: (json: string, at: number) => boolean): boolean {
  let tail = KEY_TAILS.get(key);
  if (tail === undefined) KEY_TAILS.set(key, (tail = `${key}"`));
  for (let at = json.indexOf(tail, 1); at !== -1; at = json.indexOf(tail, at + 1)) {
    if (json.charCodeAt(at - 1) !== 34 /* " */) continue;
    let i = at + tail.length;
    while (json.charCodeAt(i) <= 32) i++;
    if (json.charCodeAt(i) !== 58 /* : */) continue;
    i++;
    while (json.charCodeAt(i) <= 32) i++;
    if (matches(json, i)) return true;
  }
  return false;
}

const anyValue = () => true;
const valueStarting = (first: string) => (json: string, at: number) => json[at] === first;
const STARTING = { '{': valueStarting('{'), '[': valueStarting('['), '"': valueStarting('"') };
const nonEmptyString = (json: string, at: number) => json.charCodeAt(at) === 34 && json.charCodeAt(at + 1) !== 34;

/** Whether the JSON text has the key with a value starting with `first` (or, without `first`, with any value). */
export function hasKey(json: string, key: string, first?: keyof typeof STARTING): boolean {
  return someValue(json, key, first === undefined ? anyValue : STARTING[first]);
}

/** Whether the JSON text has the key with a string value that is not empty. */
export function hasText(json: string, key: string): boolean {
  return someValue(json, key, nonEmptyString);
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
