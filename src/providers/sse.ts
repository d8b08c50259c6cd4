// The default stream decoder: server-sent events, as OpenAI, Anthropic, Gemini (alt=sse) and most others send them.

import { createParser } from 'eventsource-parser';
import { StringDecoder } from 'node:string_decoder';
import type { StreamDecoder, StreamEvent } from './types.ts';

export function createSseDecoder(): StreamDecoder {
  // Node's StringDecoder rather than TextDecoder: a third of the cost per upstream read, and a split UTF-8 character
  // is kept for the next read all the same. Unlike TextDecoder it keeps a leading byte-order mark, which the event
  // stream format says to drop.
  const decoder = new StringDecoder('utf8');
  let first = true;
  let events: StreamEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event, data: e.data }) });
  return {
    feed(chunk: Uint8Array): StreamEvent[] {
      let text = decoder.write(chunk);
      if (first && text !== '') {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      parser.feed(text);
      const out = events;
      events = [];
      return out;
    },
  };
}
