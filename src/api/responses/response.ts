// Canonical (chat completions) answer -> OpenAI Responses object, for targets that do not serve the Responses API
// natively. The pieces (output items, usage, the request settings a response echoes) are shared with the stream
// encoder, so a streamed answer ends with exactly the object a whole one would have been.

import type { ChatResponse, FinishReason, Usage } from '../../core/types.ts';
import type { ResponsesRequest } from './request.ts';

type Obj = Record<string, unknown>;

// Ids only need to be unique: a random stem per process and a counter are as good as a UUID each, and cheaper.
const STEM = crypto.randomUUID().replaceAll('-', '').slice(0, 16);
let counter = 0;

/** resp_, msg_, rs_ and fc_ ids, the prefixes OpenAI's own objects carry. */
export function newId(prefix: 'resp' | 'msg' | 'rs' | 'fc'): string {
  return `${prefix}_${STEM}${(++counter).toString(36)}`;
}

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export function responsesUsage(u: Usage): ResponsesUsage {
  return {
    input_tokens: u.prompt_tokens,
    input_tokens_details: { cached_tokens: u.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: u.completion_tokens,
    output_tokens_details: { reasoning_tokens: u.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: u.total_tokens,
  };
}

/** Why an answer stopped short, in the Responses naming; undefined for one that is complete. */
export function incompleteReason(finish: FinishReason | null | undefined): 'max_output_tokens' | 'content_filter' | undefined {
  if (finish === 'length') return 'max_output_tokens';
  if (finish === 'content_filter') return 'content_filter';
  return undefined;
}

export function outputText(text: string): Obj {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

export function messageItem(id: string, text: string, status: 'in_progress' | 'completed' | 'incomplete'): Obj {
  return { id, type: 'message', status, role: 'assistant', content: status === 'in_progress' ? [] : [outputText(text)] };
}

export function reasoningItem(id: string, text: string | undefined): Obj {
  return { id, type: 'reasoning', summary: text === undefined ? [] : [{ type: 'summary_text', text }] };
}

export function functionCallItem(id: string, callId: string, name: string, args: string, status: 'in_progress' | 'completed'): Obj {
  return { id, type: 'function_call', status, arguments: args, call_id: callId, name };
}

/**
 * The request's settings as a response repeats them, with OpenAI's defaults for those not sent. A translated
 * response is never stored, so `store` is false whatever was asked (a request asking to store it was refused).
 */
export function responseEcho(req: ResponsesRequest): Obj {
  return {
    background: false,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    metadata: req.metadata ?? {},
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: req.reasoning?.effort ?? null, summary: req.reasoning?.summary ?? null },
    store: false,
    temperature: req.temperature ?? null,
    text: { format: req.text?.format ?? { type: 'text' } },
    tool_choice: req.tool_choice ?? 'auto',
    tools: req.tools ?? [],
    top_p: req.top_p ?? null,
    truncation: req.truncation ?? 'disabled',
    user: req.user ?? null,
  };
}

export interface ResponseState {
  id: string;
  createdAt: number;
  model: string;
  echo: Obj;
  status: 'in_progress' | 'completed' | 'incomplete';
  finish?: FinishReason | null | undefined;
  output: Obj[];
  usage?: Usage | null | undefined;
}

export function responseObject(s: ResponseState): Obj {
  const reason = s.status === 'incomplete' ? incompleteReason(s.finish) : undefined;
  return {
    id: s.id,
    object: 'response',
    created_at: s.createdAt,
    status: s.status,
    error: null,
    incomplete_details: reason ? { reason } : null,
    model: s.model,
    output: s.output,
    ...s.echo,
    usage: s.usage ? responsesUsage(s.usage) : null,
  };
}

export function toResponsesResponse(res: ChatResponse, echo: Obj): Obj {
  const choice = res.choices[0];
  const message = choice?.message;
  const incomplete = incompleteReason(choice?.finish_reason) !== undefined;
  const output: Obj[] = [];
  if (message?.reasoning_content) output.push(reasoningItem(newId('rs'), message.reasoning_content));
  const text = typeof message?.content === 'string' ? message.content : '';
  const calls = message?.tool_calls ?? [];
  // An answer with nothing in it still gets its (empty) message, so a client reading output_text finds one.
  if (text !== '' || calls.length === 0) output.push(messageItem(newId('msg'), text, incomplete ? 'incomplete' : 'completed'));
  for (const call of calls) output.push(functionCallItem(newId('fc'), call.id, call.function.name, call.function.arguments, 'completed'));
  return responseObject({
    id: newId('resp'),
    createdAt: res.created,
    model: res.model,
    echo,
    status: incomplete ? 'incomplete' : 'completed',
    finish: choice?.finish_reason,
    output,
    usage: res.usage,
  });
}
