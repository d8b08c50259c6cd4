// The few values a canonical chat request must change to be valid Mistral. Field names are handled by the OpenAI
// adapter's renames; this is what a rename cannot do.

import { createHash } from 'node:crypto';
import type { ChatMessage, ChatRequest } from '../../core/types.ts';

const MISTRAL_TOOL_CALL_ID = /^[a-zA-Z0-9]{9}$/;
const ALPHANUMERIC = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * Mistral refuses a conversation whose tool-call ids are not exactly 9 letters and digits, so ids minted by other
 * providers (call_…, toolu_…) in the history are replaced. The replacement is a hash of the id, so an assistant's call
 * and the tool message answering it, which carry the same id, still match, in this request and in every later one.
 */
export function mistralToolCallId(id: string): string {
  if (MISTRAL_TOOL_CALL_ID.test(id)) return id;
  const digest = createHash('sha256').update(id).digest();
  let out = '';
  for (let i = 0; i < 9; i++) out += ALPHANUMERIC[digest[i]! % ALPHANUMERIC.length];
  return out;
}

export function toMistralRequest(req: ChatRequest): object {
  const out: Record<string, unknown> = { ...req, messages: req.messages.map(toMistralMessage) };
  // 'any' is Mistral's name for OpenAI's 'required'; newer versions of its API take both, 'any' works on all of them.
  if (req.tool_choice === 'required') out.tool_choice = 'any';
  return out;
}

/**
 * Mistral validates messages strictly and has no reasoning_content field: reasoning the client kept goes back the way
 * Mistral's reasoning models produced it, as a thinking chunk ahead of the answer's text.
 */
function toMistralMessage(msg: ChatMessage): object {
  // Mistral has no developer role; OpenAI introduced it as the system role for reasoning models.
  if (msg.role === 'developer') return { ...msg, role: 'system' };
  if (msg.role === 'tool' && msg.tool_call_id !== undefined) return { ...msg, tool_call_id: mistralToolCallId(msg.tool_call_id) };
  if (msg.role !== 'assistant' || (!msg.tool_calls?.length && msg.reasoning_content === undefined)) return msg;
  const { reasoning_content: reasoning, ...out } = msg;
  if (msg.tool_calls?.length) out.tool_calls = msg.tool_calls.map((call) => ({ ...call, id: mistralToolCallId(call.id) }));
  if (!reasoning) return out;
  const answer = typeof msg.content === 'string' ? (msg.content === '' ? [] : [{ type: 'text', text: msg.content }]) : (msg.content ?? []);
  return { ...out, content: [{ type: 'thinking', thinking: [{ type: 'text', text: reasoning }] }, ...answer] };
}
