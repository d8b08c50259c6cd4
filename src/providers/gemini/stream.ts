// Gemini streamGenerateContent?alt=sse → OpenAI chat.completion.chunk. Every SSE data payload is a whole
// GenerateContentResponse holding the next slice of each candidate, so the work is bookkeeping: the role chunk once,
// tool-call indexes, one finish per choice, and the last (cumulative) usageMetadata for the closing usage chunk.

import type { ChatChunk, ChunkChoice, Usage } from '../../core/types.ts';
import type { StreamContext, StreamEvent, StreamTranslator } from '../types.ts';
import {
  asResponse,
  badUpstream,
  finishReason,
  geminiError,
  readPart,
  streamInterrupted,
  toLogprobs,
  toUsage,
  type GeminiCandidate,
  type GenerateContentResponse,
} from './chat.ts';

interface ChoiceState {
  toolCalls: number;
  finished: boolean;
}

export function createGeminiStreamTranslator(ctx: StreamContext): StreamTranslator {
  return new GeminiStreamTranslator(ctx);
}

class GeminiStreamTranslator implements StreamTranslator {
  private readonly choices = new Map<number, ChoiceState>();
  private usage: Usage | undefined;
  private model: string;

  constructor(private readonly ctx: StreamContext) {
    this.model = ctx.model;
  }

  event(event: StreamEvent): ChatChunk[] {
    const payload = parsePayload(event.data);
    if (!payload) return [];
    // An error inside a 200 stream carries its HTTP status in `code`; without one it can only be a bad gateway.
    if (payload.error) throw geminiError(this.ctx.provider, payload.error.code ?? 502, payload.error, undefined);
    if (payload.modelVersion) this.model = payload.modelVersion;
    if (payload.usageMetadata) this.usage = toUsage(payload.usageMetadata);
    if (payload.candidates?.length) return payload.candidates.flatMap((c, pos) => this.candidate(c, c.index ?? pos));
    return payload.promptFeedback?.blockReason ? this.blockedPrompt() : [];
  }

  end(): ChatChunk[] {
    const states = [...this.choices.values()];
    if (states.length === 0 || states.some((s) => !s.finished)) throw streamInterrupted(this.ctx.provider);
    if (!this.ctx.includeUsage || !this.usage) return [];
    return [{ ...this.envelope([]), usage: this.usage }];
  }

  private candidate(candidate: GeminiCandidate, index: number): ChatChunk[] {
    const { state, chunks } = this.open(index);
    let logprobs = candidate.logprobsResult && toLogprobs(candidate.logprobsResult);
    for (const part of candidate.content?.parts ?? []) {
      const read = readPart(part);
      if (read?.kind === 'tool_call') {
        const { id, type, function: fn } = read.call;
        chunks.push(this.chunk(index, { tool_calls: [{ index: state.toolCalls++, id, type, function: fn }] }));
      } else if (read?.kind === 'reasoning' && read.text) {
        chunks.push(this.chunk(index, { reasoning_content: read.text }));
      } else if (read?.kind === 'text' && read.text) {
        // A payload's logprobs cover its generated text, so they ride on its first text delta.
        chunks.push(this.chunk(index, { content: read.text }, null, logprobs));
        logprobs = undefined;
      }
    }
    if (candidate.finishReason && !state.finished) {
      state.finished = true;
      chunks.push(this.chunk(index, {}, finishReason(candidate.finishReason, state.toolCalls > 0)));
    }
    return chunks;
  }

  /** See parseChatBody: a refused prompt ends the one choice with content_filter, streamed or not. */
  private blockedPrompt(): ChatChunk[] {
    const { state, chunks } = this.open(0);
    if (!state.finished) {
      state.finished = true;
      chunks.push(this.chunk(0, {}, 'content_filter'));
    }
    return chunks;
  }

  /** The state of a choice, and the role chunk that must open it when this is its first appearance. */
  private open(index: number): { state: ChoiceState; chunks: ChatChunk[] } {
    const existing = this.choices.get(index);
    if (existing) return { state: existing, chunks: [] };
    const state: ChoiceState = { toolCalls: 0, finished: false };
    this.choices.set(index, state);
    return { state, chunks: [this.chunk(index, { role: 'assistant', content: '' })] };
  }

  private chunk(index: number, delta: ChunkChoice['delta'], finish: ChunkChoice['finish_reason'] = null, logprobs?: unknown): ChatChunk {
    const choice: ChunkChoice = { index, delta, finish_reason: finish };
    if (logprobs !== undefined) choice.logprobs = logprobs;
    return this.envelope([choice]);
  }

  private envelope(choices: ChunkChoice[]): ChatChunk {
    return { id: this.ctx.id, object: 'chat.completion.chunk', created: this.ctx.created, model: this.model, choices };
  }
}

function parsePayload(data: string): GenerateContentResponse | undefined {
  if (data.trim() === '') return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(data);
  } catch {
    throw badUpstream(`a stream event is not JSON: ${data.slice(0, 200)}`);
  }
  return asResponse(payload);
}
