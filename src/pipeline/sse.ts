// Reads an upstream server-sent-event body and yields canonical chunks through a provider's stream translator.

import { createParser } from 'eventsource-parser';
import type { ChatChunk } from '../core/types.ts';
import type { StreamEvent, StreamTranslator } from '../providers/types.ts';

export async function* translateSse(body: AsyncIterable<Buffer | string>, translator: StreamTranslator): AsyncGenerator<ChatChunk> {
  const events: StreamEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event, data: e.data }) });
  const decoder = new TextDecoder();
  for await (const bytes of body) {
    parser.feed(typeof bytes === 'string' ? bytes : decoder.decode(bytes, { stream: true }));
    for (const ev of events) yield* translator.event(ev);
    events.length = 0;
  }
  yield* translator.end();
}
