// Cohere v2 chat stream (server-sent events typed message-start … message-end) → OpenAI chat.completion.chunk. Text,
// thinking and the tool plan arrive as deltas of their own event types; tool calls open with tool-call-start (id and
// name) and grow by tool-call-delta (argument pieces), numbered by Cohere's own index, which is mapped to OpenAI's.

import { badUpstreamResponse, billedEvenIfFailed, streamInterrupted } from '../../core/errors.ts';
import type { ChatChunk, ChunkChoice, FinishReason, Usage } from '../../core/types.ts';
import { toolCallId } from '../shared.ts';
import type { StreamContext, StreamEvent, StreamTranslator } from '../types.ts';
import { finishReason, toUsage, type CohereToolCall, type CohereUsage } from './chat.ts';

interface CohereStreamEvent {
  type?: string;
  index?: number;
  delta?: {
    message?: {
      content?: { text?: string; thinking?: string };
      tool_plan?: string;
      tool_calls?: CohereToolCall;
    };
    finish_reason?: string;
    error?: string;
    usage?: CohereUsage;
  };
}

export function createCohereStreamTranslator(ctx: StreamContext): StreamTranslator {
  return new CohereStreamTranslator(ctx);
}

class CohereStreamTranslator implements StreamTranslator {
  /** Cohere's tool-call index → OpenAI's running tool-call index. */
  private readonly toolIndex = new Map<number, number>();
  private ended = false;

  constructor(private readonly ctx: StreamContext) {}

  event(event: StreamEvent): ChatChunk[] {
    const data = parse(event.data, this.ctx.provider);
    const message = data.delta?.message;
    switch (data.type ?? event.event) {
      case 'message-start':
        return [this.chunk({ role: 'assistant', content: '' })];
      case 'content-start':
      case 'content-delta':
        return this.content(message?.content);
      case 'tool-plan-delta':
        return message?.tool_plan ? [this.chunk({ reasoning_content: message.tool_plan })] : [];
      case 'tool-call-start':
        return this.toolCallStart(data.index, message?.tool_calls);
      case 'tool-call-delta':
        return this.toolCallDelta(data.index, message?.tool_calls);
      case 'message-end':
        return this.messageEnd(data.delta);
      default:
        // content-end, tool-call-end, citation events and event types Cohere may add carry nothing for the client.
        return [];
    }
  }

  end(): ChatChunk[] {
    if (!this.ended) {
      throw streamInterrupted(this.ctx.provider, 'message-end');
    }
    return [];
  }

  complete(): boolean {
    return this.ended;
  }

  private content(content: { text?: string; thinking?: string } | undefined): ChatChunk[] {
    const chunks: ChatChunk[] = [];
    if (content?.thinking) chunks.push(this.chunk({ reasoning_content: content.thinking }));
    if (content?.text) chunks.push(this.chunk({ content: content.text }));
    return chunks;
  }

  private toolCallStart(index: number | undefined, call: CohereToolCall | undefined): ChatChunk[] {
    const openaiIndex = this.toolIndex.size;
    this.toolIndex.set(index ?? openaiIndex, openaiIndex);
    const id = call?.id ?? toolCallId();
    const fn = { name: call?.function?.name ?? '', arguments: call?.function?.arguments ?? '' };
    return [this.chunk({ tool_calls: [{ index: openaiIndex, id, type: 'function', function: fn }] })];
  }

  private toolCallDelta(index: number | undefined, call: CohereToolCall | undefined): ChatChunk[] {
    const args = call?.function?.arguments;
    const openaiIndex = this.toolIndex.get(index ?? this.toolIndex.size - 1);
    if (!args || openaiIndex === undefined) return [];
    return [this.chunk({ tool_calls: [{ index: openaiIndex, function: { arguments: args } }] })];
  }

  private messageEnd(delta: CohereStreamEvent['delta']): ChatChunk[] {
    this.ended = true;
    const usage = delta?.usage ? toUsage(delta.usage) : undefined;
    const finish = billedEvenIfFailed(usage, () => finishReason(delta?.finish_reason, this.toolIndex.size > 0, delta?.error, this.ctx.provider));
    const chunks = [this.chunk({}, finish)];
    if (this.ctx.includeUsage && usage) chunks.push(this.usageChunk(usage));
    return chunks;
  }

  private chunk(delta: ChunkChoice['delta'], finish: FinishReason | null = null): ChatChunk {
    return { ...this.base(), choices: [{ index: 0, delta, finish_reason: finish }] };
  }

  private usageChunk(usage: Usage): ChatChunk {
    return { ...this.base(), choices: [], usage };
  }

  private base(): Omit<ChatChunk, 'choices'> {
    return { id: this.ctx.id, object: 'chat.completion.chunk', created: this.ctx.created, model: this.ctx.model };
  }
}

function parse(data: string, provider: string): CohereStreamEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw badUpstreamResponse(`${provider}: a stream event is not JSON: ${data.slice(0, 200)}`, provider);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badUpstreamResponse(`${provider}: a stream event is not a JSON object`, provider);
  }
  return parsed as CohereStreamEvent;
}
