// Cohere v2 wire format (api.cohere.com): POST /v2/chat (JSON, or server-sent events typed message-start …
// message-end when `stream` is true) and POST /v2/embed, keyed by a bearer token, errors as {"message": …}. Requests
// are checked as strictly as a translation needs: unknown fields, OpenAI spellings (top_p, stop, lower-case
// tool_choice), p outside 0.01–0.99, a tool result answering no earlier call, and embed calls without input_type.

import { nextId, pieces, textOf } from './scenario.ts';
import type { Conversation, Generation, JsonReply, Reply, Resolved, Route, RouteInput, WireFormat } from './types.ts';

const CHAT_FIELDS = new Set([
  'model', 'messages', 'stream', 'tools', 'strict_tools', 'documents', 'citation_options', 'response_format', 'safety_mode',
  'max_tokens', 'stop_sequences', 'temperature', 'seed', 'frequency_penalty', 'presence_penalty', 'k', 'p', 'logprobs',
  'tool_choice', 'thinking',
]);
const ROLES = new Set(['system', 'user', 'assistant', 'tool']);
const INPUT_TYPES = new Set(['search_document', 'search_query', 'classification', 'clustering', 'image']);
const FINISH_REASONS = { stop: 'COMPLETE', length: 'MAX_TOKENS', tool_calls: 'TOOL_CALL', content_filter: 'COMPLETE' } as const;
/** Tokens of the prompt template Cohere wraps around the messages: processed, but not billed. */
const TEMPLATE_TOKENS = 64;

function error(status: number, message: string): JsonReply {
  return { kind: 'json', status, body: { id: nextId('err-'), message } };
}

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const partText = (p: any): string | undefined => (p?.type === 'text' && typeof p.text === 'string' ? p.text : undefined);

/** Cohere's checks on a chat request; undefined when it passes. */
function check(body: any): JsonReply | undefined {
  if (!isObject(body) || typeof body.model !== 'string') return error(400, 'invalid request: model must be provided');
  for (const key of Object.keys(body)) if (!CHAT_FIELDS.has(key)) return error(400, `invalid request: unknown field: parameter ${key} is not a valid field`);
  if (!Array.isArray(body.messages) || body.messages.length === 0) return error(400, 'invalid request: messages must not be empty');
  if (body.tool_choice !== undefined && body.tool_choice !== 'REQUIRED' && body.tool_choice !== 'NONE') {
    return error(400, `invalid request: tool_choice must be one of REQUIRED, NONE; received ${JSON.stringify(body.tool_choice)}`);
  }
  if (body.p !== undefined && !(body.p >= 0.01 && body.p <= 0.99)) return error(400, 'invalid request: p must be between 0.01 and 0.99');
  const calls = new Set<string>();
  for (const [i, m] of (body.messages as any[]).entries()) {
    if (!ROLES.has(m?.role)) return error(400, `invalid request: messages[${i}]: invalid role ${JSON.stringify(m?.role)}`);
    if (m.role === 'system' && i > 0) return error(400, 'invalid request: system turn must be the first in the list');
    for (const call of m.role === 'assistant' && Array.isArray(m.tool_calls) ? m.tool_calls : []) calls.add(call?.id);
    if (m.role === 'tool' && !calls.has(m.tool_call_id)) {
      return error(400, `invalid request: messages[${i}]: tool_call_id ${JSON.stringify(m.tool_call_id)} does not match any tool call`);
    }
  }
  return undefined;
}

function conversation(body: Record<string, any>): Conversation {
  const messages: any[] = body.messages;
  let chars = 0;
  let lastUserText = '';
  for (const m of messages) {
    const t = textOf(m?.content, partText);
    chars += t.length;
    if (m?.role === 'user' && t !== '') lastUserText = t;
  }
  const tools: any[] = Array.isArray(body.tools) ? body.tools : [];
  return { chars, lastUserText, endsWithToolResult: messages.at(-1)?.role === 'tool', firstTool: tools[0]?.function?.name };
}

function usage(r: Resolved) {
  const { input, output, cached } = r.usage;
  return {
    billed_units: { input_tokens: input, output_tokens: output },
    tokens: { input_tokens: input + TEMPLATE_TOKENS, output_tokens: output },
    cached_tokens: cached,
  };
}

