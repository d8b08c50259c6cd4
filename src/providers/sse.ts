// The default stream decoder: server-sent events, as OpenAI, Anthropic, Gemini (alt=sse) and most others send them.

import { createParser } from 'eventsource-parser';
import type { StreamDecoder, StreamEvent } from './types.ts';

export function createSseDecoder(): StreamDecoder {
  const decoder = new TextDecoder();
  let events: StreamEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event, data: e.data }) });
  return {
    feed(chunk: Uint8Array): StreamEvent[] {
      parser.feed(decoder.decode(chunk, { stream: true }));
      const out = events;
      events = [];
      return out;
    },
  };
}
