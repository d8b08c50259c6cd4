// Anthropic Messages SSE stream -> OpenAI chat.completion.chunk objects. Anthropic streams content blocks by block
// index (text, thinking and tool_use interleaved); OpenAI streams one delta per chunk with tool calls numbered by their
// own running index, so the translator keeps the mapping between the two and the usage seen so far.

import type { ChatChunk, ChunkChoice, FinishReason } from '../../core/types.ts';
import type { StreamContext, StreamEvent, StreamTranslator } from '../types.ts';
import { isPlainObject } from '../shared.ts';
import { type AnthropicUsage, finishReason, JSON_OBJECT_TOOL, toUsage } from './chat.ts';
import { invalidStreamEvent, streamError, streamInterrupted } from './errors.ts';

type Delta = ChunkChoice['delta'];
type Data = Record<string, unknown>;

export function createAnthropicStreamTranslator(ctx: StreamContext): StreamTranslator {
  return new AnthropicStreamTranslator(ctx);
}

class AnthropicStreamTranslator implements StreamTranslator {
  private model: string;
  private stopped = false;
  /** Anthropic block index -> OpenAI tool call index (0-based count of tool calls so far). */
  private readonly toolIndexByBlock = new Map<number, number>();
  /** Blocks that are calls of the json_object tool, streamed to the client as content. */
  private readonly jsonBlocks = new Set<number>();
  private usage: AnthropicUsage = {};

  constructor(private readonly ctx: StreamContext) {
    this.model = ctx.model;
  }

  event(event: StreamEvent): ChatChunk[] {
    const data = parseData(event, this.ctx.provider);
    switch (data.type ?? event.event) {
      case 'message_start':
        return this.onMessageStart(data);
      case 'content_block_start':
        return this.onBlockStart(data);
      case 'content_block_delta':
        return this.onBlockDelta(data);
      case 'message_delta':
        return this.onMessageDelta(data);
      case 'message_stop':
        return this.onMessageStop();
      case 'error':
        throw streamError(data, this.ctx.provider);
      default:
        // ping, content_block_stop, and event types Anthropic may add later carry nothing for the client.
        return [];
    }
  }

  end(): ChatChunk[] {
    if (!this.stopped) throw streamInterrupted(this.ctx.provider);
    return [];
  }

  complete(): boolean {
    return this.stopped;
  }

  private onMessageStart(data: Data): ChatChunk[] {
    const message = isPlainObject(data.message) ? data.message : {};
    if (typeof message.model === 'string') this.model = message.model;
    if (isPlainObject(message.usage)) this.usage = { ...(message.usage as AnthropicUsage) };
    return [this.chunk({ role: 'assistant', content: '' })];
  }

  private onBlockStart(data: Data): ChatChunk[] {
    const index = Number(data.index);
    const block = isPlainObject(data.content_block) ? data.content_block : {};
    if (block.type === 'tool_use') return this.onToolUseStart(index, block);
    // Text and thinking blocks open empty in practice; any text they do open with is content like the deltas.
    if (block.type === 'text' && typeof block.text === 'string' && block.text) {
      return [this.chunk({ content: block.text })];
    }
    if (block.type === 'thinking' && typeof block.thinking === 'string' && block.thinking) {
      return [this.chunk({ reasoning_content: block.thinking })];
    }
    return [];
  }

  private onToolUseStart(index: number, block: Data): ChatChunk[] {
    if (block.name === JSON_OBJECT_TOOL) {
      this.jsonBlocks.add(index);
      return [];
    }
    const toolIndex = this.toolIndexByBlock.size;
    this.toolIndexByBlock.set(index, toolIndex);
    const call = { index: toolIndex, id: String(block.id), type: 'function' as const };
    return [this.chunk({ tool_calls: [{ ...call, function: { name: String(block.name), arguments: '' } }] })];
  }

  private onBlockDelta(data: Data): ChatChunk[] {
    const index = Number(data.index);
    const delta = isPlainObject(data.delta) ? data.delta : {};
    switch (delta.type) {
      case 'text_delta':
        return [this.chunk({ content: String(delta.text) })];
      case 'thinking_delta':
        return [this.chunk({ reasoning_content: String(delta.thinking) })];
      case 'input_json_delta':
        return this.onInputJson(index, String(delta.partial_json));
      default:
        // signature_delta seals a thinking block for replay; the canonical shape has no field to carry it.
        return [];
    }
  }

  private onInputJson(index: number, partial: string): ChatChunk[] {
    // Anthropic opens each tool input with an empty partial; it would be an empty chunk.
    if (partial === '') return [];
    if (this.jsonBlocks.has(index)) return [this.chunk({ content: partial })];
    const toolIndex = this.toolIndexByBlock.get(index);
    if (toolIndex === undefined) return [];
    return [this.chunk({ tool_calls: [{ index: toolIndex, function: { arguments: partial } }] })];
  }

  private onMessageDelta(data: Data): ChatChunk[] {
    // message_delta usage is cumulative; its input/cache counts, when present, supersede message_start's.
    if (isPlainObject(data.usage)) this.mergeUsage(data.usage as AnthropicUsage);
    const delta = isPlainObject(data.delta) ? data.delta : {};
    const stopReason = typeof delta.stop_reason === 'string' ? delta.stop_reason : null;
    const finish = finishReason(stopReason, this.toolIndexByBlock.size > 0);
    return finish ? [this.chunk({}, finish)] : [];
  }

  private mergeUsage(update: AnthropicUsage): void {
    for (const [key, value] of Object.entries(update)) {
      if (value != null) (this.usage as Record<string, unknown>)[key] = value;
    }
  }

  private onMessageStop(): ChatChunk[] {
    this.stopped = true;
    if (!this.ctx.includeUsage) return [];
    return [{ ...this.base(), choices: [], usage: toUsage(this.usage) }];
  }

  private base(): Omit<ChatChunk, 'choices'> {
    return { id: this.ctx.id, object: 'chat.completion.chunk', created: this.ctx.created, model: this.model };
  }

  private chunk(delta: Delta, finish: FinishReason | null = null): ChatChunk {
    return { ...this.base(), choices: [{ index: 0, delta, finish_reason: finish }] };
  }
}

/** An event's data as the object every Anthropic stream event is. */
export function parseData(event: StreamEvent, provider: string): Data {
  let data: unknown;
  try {
    data = JSON.parse(event.data);
  } catch {
    throw invalidStreamEvent(provider, `${event.event ?? 'message'} data is not JSON`);
  }
  if (!isPlainObject(data)) throw invalidStreamEvent(provider, `${event.event ?? 'message'} data is not an object`);
  return data;
}
