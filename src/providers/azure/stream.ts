// Azure OpenAI streams are OpenAI streams with content-filter annotations mixed in. An annotation chunk has an empty
// id, no `delta`, and either no choices (the prompt's filter results, first in every stream) or choices that carry only
// filter results (asynchronous filtering, at any point, even after the finish). Clients that index choices[0] or read
// choices[0].delta break on them, so they are dropped, except when one carries the finish (an asynchronous filter
// stopping the answer with finish_reason 'content_filter'): that one becomes a proper chunk of the stream.

import type { ChatChunk, ChunkChoice } from '../../core/types.ts';
import { createOpenAIStreamTranslator, hasKey } from '../openai/stream.ts';
import type { StreamContext, StreamEvent, StreamTranslator } from '../types.ts';

export function createAzureStreamTranslator(ctx: StreamContext): StreamTranslator {
  const inner = createOpenAIStreamTranslator(ctx);
  // Annotation chunks have no id of their own; a finish carried by one is stamped with the stream's.
  let stamp = { id: ctx.id, created: ctx.created, model: ctx.model };

  function clean(chunk: ChatChunk): ChatChunk | undefined {
    const choices = chunk.choices ?? [];
    const annotation = !chunk.id;
    if (!annotation && choices.every((c) => c.delta) && (choices.length > 0 || chunk.usage)) {
      if (choices.length > 0) stamp = { id: chunk.id, created: chunk.created, model: chunk.model };
      return chunk;
    }
    const kept: ChunkChoice[] = [];
    for (const c of choices) {
      if (c.delta) kept.push(c);
      else if (c.finish_reason) kept.push({ ...c, delta: {} });
    }
    if (kept.length === 0 && !chunk.usage) return undefined;
    const base = annotation ? { ...stamp, object: 'chat.completion.chunk' as const } : chunk;
    return { ...chunk, ...base, choices: kept };
  }

  return {
    event: (ev: StreamEvent) => inner.event(ev).flatMap((chunk) => clean(chunk) ?? []),
    passthrough(ev: StreamEvent): ChatChunk | string | null {
      // Every OpenAI chunk has a delta; one without is an annotation (or the usage chunk), worth parsing.
      if (ev.data.charCodeAt(0) === 123 /* { */ && !hasKey(ev.data, 'delta')) {
        const chunk = inner.event(ev)[0];
        return (chunk && clean(chunk)) ?? null;
      }
      return inner.passthrough!(ev);
    },
    complete: () => inner.complete!(),
    end: () => inner.end(),
  };
}
