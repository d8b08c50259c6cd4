// A Mistral stream is an OpenAI stream whose chunks may need the fixes of response.ts. Chunks that cannot need one are
// still handed on unparsed; only those that carry content chunks, tool calls or a finish reason are parsed and fixed.

import type { ChatChunk } from '../../core/types.ts';
import { hasKey } from '../openai/stream.ts';
import type { StreamEvent, StreamTranslator } from '../types.ts';
import { fixChunk } from './response.ts';

const mayNeedFix = (data: string): boolean => hasKey(data, 'content', '[') || hasKey(data, 'tool_calls', '[') || hasKey(data, 'finish_reason', '"');

export function fixingTranslator(openai: StreamTranslator, provider: string): StreamTranslator {
  const event = (ev: StreamEvent): ChatChunk[] => openai.event(ev).map((chunk) => fixChunk(chunk, provider));
  return {
    ...openai,
    event,
    passthrough: (ev: StreamEvent) => (mayNeedFix(ev.data) ? (event(ev)[0] ?? null) : openai.passthrough!(ev)),
  };
}
