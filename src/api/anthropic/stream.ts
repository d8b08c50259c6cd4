// Canonical chunks -> Anthropic Messages stream events. Anthropic streams one content block at a time, each opened,
// filled with deltas and closed, numbered from 0; OpenAI chunks interleave kinds freely, so the encoder opens a new
// block whenever the kind (thinking, text, or a particular tool call) changes. The closing message_delta carries the
// stop reason and the usage, which arrives after the finish chunk, so both are held until the stream ends.

import type { GatewayError } from '../../core/errors.ts';
import type { ChatChunk, FinishReason, Usage } from '../../core/types.ts';
import type { StreamEvent } from '../../providers/types.ts';
import type { SseEncoder } from '../../server/sse.ts';
import { anthropicError, anthropicUsage, messageId, stopReason } from './response.ts';

type Open = { kind: 'thinking' } | { kind: 'text' } | { kind: 'tool'; index: number } | undefined;

function event(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

export class AnthropicStreamEncoder implements SseEncoder<ChatChunk> {
  private started = false;
  private block = -1;
  private open: Open;
  private finish: FinishReason | null = null;
  private usage: Usage | undefined;

  constructor(private readonly model: string) {}

  encode(batch: ChatChunk[], last: boolean): string {
    let out = '';
    for (const chunk of batch) out += this.chunk(chunk);
    if (last) out += this.finishEvents();
    return out;
  }

  error(err: GatewayError): string {
    return event('error', { error: anthropicError(err).error });
  }

  private chunk(chunk: ChatChunk): string {
    let out = '';
    if (!this.started) {
      this.started = true;
      out += event('message_start', {
        message: { id: messageId(chunk.id), type: 'message', role: 'assistant', model: this.model, content: [], stop_reason: null, stop_sequence: null, usage: anthropicUsage(chunk.usage) },
      });
    }
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) return out;
    const delta = choice.delta;
    if (delta.reasoning_content) out += this.into({ kind: 'thinking' }) + this.delta({ type: 'thinking_delta', thinking: delta.reasoning_content });
    if (delta.content) out += this.into({ kind: 'text' }) + this.delta({ type: 'text_delta', text: delta.content });
    for (const call of delta.tool_calls ?? []) {
      const open = this.open;
      if (open?.kind !== 'tool' || open.index !== call.index) {
        out += this.close();
        this.block++;
        this.open = { kind: 'tool', index: call.index };
        out += event('content_block_start', {
          index: this.block,
          content_block: { type: 'tool_use', id: call.id ?? `toolu_${this.block}`, name: call.function?.name ?? '', input: {} },
        });
      }
      if (call.function?.arguments) out += this.delta({ type: 'input_json_delta', partial_json: call.function.arguments });
    }
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return out;
  }

  /** Makes sure a block of this kind is the open one. */
  private into(kind: NonNullable<Open>): string {
    if (this.open?.kind === kind.kind) return '';
    const out = this.close();
    this.block++;
    this.open = kind;
    const content_block = kind.kind === 'thinking' ? { type: 'thinking', thinking: '', signature: '' } : { type: 'text', text: '' };
    return out + event('content_block_start', { index: this.block, content_block });
  }

  private delta(delta: Record<string, unknown>): string {
    return event('content_block_delta', { index: this.block, delta });
  }

  private close(): string {
    if (!this.open) return '';
    this.open = undefined;
    return event('content_block_stop', { index: this.block });
  }

  private finishEvents(): string {
    const usage = anthropicUsage(this.usage);
    return (
      this.close() +
      event('message_delta', { delta: { stop_reason: stopReason(this.finish), stop_sequence: null }, usage }) +
      event('message_stop', {})
    );
  }
}

/** A native Anthropic stream: the provider's own events, written as they came. */
export const anthropicEventEncoder: SseEncoder<StreamEvent> = {
  encode(batch) {
    let out = '';
    for (const ev of batch) out += `event: ${ev.event}\ndata: ${ev.data}\n\n`;
    return out;
  },
  error: (err) => event('error', { error: anthropicError(err).error }),
};
