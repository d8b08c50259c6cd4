// Gemini API wire format (generativelanguage.googleapis.com): generateContent, streamGenerateContent (SSE with
// ?alt=sse, else one JSON array), countTokens, embedContent and batchEmbedContents, keyed by x-goog-api-key or ?key=.

import { FAKE_PNG } from './openai-operations.ts';
import { nextId, pieces, textOf } from './scenario.ts';
import type { Conversation, Generation, JsonReply, Reply, Resolved, Route, RouteInput, WireFormat } from './types.ts';

const PATH = /^\/(?:v1beta|v1|v1alpha)\/models\/([^/:]+):([A-Za-z]+)$/;

const FINISH_REASONS = { stop: 'STOP', length: 'MAX_TOKENS', tool_calls: 'STOP', content_filter: 'SAFETY' } as const;

const STATUSES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

function error(status: number, message: string) {
  const name = STATUSES[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
  return { kind: 'json' as const, status, body: { error: { code: status, message, status: name } } };
}

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const partText = (p: any): string | undefined => (typeof p?.text === 'string' ? p.text : undefined);

// The REST API takes proto field names in camelCase or snake_case alike, so a gateway may send either.
function conversation(body: Record<string, any>): Conversation {
  const contents: any[] = body.contents;
  const system = body.systemInstruction ?? body.system_instruction;
  let chars = textOf(system?.parts, partText).length;
  let lastUserText = '';
  for (const c of contents) {
    const t = textOf(c?.parts, partText);
    chars += t.length;
    if ((c?.role ?? 'user') === 'user' && t !== '') lastUserText = t;
  }
  const lastParts = contents.at(-1)?.parts;
  let firstTool: string | undefined;
  for (const t of Array.isArray(body.tools) ? body.tools : []) {
    firstTool ??= (t?.functionDeclarations ?? t?.function_declarations)?.[0]?.name;
  }
  return {
    chars,
    lastUserText,
    endsWithToolResult: Array.isArray(lastParts) && lastParts.some((p) => p?.functionResponse !== undefined || p?.function_response !== undefined),
    firstTool,
  };
}

function usageMetadata(r: Resolved) {
  const u = r.usage;
  const meta: Record<string, number> = {
    promptTokenCount: u.input,
    candidatesTokenCount: Math.max(0, u.output - u.reasoning),
    totalTokenCount: u.input + u.output,
  };
  // Like the real API, counts that are zero are left out rather than sent as 0.
  if (u.cached > 0) meta.cachedContentTokenCount = u.cached;
  if (u.reasoning > 0) meta.thoughtsTokenCount = u.reasoning;
  return meta;
}

const functionCalls = (r: Resolved) =>
  r.toolCalls.map((tc) => ({ functionCall: tc.id === undefined ? { name: tc.name, args: tc.arguments } : { id: tc.id, name: tc.name, args: tc.arguments } }));

function response(model: string, responseId: string, parts: unknown[], final?: Resolved) {
  const candidate: Record<string, unknown> = { content: { parts, role: 'model' }, index: 0 };
  if (final === undefined) return { candidates: [candidate], modelVersion: model, responseId };
  candidate.finishReason = FINISH_REASONS[final.finish];
  return { candidates: [candidate], usageMetadata: usageMetadata(final), modelVersion: model, responseId };
}

function generate(model: string, r: Resolved): Reply {
  const parts: unknown[] = [];
  if (r.reasoning !== '') parts.push({ text: r.reasoning, thought: true });
  if (r.text !== '') parts.push({ text: r.text });
  parts.push(...functionCalls(r));
  return { kind: 'json', status: 200, body: response(model, nextId(''), parts, r) };
}

/** Text streams in pieces; function calls arrive whole in one chunk, as the real API sends them. */
function chunks(model: string, r: Resolved) {
  const id = nextId('');
  const parts: unknown[][] = [
    ...pieces(r.reasoning).map((text) => [{ text, thought: true }]),
    ...pieces(r.text).map((text) => [{ text }]),
  ];
  if (r.toolCalls.length > 0) parts.push(functionCalls(r));
  if (parts.length === 0) parts.push([{ text: '' }]);
  return parts.map((p, i) => response(model, id, p, i === parts.length - 1 ? r : undefined));
}

function generateStream(model: string, sse: boolean, r: Resolved): Reply {
  const list = chunks(model, r);
  // Google's SSE frames end in CRLF pairs; parsers must accept them.
  if (sse) return { kind: 'sse', events: list.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`) };
  return { kind: 'json', status: 200, body: list };
}

/** A generateContent call, which Vertex's publishers/google endpoints reuse. */
export function generation(model: string, method: string, query: Record<string, string>) {
  return (body: any): Generation | JsonReply => {
    if (!isObject(body) || !Array.isArray(body.contents) || body.contents.length === 0) {
      return error(400, '* GenerateContentRequest.contents: contents is not specified\n');
    }
    return {
      conversation: conversation(body),
      render: (r) => (method === 'streamGenerateContent' ? generateStream(model, query.alt === 'sse', r) : generate(model, r)),
    };
  };
}

function embedding(batch: boolean) {
  return (body: any): Generation | JsonReply => {
    const contents: unknown[] | undefined = batch
      ? Array.isArray(body?.requests) ? body.requests.map((q: any) => q?.content) : undefined
      : isObject(body) && body.content !== undefined ? [body.content] : undefined;
    if (contents === undefined || contents.length === 0 || !contents.every(isObject)) {
      return error(400, batch ? '* BatchEmbedContentsRequest.requests: requests is not specified\n' : '* EmbedContentRequest.content: content is not specified\n');
    }
    const inputs = contents.map((c: any) => textOf(c.parts, partText));
    return {
      conversation: { chars: inputs.reduce((n, t) => n + t.length, 0), lastUserText: '', endsWithToolResult: false, embedInputs: inputs },
      render: (r): Reply => ({
        kind: 'json',
        status: 200,
        body: batch ? { embeddings: r.embeddings.map((values) => ({ values })) } : { embedding: { values: r.embeddings[0] } },
      }),
    };
  };
}

/** Imagen (models/imagen-…:predict): one PNG per requested sample. */
function predict(body: any): Generation | JsonReply {
  const prompt = isObject(body) && Array.isArray(body.instances) ? body.instances[0]?.prompt : undefined;
  if (typeof prompt !== 'string') return error(400, '* PredictRequest.instances[0].prompt: prompt is not specified\n');
  const count = typeof body.parameters?.sampleCount === 'number' ? body.parameters.sampleCount : 4;
  return {
    conversation: { chars: prompt.length, lastUserText: prompt, endsWithToolResult: false },
    render: (): Reply => ({ kind: 'json', status: 200, body: { predictions: Array.from({ length: count }, () => ({ mimeType: 'image/png', bytesBase64Encoded: FAKE_PNG })) } }),
  };
}

/** The count is the fake's usual rough one plus 1000, so a test can tell the provider's count from the gateway's estimate. */
function countTokens(body: any): JsonReply {
  const counted = isObject(body) && isObject(body.generateContentRequest) ? body.generateContentRequest : body;
  if (!isObject(counted) || !Array.isArray(counted.contents)) return error(400, '* CountTokensRequest.contents: contents is not specified\n');
  return { kind: 'json', status: 200, body: { totalTokens: 1000 + Math.ceil(conversation(counted).chars / 4) } };
}

function route({ method, path, query, headers }: RouteInput): Route {
  const m = method === 'POST' ? PATH.exec(path) : null;
  const [, model = '', action = ''] = m ?? [];
  const handler =
    action === 'generateContent' || action === 'streamGenerateContent' ? generation(model, action, query)
    : action === 'embedContent' ? embedding(false)
    : action === 'batchEmbedContents' ? embedding(true)
    : action === 'predict' ? predict
    : action === 'countTokens' ? countTokens
    : undefined;
  if (handler === undefined) return error(404, `Method not found: ${method} ${path}`);
  if (!headers['x-goog-api-key'] && !query.key) {
    return error(403, 'Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.');
  }
  return handler;
}

export const gemini: WireFormat = { name: 'gemini', prefix: '/gemini', route, error };
