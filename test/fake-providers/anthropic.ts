// Anthropic wire format (api.anthropic.com): POST /v1/messages as a message JSON or the real SSE event sequence, with
// the header and field checks the real API makes, so a gateway that forgets them fails here as it would in production.

import { nextId, pieces, textOf } from './scenario.ts';
import type { Conversation, Generation, JsonReply, Reply, Resolved, Route, RouteInput, WireFormat } from './types.ts';

// Thinking blocks must round-trip with their signature; the value itself is opaque to clients.
const SIGNATURE = Buffer.from('fake-providers thinking signature').toString('base64');

const STOP_REASONS = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'refusal' } as const;

function errorType(status: number): string {
  switch (status) {
    case 400: return 'invalid_request_error';
    case 401: return 'authentication_error';
    case 403: return 'permission_error';
    case 404: return 'not_found_error';
    case 413: return 'request_too_large';
    case 429: return 'rate_limit_error';
    case 529: return 'overloaded_error';
    default: return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

function error(status: number, message: string) {
  return { kind: 'json' as const, status, body: { type: 'error', error: { type: errorType(status), message } } };
}

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const blockText = (b: any): string | undefined => (b?.type === 'text' && typeof b.text === 'string' ? b.text : undefined);

function conversation(body: Record<string, any>): Conversation {
  const messages: any[] = body.messages;
  let chars = textOf(body.system, blockText).length;
  let lastUserText = '';
  for (const m of messages) {
    const t = textOf(m?.content, blockText);
    chars += t.length;
    if (m?.role === 'user' && t !== '') lastUserText = t;
    if (!Array.isArray(m?.content)) continue;
    for (const b of m.content) if (b?.type === 'tool_result') chars += textOf(b.content, blockText).length;
  }
  const last = messages.at(-1)?.content;
  const tools: any[] = Array.isArray(body.tools) ? body.tools : [];
  return {
    chars,
    lastUserText,
    endsWithToolResult: Array.isArray(last) && last.some((b) => b?.type === 'tool_result'),
    firstTool: tools.find((t) => typeof t?.name === 'string')?.name,
  };
}

function toolUses(r: Resolved) {
  return r.toolCalls.map((tc) => ({ type: 'tool_use' as const, id: tc.id ?? nextId('toolu_'), name: tc.name, input: tc.arguments }));
}

const usage = (r: Resolved, outputTokens: number) => ({
  input_tokens: Math.max(0, r.usage.input - r.usage.cached),
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: r.usage.cached,
  output_tokens: outputTokens,
  service_tier: 'standard',
});

function message(model: string, r: Resolved): Reply {
  const content: unknown[] = [];
  if (r.reasoning !== '') content.push({ type: 'thinking', thinking: r.reasoning, signature: SIGNATURE });
  if (r.text !== '') content.push({ type: 'text', text: r.text });
  content.push(...toolUses(r));
  return {
    kind: 'json',
    status: 200,
    body: {
      id: nextId('msg_'),
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: STOP_REASONS[r.finish],
      stop_sequence: null,
      usage: usage(r, r.usage.output),
    },
  };
}

// Each event names its type twice, in the `event:` line and in the payload, as the real stream does.
const sse = (type: string, data: object = {}): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

function messageStream(model: string, r: Resolved): Reply {
  const events = [
    sse('message_start', {
      message: { id: nextId('msg_'), type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: usage(r, 1) },
    }),
  ];
  let index = 0;
  const block = (start: object, deltas: object[]) => {
    events.push(sse('content_block_start', { index, content_block: start }));
    // The real API sends its first ping right after the first block opens.
    if (index === 0) events.push(sse('ping'));
    for (const delta of deltas) events.push(sse('content_block_delta', { index, delta }));
    events.push(sse('content_block_stop', { index }));
    index++;
  };
  if (r.reasoning !== '') {
    block({ type: 'thinking', thinking: '', signature: '' }, [
      ...pieces(r.reasoning).map((thinking) => ({ type: 'thinking_delta', thinking })),
      { type: 'signature_delta', signature: SIGNATURE },
    ]);
  }
  if (r.text !== '') block({ type: 'text', text: '' }, pieces(r.text).map((text) => ({ type: 'text_delta', text })));
  for (const tu of toolUses(r)) {
    block(
      { type: 'tool_use', id: tu.id, name: tu.name, input: {} },
      pieces(JSON.stringify(tu.input)).map((partial_json) => ({ type: 'input_json_delta', partial_json })),
    );
  }
  if (index === 0) events.push(sse('ping'));
  events.push(
    sse('message_delta', {
      delta: { stop_reason: STOP_REASONS[r.finish], stop_sequence: null },
      usage: { output_tokens: r.usage.output },
    }),
    sse('message_stop'),
  );
  return { kind: 'sse', events };
}

/** A Messages API call; Vertex's rawPredict reuses it with the model from its URL put into the body. */
export function messages(body: any): Generation | JsonReply {
  if (!isObject(body)) return error(400, 'Request body must be a JSON object');
  for (const field of ['model', 'max_tokens', 'messages']) {
    if (body[field] === undefined) return error(400, `${field}: Field required`);
  }
  if (!Array.isArray(body.messages)) return error(400, 'messages: Input should be a valid list');
  const model = String(body.model);
  return {
    conversation: conversation(body),
    render: (r) => (body.stream === true ? messageStream(model, r) : message(model, r)),
  };
}

/** The count is the fake's usual rough one, so a test can tell a provider's count from the gateway's estimate. */
function countTokens(body: any): JsonReply {
  if (!isObject(body) || !Array.isArray(body.messages)) return error(400, 'messages: Field required');
  return { kind: 'json', status: 200, body: { input_tokens: 1000 + Math.ceil(conversation(body).chars / 4) } };
}

function route({ method, path, headers }: RouteInput): Route {
  if (method !== 'POST' || (path !== '/v1/messages' && path !== '/v1/messages/count_tokens')) return error(404, 'Not Found');
  // API keys come as x-api-key; OAuth tokens (and newer SDKs' keys) as a bearer Authorization header.
  if (!headers['x-api-key'] && !headers.authorization) return error(401, 'x-api-key header is required');
  if (!headers['anthropic-version']) return error(400, 'anthropic-version: header is required');
  return path === '/v1/messages' ? messages : countTokens;
}

export const anthropic: WireFormat = { name: 'anthropic', prefix: '/anthropic', route, error };