const toolCalls = (r: Resolved) =>
  r.toolCalls.map((tc) => ({ id: tc.id ?? nextId(`${tc.name}_`), type: 'function' as const, function: { name: tc.name, arguments: JSON.stringify(tc.arguments) } }));

/** Cohere plans tool calls in tool_plan and thinks elsewhere in thinking blocks; the scenario's reasoning goes to whichever applies. */
function chat(r: Resolved): Reply {
  const message: Record<string, unknown> = { role: 'assistant' };
  const content: unknown[] = [];
  if (r.reasoning !== '' && r.toolCalls.length === 0) content.push({ type: 'thinking', thinking: r.reasoning });
  if (r.text !== '') content.push({ type: 'text', text: r.text });
  if (content.length > 0) message.content = content;
  if (r.toolCalls.length > 0) {
    if (r.reasoning !== '') message.tool_plan = r.reasoning;
    message.tool_calls = toolCalls(r);
  }
  return { kind: 'json', status: 200, body: { id: nextId('chat-'), finish_reason: FINISH_REASONS[r.finish], message, usage: usage(r) } };
}

const event = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

function chatStream(r: Resolved): Reply {
  const events = [event('message-start', { id: nextId('chat-'), delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } } })];
  let index = 0;
  const block = (kind: 'thinking' | 'text', text: string) => {
    if (text === '') return;
    events.push(event('content-start', { index, delta: { message: { content: { type: kind, [kind]: '' } } } }));
    for (const p of pieces(text)) events.push(event('content-delta', { index, delta: { message: { content: { [kind]: p } } } }));
    events.push(event('content-end', { index }));
    index++;
  };
  if (r.toolCalls.length > 0) {
    for (const p of pieces(r.reasoning)) events.push(event('tool-plan-delta', { delta: { message: { tool_plan: p } } }));
  } else {
    block('thinking', r.reasoning);
  }
  block('text', r.text);
  toolCalls(r).forEach((tc, i) => {
    events.push(event('tool-call-start', { index: i, delta: { message: { tool_calls: { ...tc, function: { name: tc.function.name, arguments: '' } } } } }));
    for (const p of pieces(tc.function.arguments)) events.push(event('tool-call-delta', { index: i, delta: { message: { tool_calls: { function: { arguments: p } } } } }));
    events.push(event('tool-call-end', { index: i }));
  });
  events.push(event('message-end', { delta: { finish_reason: FINISH_REASONS[r.finish], usage: usage(r) } }));
  return { kind: 'sse', events };
}

function chatCall(body: any): Generation | JsonReply {
  const refused = check(body);
  if (refused) return refused;
  return { conversation: conversation(body), render: (r) => (body.stream === true ? chatStream(r) : chat(r)) };
}

function embedCall(body: any): Generation | JsonReply {
  if (!isObject(body) || typeof body.model !== 'string') return error(400, 'invalid request: model must be provided');
  if (!INPUT_TYPES.has(body.input_type)) return error(400, 'invalid request: valid input_type must be provided with the provided model');
  const texts: unknown = body.texts;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) return error(400, 'invalid request: texts must be a non-empty list of strings');
  if (body.embedding_types !== undefined && !(Array.isArray(body.embedding_types) && body.embedding_types.includes('float'))) {
    return error(400, 'invalid request: this fake only returns float embeddings');
  }
  return {
    conversation: { chars: texts.reduce((n: number, t: string) => n + t.length, 0), lastUserText: '', endsWithToolResult: false, embedInputs: texts },
    render: (r): Reply => ({
      kind: 'json',
      status: 200,
      body: {
        id: nextId('embed-'),
        embeddings: { float: r.embeddings },
        texts,
        meta: { api_version: { version: '2' }, billed_units: { input_tokens: r.usage.input } },
        response_type: 'embeddings_by_type',
      },
    }),
  };
}

function route({ method, path, headers }: RouteInput): Route {
  const handler = method !== 'POST' ? undefined : path === '/v2/chat' ? chatCall : path === '/v2/embed' ? embedCall : undefined;
  if (handler === undefined) return error(404, `Not Found: ${method} ${path}`);
  if (!/^Bearer ./i.test(String(headers.authorization ?? ''))) return error(401, 'no api key supplied');
  return handler;
}

export const cohere: WireFormat = { name: 'cohere', prefix: '/cohere', route, error };
