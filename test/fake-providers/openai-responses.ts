// OpenAI's Responses API wire format (POST /v1/responses): a response object, or its stream of numbered events
// (response.created … response.completed). Reasoning is rendered as a reasoning item with a summary.

import { nextId, pieces, textOf, unixNow } from './scenario.ts';
import type { Conversation, Generation, JsonReply, Reply, Resolved } from './types.ts';

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const partText = (p: any): string | undefined =>
  (p?.type === 'input_text' || p?.type === 'output_text') && typeof p.text === 'string' ? p.text : undefined;

function fail(status: number, message: string, param: string | null = null, code: string | null = null): JsonReply {
  return { kind: 'json', status, body: { error: { message, type: 'invalid_request_error', param, code } } };
}

function conversation(body: Record<string, any>): Conversation {
  const items: any[] = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
  let chars = typeof body.instructions === 'string' ? body.instructions.length : 0;
  let lastUserText = '';
  for (const it of items) {
    if ((it?.type ?? 'message') !== 'message') continue;
    const t = textOf(it.content, partText);
    chars += t.length;
    if (it.role === 'user' && t !== '') lastUserText = t;
  }
  const tools: any[] = Array.isArray(body.tools) ? body.tools : [];
  return {
    chars,
    lastUserText,
    endsWithToolResult: items.at(-1)?.type === 'function_call_output',
    firstTool: tools.find((t) => t?.type === 'function' && typeof t.name === 'string')?.name,
  };
}

function usage(r: Resolved) {
  const u = r.usage;
  return {
    input_tokens: u.input,
    input_tokens_details: { cached_tokens: u.cached },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: u.reasoning },
    total_tokens: u.input + u.output,
  };
}

const INCOMPLETE: Record<string, string | undefined> = { length: 'max_output_tokens', content_filter: 'content_filter' };

/** The output items of a finished answer, ids included, so stream and whole answer describe the same thing. */
function outputItems(r: Resolved) {
  const items: Record<string, any>[] = [];
  if (r.reasoning !== '') items.push({ id: nextId('rs_'), type: 'reasoning', summary: [{ type: 'summary_text', text: r.reasoning }] });
  if (r.text !== '' || r.toolCalls.length === 0) {
    const status = INCOMPLETE[r.finish] ? 'incomplete' : 'completed';
    items.push({ id: nextId('msg_'), type: 'message', status, role: 'assistant', content: [{ type: 'output_text', text: r.text, annotations: [], logprobs: [] }] });
  }
  for (const tc of r.toolCalls) {
    const args = JSON.stringify(tc.arguments);
    items.push({ id: nextId('fc_'), type: 'function_call', status: 'completed', arguments: args, call_id: tc.id ?? nextId('call_'), name: tc.name });
  }
  return items;
}

function responseObject(body: Record<string, any>, id: string, createdAt: number, status: string, output: unknown[], r?: Resolved) {
  const reason = r ? INCOMPLETE[r.finish] : undefined;
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: reason ? { reason } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: body.model,
    output,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null },
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: body.text ?? { format: { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    usage: r ? usage(r) : null,
    user: null,
    metadata: body.metadata ?? {},
  };
}

function finalStatus(r: Resolved): string {
  return INCOMPLETE[r.finish] ? 'incomplete' : 'completed';
}

function whole(body: Record<string, any>, r: Resolved): Reply {
  return { kind: 'json', status: 200, body: responseObject(body, nextId('resp_'), unixNow(), finalStatus(r), outputItems(r), r) };
}

/** The events OpenAI streams for each output item: added, its parts and deltas, done. */
function itemEvents(item: Record<string, any>, index: number, push: (type: string, data: Record<string, unknown>) => void): void {
  const at = { item_id: item.id, output_index: index };
  if (item.type === 'reasoning') {
    const text = item.summary[0].text;
    push('response.output_item.added', { output_index: index, item: { ...item, summary: [] } });
    push('response.reasoning_summary_part.added', { ...at, summary_index: 0, part: { type: 'summary_text', text: '' } });
    for (const p of pieces(text)) push('response.reasoning_summary_text.delta', { ...at, summary_index: 0, delta: p });
    push('response.reasoning_summary_text.done', { ...at, summary_index: 0, text });
    push('response.reasoning_summary_part.done', { ...at, summary_index: 0, part: { type: 'summary_text', text } });
  } else if (item.type === 'message') {
    const part = item.content[0];
    push('response.output_item.added', { output_index: index, item: { ...item, status: 'in_progress', content: [] } });
    push('response.content_part.added', { ...at, content_index: 0, part: { ...part, text: '' } });
    for (const p of pieces(part.text)) push('response.output_text.delta', { ...at, content_index: 0, delta: p, logprobs: [] });
    push('response.output_text.done', { ...at, content_index: 0, text: part.text, logprobs: [] });
    push('response.content_part.done', { ...at, content_index: 0, part });
  } else {
    push('response.output_item.added', { output_index: index, item: { ...item, status: 'in_progress', arguments: '' } });
    for (const p of pieces(item.arguments)) push('response.function_call_arguments.delta', { ...at, delta: p });
    push('response.function_call_arguments.done', { ...at, name: item.name, arguments: item.arguments });
  }
  push('response.output_item.done', { output_index: index, item });
}

function stream(body: Record<string, any>, r: Resolved): Reply {
  const id = nextId('resp_');
  const createdAt = unixNow();
  const events: string[] = [];
  const push = (type: string, data: Record<string, unknown>) =>
    events.push(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: events.length, ...data })}\n\n`);
  const opening = responseObject(body, id, createdAt, 'in_progress', []);
  push('response.created', { response: opening });
  push('response.in_progress', { response: opening });
  const output = outputItems(r);
  output.forEach((item, index) => itemEvents(item, index, push));
  const status = finalStatus(r);
  push(status === 'completed' ? 'response.completed' : 'response.incomplete', { response: responseObject(body, id, createdAt, status, output, r) });
  return { kind: 'sse', events };
}

export function responses(body: any): Generation | JsonReply {
  if (!isObject(body) || typeof body.model !== 'string') return fail(400, 'you must provide a model parameter');
  if (typeof body.input !== 'string' && !Array.isArray(body.input)) return fail(400, "Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  return { conversation: conversation(body), render: (r) => (body.stream === true ? stream(body, r) : whole(body, r)) };
}
