// Where Mistral's answers, whole or streamed, differ from OpenAI's: content as a list of chunks (reasoning models put a
// thinking chunk there), tool calls without `type` (and arguments that may be an object), and two finish reasons of its
// own. Each function returns its input unchanged when there is nothing to fix, so an answer that already is canonical
// keeps the bytes it came with (core/json-text).

import { upstreamError } from '../../core/errors.ts';
import type { ChatChoice, ChatChunk, ChatResponse, ChunkChoice, FinishReason } from '../../core/types.ts';

interface MistralChunk {
  type?: string;
  text?: string;
  thinking?: { type?: string; text?: string }[];
}

interface MistralToolCall {
  index?: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: unknown };
}

/** Text and thinking chunks as the answer's text and its reasoning; references and other chunk types carry neither. */
function splitChunks(chunks: MistralChunk[]): { text: string | null; reasoning: string } {
  let text: string | null = null;
  let reasoning = '';
  for (const chunk of chunks) {
    if (chunk.type === 'text') text = (text ?? '') + (chunk.text ?? '');
    else if (chunk.type === 'thinking') reasoning += (chunk.thinking ?? []).map((t) => (t.type === 'text' ? (t.text ?? '') : '')).join('');
  }
  return { text, reasoning };
}

function needsFix(call: MistralToolCall, streamed: boolean): boolean {
  const args = call.function?.arguments;
  return (call.type === undefined && (!streamed || call.id !== undefined)) || (streamed && call.index === undefined) || (args !== undefined && typeof args !== 'string');
}

/** Streamed continuation pieces carry neither id nor type, as in OpenAI; a call that opens (has an id) gets its type. */
function fixToolCall<T extends MistralToolCall>(call: T, position: number, streamed: boolean): T {
  const out: T = { ...call };
  if (streamed) out.index ??= position;
  if (call.type === undefined && (!streamed || call.id !== undefined)) out.type = 'function';
  const args = call.function?.arguments;
  if (args !== undefined && typeof args !== 'string') out.function = { ...call.function, arguments: JSON.stringify(args) };
  return out;
}

/**
 * model_length (the context window ran out) is a length stop. error ends a generation that failed, which a finish
 * reason cannot tell the client, so it is raised as an error.
 */
function finishReason(reason: string | null, provider: string): FinishReason | null {
  if (reason === 'model_length') return 'length';
  if (reason === 'error') throw upstreamError(provider, 502, 'the generation failed (finish_reason "error")', { code: 'generation_error' });
  return reason as FinishReason | null;
}

const isOwnFinish = (reason: string | null): boolean => reason === 'model_length' || reason === 'error';

export function fixResponse(res: ChatResponse, provider: string): ChatResponse {
  const needed = res.choices.some(
    (c) => Array.isArray(c.message.content) || (c.message.tool_calls as MistralToolCall[] | undefined)?.some((t) => needsFix(t, false)) || isOwnFinish(c.finish_reason),
  );
  return needed ? { ...res, choices: res.choices.map((c) => fixChoice(c, provider)) } : res;
}

function fixChoice(choice: ChatChoice, provider: string): ChatChoice {
  const message = { ...choice.message };
  if (Array.isArray(message.content)) {
    const { text, reasoning } = splitChunks(message.content as MistralChunk[]);
    message.content = text;
    if (reasoning) message.reasoning_content = reasoning;
  }
  if (message.tool_calls) message.tool_calls = message.tool_calls.map((call, i) => fixToolCall(call, i, false));
  return { ...choice, message, finish_reason: finishReason(choice.finish_reason, provider) };
}

export function fixChunk(chunk: ChatChunk, provider: string): ChatChunk {
  const needed = chunk.choices?.some(
    (c) => Array.isArray(c.delta?.content) || (c.delta?.tool_calls as MistralToolCall[] | undefined)?.some((t) => needsFix(t, true)) || isOwnFinish(c.finish_reason),
  );
  return needed ? { ...chunk, choices: chunk.choices.map((c) => fixChunkChoice(c, provider)) } : chunk;
}

function fixChunkChoice(choice: ChunkChoice, provider: string): ChunkChoice {
  const delta = { ...choice.delta };
  if (Array.isArray(delta.content)) {
    const { text, reasoning } = splitChunks(delta.content as MistralChunk[]);
    if (text === null) delete delta.content;
    else delta.content = text;
    if (reasoning) delta.reasoning_content = reasoning;
  }
  if (delta.tool_calls) delta.tool_calls = delta.tool_calls.map((call, i) => fixToolCall(call, i, true));
  return { ...choice, delta, finish_reason: finishReason(choice.finish_reason, provider) };
}
