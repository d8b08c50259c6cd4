// Mistral wire format (api.mistral.ai/v1): the OpenAI one (rendered by openai.ts) behind Mistral's stricter checks and
// with Mistral's own answer shapes. Checks: unknown fields, at the top level or in a message, are a 422 ("Extra inputs
// are not permitted"); tool_choice takes 'auto', 'none' and 'any' (not 'required'); tool-call ids in the history must be
// 9 letters and digits. Answers: tool-call ids of 9 letters and digits and no `type`; reasoning as a thinking chunk in
// a content list; usage only as the three counts, on the finish chunk of a stream (Mistral has no stream_options).

import { openai } from './openai.ts';
import type { Generation, JsonReply, Reply, Resolved, Route, RouteInput, WireFormat } from './types.ts';

const CHAT_FIELDS = new Set([
  'model', 'messages', 'temperature', 'top_p', 'max_tokens', 'stream', 'stop', 'random_seed', 'response_format', 'tools',
  'tool_choice', 'presence_penalty', 'frequency_penalty', 'n', 'prediction', 'parallel_tool_calls', 'safe_prompt',
  'prompt_mode', 'reasoning_effort',
]);
const MESSAGE_FIELDS: Record<string, Set<string>> = {
  system: new Set(['role', 'content']),
  user: new Set(['role', 'content']),
  assistant: new Set(['role', 'content', 'tool_calls', 'prefix']),
  tool: new Set(['role', 'content', 'tool_call_id', 'name']),
};
const TOOL_CHOICES = new Set(['auto', 'none', 'any']);
const TOOL_CALL_ID = /^[a-zA-Z0-9]{9}$/;
const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function error(status: number, message: unknown, type = status === 429 ? 'rate_limited' : status >= 500 ? 'internal_server_error' : 'invalid_request_error', code: string | null = null): JsonReply {
  return { kind: 'json', status, body: { object: 'error', message, type, param: null, code } };
}

function invalid(loc: (string | number)[], type: string, msg: string, input: unknown): JsonReply {
  return error(422, { detail: [{ type, loc: ['body', ...loc], msg, input }] }, 'invalid_request_message_error');
}

function badToolCallId(id: unknown): JsonReply {
  return error(400, `Tool call id was ${String(id)} but must be a-z, A-Z, 0-9, with a length of 9.`, 'invalid_function_call', '3280');
}

/** Mistral's checks on a chat request; undefined when it passes. */
function check(body: any): JsonReply | undefined {
  if (typeof body !== 'object' || body === null) return invalid([], 'model_attributes_type', 'Input should be a valid dictionary or object', body);
  for (const key of Object.keys(body)) {
    if (!CHAT_FIELDS.has(key)) return invalid([key], 'extra_forbidden', 'Extra inputs are not permitted', body[key]);
  }
  if (body.tool_choice !== undefined && typeof body.tool_choice === 'string' && !TOOL_CHOICES.has(body.tool_choice)) {
    return invalid(['tool_choice'], 'enum', "Input should be 'auto', 'none' or 'any'", body.tool_choice);
  }
  const messages: any[] = Array.isArray(body.messages) ? body.messages : [];
  for (const [i, m] of messages.entries()) {
    const allowed = MESSAGE_FIELDS[m?.role];
    if (allowed === undefined) return invalid(['messages', i, 'role'], 'union_tag_invalid', "Input tag does not match any of the expected tags: 'system', 'user', 'assistant', 'tool'", m?.role);
    for (const key of Object.keys(m)) {
      if (!allowed.has(key)) return invalid(['messages', i, m.role, key], 'extra_forbidden', 'Extra inputs are not permitted', m[key]);
    }
    for (const call of m.role === 'assistant' && Array.isArray(m.tool_calls) ? m.tool_calls : []) {
      if (!TOOL_CALL_ID.test(call?.id)) return badToolCallId(call?.id);
    }
    if (m.role === 'tool' && !TOOL_CALL_ID.test(m.tool_call_id)) return badToolCallId(m.tool_call_id);
  }
  return undefined;
}

