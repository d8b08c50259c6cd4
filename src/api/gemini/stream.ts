// Canonical chunks → Gemini streamGenerateContent events, for streams from targets that do not speak the Gemini API.
// Each event is a whole GenerateContentResponse holding the next slice of each candidate. Gemini hands function calls
// over whole, never as partial arguments, so a call is held until its arguments are complete: when the next call
// begins or the candidate finishes. The finishing event is held too, until the usage arrives, because Gemini clients
// read usageMetadata from the last event.

import type { ChatChunk, ChunkChoice, Usage } from '../../core/types.ts';
import type { StreamEvent, StreamReader, StreamTranslator } from '../../providers/types.ts';
import { toolCallId } from '../../providers/shared.ts';
import type { SseEncoder } from '../../server/sse.ts';
import { geminiErrorBody } from './errors.ts';
import { finishReason, functionCallPart, logprobsResult, toUsageMetadata, type GeminiCandidate, type GeminiPart, type GenerateContentResponse } from './response.ts';

interface PendingCall {
  id: string;
  name: string;
  args: string;
}

export class GeminiChunkConverter {
  /** The usage the stream reported, once it did. */
  usage: Usage | undefined;
  /** Function calls still receiving arguments, by choice and then by tool-call index. */
  private readonly calls = new Map<number, Map<number, PendingCall>>();
  private held: GenerateContentResponse[] = [];
  private usageSent = false;
  private model = '';
  private id = '';

  constructor(private readonly includeThoughts: boolean) {}

  push(chunks: ChatChunk[]): GenerateContentResponse[] {
    const out: GenerateContentResponse[] = [];
    for (const chunk of chunks) {
      this.model = chunk.model;
      this.id = chunk.id;
      const candidates = chunk.choices.map((c) => this.candidate(c)).filter((c) => c !== undefined);
      if (candidates.length > 0) {
        out.push(...this.release(false));
        const response: GenerateContentResponse = { candidates, modelVersion: this.model, responseId: this.id };
        if (candidates.some((c) => c.finishReason)) this.held.push(response);
        else out.push(response);
      }
      if (chunk.usage) {
        this.usage = chunk.usage;
        out.push(...this.release(true));
      }
    }
    return out;
  }

  /** The end of the stream: whatever was held, with the usage if it has not gone out yet. */
  finish(): GenerateContentResponse[] {
    return this.release(true);
  }

  private release(withUsage: boolean): GenerateContentResponse[] {
    const out = this.held;
    this.held = [];
    if (withUsage && this.usage && !this.usageSent) {
      this.usageSent = true;
      const usageMetadata = toUsageMetadata(this.usage);
      const last = out.at(-1);
      if (last) last.usageMetadata = usageMetadata;
      else out.push({ candidates: [], usageMetadata, modelVersion: this.model, responseId: this.id });
    }
    return out;
  }

  private candidate(choice: ChunkChoice): GeminiCandidate | undefined {
    const { delta } = choice;
    let calls = this.calls.get(choice.index);
    if (!calls) this.calls.set(choice.index, (calls = new Map()));
    const parts: GeminiPart[] = [];
    if (this.includeThoughts && delta.reasoning_content) parts.push({ text: delta.reasoning_content, thought: true });
    if (delta.content) parts.push({ text: delta.content });
    for (const tc of delta.tool_calls ?? []) {
      let call = calls.get(tc.index);
      if (!call) {
        parts.push(...this.complete(calls, tc.index));
        call = { id: tc.id ?? toolCallId(), name: '', args: '' };
        calls.set(tc.index, call);
      }
      // The name comes whole with the call's first delta; a translator that repeats it must not double it.
      call.name ||= tc.function?.name ?? '';
      call.args += tc.function?.arguments ?? '';
    }
    const reason = finishReason(choice.finish_reason);
    if (reason) parts.push(...this.complete(calls, Infinity));
    if (parts.length === 0 && !reason) return undefined;
    const out: GeminiCandidate = { content: { role: 'model', parts }, index: choice.index };
    if (reason) out.finishReason = reason;
    const logprobs = logprobsResult(choice.logprobs);
    if (logprobs) out.logprobsResult = logprobs;
    return out;
  }

  /** The calls before tool-call index `before`, whose arguments are now complete, as parts; they leave the pending set. */
  private complete(calls: Map<number, PendingCall>, before: number): GeminiPart[] {
    const parts: GeminiPart[] = [];
    for (const [index, call] of [...calls].sort(([a], [b]) => a - b)) {
      if (index >= before) continue;
      calls.delete(index);
      parts.push(functionCallPart({ id: call.id, function: { name: call.name, arguments: call.args } }));
    }
    return parts;
  }
}

/** Reads a translated stream into Gemini events, so that native and translated targets give the writer the same items. */
export function translatedReader(translator: StreamTranslator, converter: GeminiChunkConverter): StreamReader<StreamEvent> {
  const events = (list: GenerateContentResponse[]): StreamEvent[] => list.map((r) => ({ data: JSON.stringify(r) }));
  return {
    event: (ev) => events(converter.push(translator.event(ev))),
    end: () => events([...converter.push(translator.end()), ...converter.finish()]),
    complete: () => translator.complete?.() ?? false,
    // Only events with something in them are made.
    substantive: () => true,
    usage: () => converter.usage,
  };
}

/** Google frames its events with CRLF pairs; clients accept either, and the same framing keeps native streams alike. */
export const geminiSseEncoder: SseEncoder<StreamEvent> = {
  encode(batch) {
    let text = '';
    for (const ev of batch) text += `data: ${ev.data}\r\n\r\n`;
    return text;
  },
  error: (err) => `data: ${JSON.stringify(geminiErrorBody(err))}\r\n\r\n`,
};
