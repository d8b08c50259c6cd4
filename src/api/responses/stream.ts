// Canonical chunks -> OpenAI Responses stream events. The Responses stream is a sequence of output items, each added,
// filled with deltas and marked done, and every event is numbered (sequence_number) from 0. Chat chunks interleave
// reasoning, text and tool calls freely, so the encoder opens a new item whenever the kind changes. A function call
// stays open until the answer finishes, since the chat format may interleave the argument pieces of parallel calls;
// the final usage arrives after the finish chunk, so response.completed waits for the end of the stream.

import type { GatewayError } from '../../core/errors.ts';
import type { ChatChunk, FinishReason, ToolCallDelta, Usage } from '../../core/types.ts';
import type { StreamEvent } from '../../providers/types.ts';
import type { SseEncoder } from '../../server/sse.ts';
import { toolCallId } from '../../providers/shared.ts';
import { functionCallItem, incompleteReason, messageItem, newId, outputText, reasoningItem, responseObject, type ResponseState } from './response.ts';

type Obj = Record<string, unknown>;

/** The reasoning or message item being written, with its text so far. */
interface OpenText {
  kind: 'reasoning' | 'message';
  index: number;
  id: string;
  text: string;
}

interface OpenCall {
  index: number;
  id: string;
  callId: string;
  name: string;
  args: string;
}

/** Numbers the events of one stream; the error event that may end it takes the next number. */
class Sequence {
  private next = 0;

