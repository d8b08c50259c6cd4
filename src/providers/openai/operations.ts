// OpenAI's endpoints beyond chat and embeddings (legacy completions, images, audio, moderations), whose answers go back
// to the client as they came: what the gateway reads from them is the usage and, in a stream, errors and the end.

import { isPlainObject } from '../shared.ts';
import { badUpstreamResponse, upstreamError, streamInterrupted } from '../../core/errors.ts';
import type { Usage } from '../../core/types.ts';
import type { StreamReader } from '../types.ts';
import { hasKey } from './stream.ts';

const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * Usage as these endpoints report it: legacy completions in chat's names (prompt_tokens), images and audio in the
 * Responses API's (input_tokens). Whisper reports seconds of audio, and moderations nothing: no token usage then.
 */
export function operationUsage(body: unknown): Usage | undefined {
  if (!isPlainObject(body) || !isPlainObject(body.usage)) return undefined;
  const u = body.usage;
  const prompt = count(u.prompt_tokens) ?? count(u.input_tokens);
  if (prompt === undefined) return undefined;
  const completion = count(u.completion_tokens) ?? count(u.output_tokens) ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: count(u.total_tokens) ?? prompt + completion };
}

/**
 * Reads a streamed legacy completion: each event's data is passed on as its own text. Only events that carry usage or
 * an error are parsed; `[DONE]` (or, from servers that omit it, a finish_reason) marks a stream that ended properly.
 */
export function createEventReader(provider: string): StreamReader<string> {
  let done = false;
  let finished = false;
  let latest: Usage | undefined;
  return {
    event(ev) {
      latest = undefined;
      const data = ev.data;
      if (data === '[DONE]') {
        done = true;
        return [];
      }
      if (hasKey(data, 'error') || hasKey(data, 'usage', '{')) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(data);
        } catch {
          throw badUpstreamResponse(`${provider}: stream event is not JSON: ${data.slice(0, 200)}`, provider);
        }
        const error = isPlainObject(parsed) ? parsed.error : undefined;
        if (isPlainObject(error)) {
          const code = typeof error.code === 'string' ? error.code : null;
          throw upstreamError(provider, 500, typeof error.message === 'string' ? error.message : 'error in stream', { code });
        }
        latest = operationUsage(parsed);
      }
      if (hasKey(data, 'finish_reason', '"')) finished = true;
      return [data];
    },
    end() {
      if (!done && !finished) {
        throw streamInterrupted(provider, '[DONE]');
      }
      return [];
    },
    complete: () => done,
    // A legacy completion has no opening event without content: every event is the answer itself.
    substantive: () => true,
    // Read right after `event` returned this item: the usage it brought, if any.
    usage: () => latest,
  };
}
