// OpenAI wire format (api.openai.com/v1): chat completions (JSON and SSE), embeddings (float and base64), model list,
// the Responses API (openai-responses.ts), and legacy completions, images, audio and moderations (openai-operations.ts).
// Reasoning is rendered as `reasoning_content`, the field OpenAI-compatible reasoning servers (DeepSeek, vLLM) use.

import { completions, images, moderations, speech, transcriptions } from './openai-operations.ts';
import { responses } from './openai-responses.ts';
import { nextId, pieces, textOf, unixNow } from './scenario.ts';
import type { Conversation, Generation, JsonReply, Reply, Resolved, Route, RouteInput, WireFormat } from './types.ts';

const FINGERPRINT = 'fp_fake';

function errorType(status: number): string {
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function fail(status: number, message: string, param: string | null = null, code: string | null = null) {
  return {
    kind: 'json' as const,
    status,
    body: { error: { message, type: errorType(status), param, code } },
  };
}

function error(status: number, message: string) {
  const code = status === 401 ? 'invalid_api_key' : status === 429 ? 'rate_limit_exceeded' : null;
  return fail(status, message, null, code);
}

const MODELS: JsonReply = {
  kind: 'json',
  status: 200,
  body: {
    object: 'list',
    data: ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'].map((id) => ({
      id,
      object: 'model',
      created: 1715367049,
      owned_by: 'system',
    })),
  },
};

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const partText = (p: any): string | undefined => (p?.type === 'text' && typeof p.text === 'string' ? p.text : undefined);

function conversation(body: Record<string, any>): Conversation {
  const messages: any[] = body.messages;
  let chars = 0;
  let lastUserText = '';
  for (const m of messages) {
    const t = textOf(m?.content, partText);
    chars += t.length;
    if (m?.role === 'user' && t !== '') lastUserText = t;
  }
  const last = messages.at(-1)?.role;
  const tools: any[] = Array.isArray(body.tools) ? body.tools : [];
  return {
    chars,
    lastUserText,
    endsWithToolResult: last === 'tool' || last === 'function',
    firstTool: tools.find((t) => typeof t?.function?.name === 'string')?.function.name,
  };
}

function usage(r: Resolved) {
  const u = r.usage;
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cached },
    completion_tokens_details: { reasoning_tokens: u.reasoning },
  };
}

function toolCalls(r: Resolved) {
  return r.toolCalls.map((tc) => ({
    id: tc.id ?? nextId('call_'),
    type: 'function' as const,
    function: { name: tc.name, arguments: JSON.stringify(tc.arguments) },
  }));
}

function completion(model: string, r: Resolved): Reply {
  const message: Record<string, unknown> = { role: 'assistant', content: r.text === '' ? null : r.text, refusal: null };
  if (r.reasoning !== '') message.reasoning_content = r.reasoning;
  if (r.toolCalls.length > 0) message.tool_calls = toolCalls(r);
  return {
    kind: 'json',
    status: 200,
    body: {
      id: nextId('chatcmpl-'),
      object: 'chat.completion',
      created: unixNow(),
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: r.finish }],
      ...(r.noUsage ? {} : { usage: usage(r) }),
      service_tier: 'default',
      system_fingerprint: FINGERPRINT,
    },
  };
}

function completionStream(model: string, includeUsage: boolean, r: Resolved): Reply {
  const base = { id: nextId('chatcmpl-'), object: 'chat.completion.chunk', created: unixNow(), model, system_fingerprint: FINGERPRINT };
  // With include_usage the real API sets `usage: null` on every chunk but the last.
  const withUsage = includeUsage && !r.noUsage;
  const extra = withUsage ? { usage: null } : {};
  const events: string[] = [];
  const push = (delta: Record<string, unknown>, finish: string | null = null) =>
    events.push(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra })}\n\n`);

  push({ role: 'assistant', content: '', refusal: null });
  for (const p of pieces(r.reasoning)) push({ reasoning_content: p });
  for (const p of pieces(r.text)) push({ content: p });
  toolCalls(r).forEach((tc, index) => {
    push({ tool_calls: [{ index, id: tc.id, type: tc.type, function: { name: tc.function.name, arguments: '' } }] });
    for (const p of pieces(tc.function.arguments)) push({ tool_calls: [{ index, function: { arguments: p } }] });
  });
  push({}, r.finish);
  if (withUsage) events.push(`data: ${JSON.stringify({ ...base, choices: [], usage: usage(r) })}\n\n`);
  events.push('data: [DONE]\n\n');
  return { kind: 'sse', events };
}

function chat(body: any): Generation | JsonReply {
  if (!isObject(body) || typeof body.model !== 'string') return fail(400, 'you must provide a model parameter');
  if (!Array.isArray(body.messages)) {
    return fail(400, "Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  }
  const model = body.model;
  const includeUsage = body.stream_options?.include_usage === true;
  return {
    conversation: conversation(body),
    render: (r) => (body.stream === true ? completionStream(model, includeUsage, r) : completion(model, r)),
  };
}

/** Token-array inputs have no text; their JSON stands in, which is enough for a stable vector. */
function embedInputs(input: unknown): string[] | undefined {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (typeof input[0] === 'number') return [JSON.stringify(input)];
  return input.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
}

// The official SDK asks for base64 unless told otherwise: little-endian float32 bytes.
const base64 = (v: number[]): string => Buffer.from(new Float32Array(v).buffer).toString('base64');

function embeddings(body: any): Generation | JsonReply {
  if (!isObject(body) || typeof body.model !== 'string') return fail(400, 'you must provide a model parameter');
  const inputs = embedInputs(body.input);
  if (inputs === undefined) return fail(400, "'input' is a required property", 'input');
  const model = body.model;
  const asBase64 = body.encoding_format === 'base64';
  return {
    conversation: { chars: inputs.reduce((n, t) => n + t.length, 0), lastUserText: '', endsWithToolResult: false, embedInputs: inputs },
    render: (r) => ({
      kind: 'json',
      status: 200,
      body: {
        object: 'list',
        data: r.embeddings.map((v, index) => ({ object: 'embedding', index, embedding: asBase64 ? base64(v) : v })),
        model,
        usage: { prompt_tokens: r.usage.input, total_tokens: r.usage.input },
      },
    }),
  };
}

function route({ method, path }: RouteInput): Route {
  if (method === 'POST' && path === '/chat/completions') return chat;
  if (method === 'POST' && path === '/embeddings') return embeddings;
  if (method === 'POST' && path === '/responses') return responses;
  if (method === 'POST' && path === '/completions') return completions;
  if (method === 'POST' && path === '/images/generations') return images;
  if (method === 'POST' && path === '/audio/transcriptions') return transcriptions;
  if (method === 'POST' && path === '/audio/speech') return speech;
  if (method === 'POST' && path === '/moderations') return moderations;
  if (method === 'GET' && path === '/models') return MODELS;
  return fail(404, `Invalid URL (${method} /v1${path})`);
}

export const openai: WireFormat = { name: 'openai', prefix: '/openai/v1', route, error };
