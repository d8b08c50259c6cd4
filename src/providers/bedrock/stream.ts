// ConverseStream events (as the event-stream decoder names them) -> OpenAI chat.completion.chunk objects. Converse
// streams content blocks by index, text, reasoning and tool use interleaved; OpenAI numbers tool calls by their own
// running index, so the translator keeps the mapping between the two. The finish reason arrives in messageStop and the
// usage after it, in metadata, which is the last event of a whole stream.

import { GatewayError } from '../../core/errors.ts';
import type { ChatChunk, ChunkChoice, FinishReason } from '../../core/types.ts';
import { JSON_OBJECT_TOOL } from '../anthropic/chat.ts';
import { isPlainObject } from '../shared.ts';
import type { StreamContext, StreamEvent, StreamTranslator } from '../types.ts';
import { finishReason, toUsage, type ConverseUsage } from './chat.ts';
import { invalidUpstream, streamException, streamInterrupted } from './errors.ts';
import { EXCEPTION_EVENT } from './eventstream.ts';

type Delta = ChunkChoice['delta'];
type Data = Record<string, unknown>;

export function createBedrockStreamTranslator(ctx: StreamContext): StreamTranslator {
  return new BedrockStreamTranslator(ctx);
}

class BedrockStreamTranslator implements StreamTranslator {
  /** Converse content block index -> OpenAI tool call index (0-based count of tool calls so far). */
  private readonly toolIndexByBlock = new Map<number, number>();
  /** Blocks that are calls of the json_object tool, streamed to the client as content. */
  private readonly jsonBlocks = new Set<number>();
  private stopped = false;
  private done = false;
  /** A generation that failed (messageStop with a malformed_* reason), raised once its usage has arrived. */
  private failure: GatewayError | undefined;

  constructor(private readonly ctx: StreamContext) {}

  event(event: StreamEvent): ChatChunk[] {
    const name = event.event ?? '';
    if (name.startsWith(EXCEPTION_EVENT)) throw streamException(name.slice(EXCEPTION_EVENT.length), event.data, this.ctx.provider);
    const data = this.parse(event);
    switch (name) {
      case 'messageStart':
        return [this.chunk({ role: 'assistant', content: '' })];
      case 'contentBlockStart':
        return this.onBlockStart(data);
      case 'contentBlockDelta':
        return this.onBlockDelta(data);
      case 'messageStop':
        return this.onMessageStop(data);
      case 'metadata':
        return this.onMetadata(data);
      default:
        // contentBlockStop, and event types Bedrock may add later, carry nothing for the client.
        return [];
    }
  }

  // A stream that ends after messageStop but without metadata holds the whole answer; only its usage is missing.
  end(): ChatChunk[] {
    if (!this.stopped) throw streamInterrupted(this.ctx.provider);
    if (this.failure) throw this.failure;
    return [];
  }

  /** Only metadata ends a stream in-band: stopping at messageStop would lose the usage that follows it. */
  complete(): boolean {
    return this.done;
  }

  private onBlockStart(data: Data): ChatChunk[] {
    const start = isPlainObject(data.start) ? data.start : {};
    const toolUse = isPlainObject(start.toolUse) ? start.toolUse : undefined;
    if (!toolUse) return [];
    const index = Number(data.contentBlockIndex);
    if (toolUse.name === JSON_OBJECT_TOOL) {
      this.jsonBlocks.add(index);
      return [];
    }
    const toolIndex = this.toolIndexByBlock.size;
    this.toolIndexByBlock.set(index, toolIndex);
    const call = { index: toolIndex, id: String(toolUse.toolUseId), type: 'function' as const, function: { name: String(toolUse.name), arguments: '' } };
    return [this.chunk({ tool_calls: [call] })];
  }

  private onBlockDelta(data: Data): ChatChunk[] {
    const index = Number(data.contentBlockIndex);
    const delta = isPlainObject(data.delta) ? data.delta : {};
    if (typeof delta.text === 'string') return delta.text === '' ? [] : [this.chunk({ content: delta.text })];
    if (isPlainObject(delta.toolUse)) return this.onToolInput(index, String(delta.toolUse.input ?? ''));
    // A reasoning delta carries text, or the signature (or redacted content) that seals the block for replay, which
    // the canonical shape has no field for.
    const reasoning = isPlainObject(delta.reasoningContent) ? delta.reasoningContent.text : undefined;
    if (typeof reasoning === 'string' && reasoning !== '') return [this.chunk({ reasoning_content: reasoning })];
    return [];
  }

  private onToolInput(index: number, partial: string): ChatChunk[] {
    if (partial === '') return [];
    if (this.jsonBlocks.has(index)) return [this.chunk({ content: partial })];
    const toolIndex = this.toolIndexByBlock.get(index);
    if (toolIndex === undefined) throw invalidUpstream(this.ctx.provider, `the stream sent tool input for block ${index}, which opened no tool call`);
    return [this.chunk({ tool_calls: [{ index: toolIndex, function: { arguments: partial } }] })];
  }

  private onMessageStop(data: Data): ChatChunk[] {
    this.stopped = true;
    const stopReason = typeof data.stopReason === 'string' ? data.stopReason : undefined;
    try {
      return [this.chunk({}, finishReason(stopReason, this.toolIndexByBlock.size > 0, this.ctx.provider))];
    } catch (err) {
      // A failed generation is still billed, and its usage comes in the metadata event that follows: raised there.
      if (!(err instanceof GatewayError)) throw err;
      this.failure = err;
      return [];
    }
  }

  private onMetadata(data: Data): ChatChunk[] {
    this.done = true;
    const usage = isPlainObject(data.usage) ? toUsage(data.usage as ConverseUsage) : undefined;
    if (this.failure) {
      this.failure.usage = usage;
      throw this.failure;
    }
    if (!this.ctx.includeUsage || !usage) return [];
    return [{ ...this.base(), choices: [], usage }];
  }

  private parse(event: StreamEvent): Data {
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      throw invalidUpstream(this.ctx.provider, `the stream sent a ${event.event ?? 'nameless'} event whose payload is not JSON`);
    }
    if (!isPlainObject(data)) throw invalidUpstream(this.ctx.provider, `the stream sent a ${event.event ?? 'nameless'} event whose payload is not an object`);
    return data;
  }

  private base(): Omit<ChatChunk, 'choices'> {
    return { id: this.ctx.id, object: 'chat.completion.chunk', created: this.ctx.created, model: this.ctx.model };
  }

  private chunk(delta: Delta, finish: FinishReason | null = null): ChatChunk {
    return { ...this.base(), choices: [{ index: 0, delta, finish_reason: finish }] };
  }
}