function mistralId(): string {
  let id = '';
  for (let i = 0; i < 9; i++) id += ALPHANUMERIC[Math.floor(Math.random() * ALPHANUMERIC.length)];
  return id;
}

const usage = (r: Resolved) => ({ prompt_tokens: r.usage.input, completion_tokens: r.usage.output, total_tokens: r.usage.input + r.usage.output });
const thinking = (text: string) => ({ type: 'thinking', thinking: [{ type: 'text', text }] });

/** Rewrites OpenAI tool calls the Mistral way: its own ids (kept when scripted in its format), no `type`. */
function toolCalls(calls: any[] | undefined, ids: Map<string, string>): any[] | undefined {
  return calls?.map(({ type: _type, ...call }) => {
    if (call.id === undefined) return call;
    if (!ids.has(call.id)) ids.set(call.id, TOOL_CALL_ID.test(call.id) ? call.id : mistralId());
    return { ...call, id: ids.get(call.id) };
  });
}

function mistralMessage(message: any, ids: Map<string, string>): any {
  const { refusal: _refusal, reasoning_content: reasoning, ...out } = message;
  if (out.tool_calls) out.tool_calls = toolCalls(out.tool_calls, ids);
  if (reasoning) out.content = [thinking(reasoning), ...(out.content ? [{ type: 'text', text: out.content }] : [])];
  return out;
}

function mistralChunk(chunk: any, ids: Map<string, string>, r: Resolved): any {
  const { usage: _usage, system_fingerprint: _fp, ...out } = chunk;
  out.choices = chunk.choices.map(({ logprobs: _logprobs, ...choice }: any) => {
    const { reasoning_content: reasoning, refusal: _refusal, ...delta } = choice.delta;
    if (delta.tool_calls) delta.tool_calls = toolCalls(delta.tool_calls, ids);
    if (reasoning) delta.content = [thinking(reasoning)];
    return { ...choice, delta };
  });
  if (chunk.choices.some((c: any) => c.finish_reason)) out.usage = usage(r);
  return out;
}

function mistralize(reply: Reply, r: Resolved): Reply {
  const ids = new Map<string, string>();
  if (reply.kind === 'sse') {
    return {
      kind: 'sse',
      events: reply.events.map((e) => {
        const data = e.slice('data: '.length).trimEnd();
        return data === '[DONE]' ? e : `data: ${JSON.stringify(mistralChunk(JSON.parse(data), ids, r))}\n\n`;
      }),
    };
  }
  if (reply.kind !== 'json' || reply.status !== 200) return reply;
  const body = reply.body as { choices?: any[]; usage?: unknown };
  if (!Array.isArray(body.choices)) return reply;
  const { service_tier: _tier, system_fingerprint: _fp, ...rest } = body as Record<string, unknown>;
  return {
    ...reply,
    body: { ...rest, choices: body.choices.map(({ logprobs: _l, ...c }) => ({ ...c, message: mistralMessage(c.message, ids) })), usage: usage(r) },
  };
}

function header(headers: RouteInput['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function route(req: RouteInput): Route {
  const inner = openai.route(req);
  if (typeof inner !== 'function') return inner.status === 404 ? error(404, 'Not Found') : inner;
  if (!/^Bearer ./.test(header(req.headers, 'authorization') ?? '')) return error(401, 'Unauthorized');
  if (req.path !== '/chat/completions') return inner;
  return (body: any): Generation | JsonReply => {
    const refused = check(body);
    if (refused) return refused;
    const call = inner(body);
    if (!('render' in call)) return call;
    return { conversation: call.conversation, render: (r: Resolved) => mistralize(call.render(r), r) };
  };
}

export const mistral: WireFormat = { name: 'mistral', prefix: '/mistral/v1', route, error };
