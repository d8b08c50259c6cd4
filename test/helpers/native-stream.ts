// Native stream readers driven the way UpstreamStream drives them, for the providers' unit tests.

import { createParser } from 'eventsource-parser';
import type { StreamEvent, StreamReader } from '../../src/providers/types.ts';

/** Server-sent events text split into events. */
export function sseEvents(sse: string): StreamEvent[] {
  const out: StreamEvent[] = [];
  createParser({ onEvent: (e) => out.push({ event: e.event, data: e.data }) }).feed(sse);
  return out;
}

/** The items `reader` yields for these events (told when primed, as UpstreamStream tells it), and its output over them. */
export function readStream(reader: StreamReader<StreamEvent>, input: readonly StreamEvent[]): { items: StreamEvent[]; text: string } {
  const items: StreamEvent[] = [];
  let primed = false;
  for (const ev of input) {
    for (const item of reader.event(ev)) {
      if (!primed && reader.substantive(item)) {
        primed = true;
        reader.primed?.();
      }
      items.push(item);
    }
  }
  items.push(...reader.end());
  return { items, text: reader.output!(items) };
}