  event(type: string, data: Obj): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.next++, ...data })}\n\n`;
  }

  /** The documented in-stream error: code, message and param at the top level, no HTTP status. */
  error(err: GatewayError): string {
    return this.event('error', { code: err.code, message: err.message, param: err.param });
  }

  /** Counts events written by someone else (a native passthrough), so an error still gets the next number. */
  skip(): void {
    this.next++;
  }
}

export class ResponsesStreamEncoder implements SseEncoder<ChatChunk> {
  private readonly seq = new Sequence();
  private state: ResponseState | undefined;
  private text: OpenText | undefined;
  /** Open function calls by their index in the chat stream. */
  private readonly calls = new Map<number, OpenCall>();
  private finish: FinishReason | null = null;
  private usage: Usage | undefined;

  constructor(private readonly echo: Obj) {}

  encode(batch: ChatChunk[], last: boolean): string {
    let out = '';
    for (const chunk of batch) out += this.chunk(chunk);
    if (last) out += this.end();
    return out;
  }

  error(err: GatewayError): string {
    return this.seq.error(err);
  }

  private chunk(chunk: ChatChunk): string {
    let out = this.start(chunk.model, chunk.created);
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) return out;
    const delta = choice.delta;
    if (delta.reasoning_content) out += this.textDelta('reasoning', delta.reasoning_content);
    if (delta.content) out += this.textDelta('message', delta.content);
    for (const call of delta.tool_calls ?? []) out += this.callDelta(call);
    if (choice.finish_reason) {
      this.finish = choice.finish_reason;
      out += this.closeAll();
    }
    return out;
  }

  private start(model: string, created: number): string {
    if (this.state) return '';
    this.state = { id: newId('resp'), createdAt: created, model, echo: this.echo, status: 'in_progress', output: [] };
    const response = responseObject(this.state);
    return this.seq.event('response.created', { response }) + this.seq.event('response.in_progress', { response });
  }

  private addItem(item: Obj): { index: number; out: string } {
    const output = this.state!.output;
    const index = output.length;
    output.push(item);
    return { index, out: this.seq.event('response.output_item.added', { output_index: index, item }) };
  }

  private textDelta(kind: OpenText['kind'], delta: string): string {
    const out = this.text?.kind === kind ? '' : this.openText(kind);
    const open = this.text!;
    open.text += delta;
    const at = { item_id: open.id, output_index: open.index };
    return (
      out +
      (kind === 'reasoning'
        ? this.seq.event('response.reasoning_summary_text.delta', { ...at, summary_index: 0, delta })
        : this.seq.event('response.output_text.delta', { ...at, content_index: 0, delta, logprobs: [] }))
    );
  }

  private openText(kind: OpenText['kind']): string {
    const out = this.closeText();
    const id = newId(kind === 'reasoning' ? 'rs' : 'msg');
    const added = this.addItem(kind === 'reasoning' ? reasoningItem(id, undefined) : messageItem(id, '', 'in_progress'));
    this.text = { kind, index: added.index, id, text: '' };
    const at = { item_id: id, output_index: added.index };
    return (
      out +
      added.out +
      (kind === 'reasoning'
        ? this.seq.event('response.reasoning_summary_part.added', { ...at, summary_index: 0, part: { type: 'summary_text', text: '' } })
        : this.seq.event('response.content_part.added', { ...at, content_index: 0, part: outputText('') }))
    );
  }

  private closeText(): string {
    const open = this.text;
    if (!open) return '';
    this.text = undefined;
    const at = { item_id: open.id, output_index: open.index };
    let out: string;
    let item: Obj;
    if (open.kind === 'reasoning') {
      const part = { type: 'summary_text', text: open.text };
      out =
        this.seq.event('response.reasoning_summary_text.done', { ...at, summary_index: 0, text: open.text }) +
        this.seq.event('response.reasoning_summary_part.done', { ...at, summary_index: 0, part });
      item = reasoningItem(open.id, open.text);
    } else {
      out =
        this.seq.event('response.output_text.done', { ...at, content_index: 0, text: open.text, logprobs: [] }) +
        this.seq.event('response.content_part.done', { ...at, content_index: 0, part: outputText(open.text) });
      item = messageItem(open.id, open.text, incompleteReason(this.finish) ? 'incomplete' : 'completed');
    }
    return out + this.itemDone(open.index, item);
  }

  private callDelta(delta: ToolCallDelta): string {
    let out = '';
    let call = this.calls.get(delta.index);
    if (!call) {
      // The model moved on from text to tools: what it wrote so far is done.
      out += this.closeText();
      const id = newId('fc');
      const callId = delta.id ?? toolCallId();
      const name = delta.function?.name ?? '';
      const added = this.addItem(functionCallItem(id, callId, name, '', 'in_progress'));
      call = { index: added.index, id, callId, name, args: '' };
      this.calls.set(delta.index, call);
      out += added.out;
    }
    const args = delta.function?.arguments;
    if (!args) return out;
    call.args += args;
    return out + this.seq.event('response.function_call_arguments.delta', { item_id: call.id, output_index: call.index, delta: args });
  }

  /**
   * Closes every open item, in output order. An answer with nothing in it still gets its (empty) message, as a whole
   * response does, so a client reading the output text finds one.
   */
  private closeAll(): string {
    let out = this.state!.output.length === 0 ? this.openText('message') : '';
    out += this.closeText();
    for (const call of [...this.calls.values()].sort((a, b) => a.index - b.index)) {
      out += this.seq.event('response.function_call_arguments.done', { item_id: call.id, output_index: call.index, name: call.name, arguments: call.args });
      out += this.itemDone(call.index, functionCallItem(call.id, call.callId, call.name, call.args, 'completed'));
    }
    this.calls.clear();
    return out;
  }

  private itemDone(index: number, item: Obj): string {
    this.state!.output[index] = item;
    return this.seq.event('response.output_item.done', { output_index: index, item });
  }

  /** response.completed, or response.incomplete for an answer cut by its token limit or a content filter. */
  private end(): string {
    if (!this.state) return '';
    const out = this.closeAll();
    const incomplete = incompleteReason(this.finish) !== undefined;
    const state: ResponseState = { ...this.state, status: incomplete ? 'incomplete' : 'completed', finish: this.finish, usage: this.usage };
    return out + this.seq.event(incomplete ? 'response.incomplete' : 'response.completed', { response: responseObject(state) });
  }
}

/**
 * A native passthrough: OpenAI's own events, as they came. They are counted so that an error ending the stream
 * carries the next sequence number.
 */
export function responsesEventEncoder(): SseEncoder<StreamEvent> {
  const seq = new Sequence();
  return {
    encode(batch) {
      let out = '';
      for (const ev of batch) {
        seq.skip();
        out += ev.event ? `event: ${ev.event}\ndata: ${ev.data}\n\n` : `data: ${ev.data}\n\n`;
      }
      return out;
    },
    error: (err) => seq.error(err),
  };
}
