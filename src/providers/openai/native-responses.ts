// OpenAI's Responses API (/responses) served by OpenAI itself: the client's body goes on untouched but for the model,
// so what the canonical chat shape cannot carry (built-in tools, stored state, previous_response_id, encrypted
// reasoning) keeps working, and the answer comes back byte for byte. The gateway still reads usage, errors and the end
// of the stream.

import { isPlainObject, parsedOrUndefined } from '../shared.ts';
import { badUpstreamResponse, GatewayError, upstreamError, streamInterrupted } from '../../core/errors.ts';
import type { Usage } from '../../core/types.ts';
import { type Generated, generatedText } from '../../usage/estimate-tokens.ts';
import type { NativeAdapter, ProviderConfig, StreamEvent, StreamReader, UpstreamCall } from '../types.ts';

/** Builds the POST of a finished body to the server's /responses, with its address and credentials. */
export type ResponsesSender = (body: string, model: string, provider: ProviderConfig) => UpstreamCall;

interface ResponsesUsage {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  input_tokens_details?: { cached_tokens?: number } | null;
  output_tokens_details?: { reasoning_tokens?: number } | null;
}


export function fromResponsesUsage(u: ResponsesUsage): Usage {
  const prompt = u.input_tokens ?? 0;
  const completion = u.output_tokens ?? 0;
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: u.total_tokens ?? prompt + completion };
  const cached = u.input_tokens_details?.cached_tokens;
  if (cached != null) usage.prompt_tokens_details = { cached_tokens: cached };
  const reasoning = u.output_tokens_details?.reasoning_tokens;
  if (reasoning != null) usage.completion_tokens_details = { reasoning_tokens: reasoning };
  return usage;
}

function usageOf(response: unknown): Usage | undefined {
  return isPlainObject(response) && isPlainObject(response.usage) ? fromResponsesUsage(response.usage as ResponsesUsage) : undefined;
}

/**
 * In-stream errors have no HTTP status (the 200 went out before them); these codes say which one they stand for, so
 * a failure before the stream is committed fails over (429, 5xx) or reaches the client with a fitting status.
 */
const STATUS_BY_CODE: Record<string, number> = {
  rate_limit_exceeded: 429,
  insufficient_quota: 429,
  server_error: 500,
  invalid_prompt: 400,
  context_length_exceeded: 400,
};

function statusFor(code: string | null): number {
  if (code === null) return 500;
  return STATUS_BY_CODE[code] ?? (/image|invalid/.test(code) ? 400 : 500);
}

/**
 * An `error` event carries code and message at its top level (the documented shape); some deployments nest them
 * in `error`. `response.failed` carries them in `response.error`.
 */
function streamError(data: Record<string, unknown>, provider: string): GatewayError {
  const source = isPlainObject(data.error) ? data.error : isPlainObject(data.response) && isPlainObject(data.response.error) ? data.response.error : data;
  const code = typeof source.code === 'string' ? source.code : null;
  const message = typeof source.message === 'string' ? source.message : 'the response failed';
  const param = typeof source.param === 'string' ? source.param : null;
  return upstreamError(provider, statusFor(code), message, { code, param });
}

/** The texts of the parts of one type in a list of parts (a message's content, a reasoning item's summary). */
function texts(parts: unknown, type: string): string[] {
  return Array.isArray(parts) ? parts.flatMap((p) => (isPlainObject(p) && p.type === type && typeof p.text === 'string' ? [p.text] : [])) : [];
}

/** What an output item generated; built-in tool calls (web search, file search, …) and unknown items give nothing. */
function itemGenerated(item: unknown): Generated[] {
  if (!isPlainObject(item)) return [];
  if (item.type === 'message') return texts(item.content, 'output_text').map((content) => ({ content }));
  if (item.type === 'reasoning') return [...texts(item.summary, 'summary_text'), ...texts(item.content, 'reasoning_text')].map((reasoning_content) => ({ reasoning_content }));
  if (item.type === 'function_call' && typeof item.name === 'string') {
    return [{ tool_calls: [{ function: { name: item.name, arguments: typeof item.arguments === 'string' ? item.arguments : '' } }] }];
  }
  return [];
}

function outputText(response: unknown): string {
  return isPlainObject(response) && Array.isArray(response.output) ? generatedText(response.output.flatMap(itemGenerated)) : '';
}

/** Where each text delta goes in the output item it belongs to: the list, and the part type it builds there. */
const TEXT_DELTAS: Record<string, { list: string; type: string; index: string }> = {
  'response.output_text.delta': { list: 'content', type: 'output_text', index: 'content_index' },
  'response.reasoning_text.delta': { list: 'content', type: 'reasoning_text', index: 'content_index' },
  'response.reasoning_summary_text.delta': { list: 'summary', type: 'summary_text', index: 'summary_index' },
};

function appendDelta(item: Record<string, unknown> | undefined, data: Record<string, unknown>): void {
  if (!item || typeof data.delta !== 'string') return;
  if (data.type === 'response.function_call_arguments.delta') {
    item.arguments = (typeof item.arguments === 'string' ? item.arguments : '') + data.delta;
    return;
  }
  const target = TEXT_DELTAS[String(data.type)];
  if (!target) return;
  const index = data[target.index];
  if (typeof index !== 'number') return;
  const list = (item[target.list] ??= []) as { type: string; text: string }[];
  list[index] = { type: target.type, text: (list[index]?.text ?? '') + data.delta };
}

/**
 * Rebuilds the output items from the events (output_item.added opens one with its type and, for a function call, its
 * name; the deltas fill it) and reads them as a whole response's, so both give the same text.
 */
function streamedOutput(events: readonly StreamEvent[]): string {
  const items = new Map<number, Record<string, unknown>>();
  for (const ev of events) {
    const data = parsedOrUndefined(ev.data);
    if (!isPlainObject(data) || typeof data.output_index !== 'number') continue;
    if (data.type === 'response.output_item.added' && isPlainObject(data.item)) items.set(data.output_index, { type: data.item.type, name: data.item.name });
    else appendDelta(items.get(data.output_index), data);
  }
  const ordered = [...items].sort(([a], [b]) => a - b);
  return generatedText(ordered.flatMap(([, item]) => itemGenerated(item)));
}

/** Events that end the response; each carries the final response with its usage. */
const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);
/** Events that only open the stream: a stream is committed to its target once something beyond them arrived. */
const OPENING = new Set(['response.created', 'response.in_progress', 'response.queued']);

/**
 * Passes events on as they came. Only the few that matter are parsed (the event name says which): the terminal ones
 * for usage, `error` to raise it. `response.failed` before anything substantive is raised too, so the request can
 * fail over; after that it is the client's to read, like any other event.
 */
function createStreamReader(provider: string): StreamReader<StreamEvent> {
  let ended = false;
  let committed = false;
  let latest: Usage | undefined;
  return {
    event(ev) {
      latest = undefined;
      if (ev.data === '[DONE]') return [];
      let type = ev.event;
      if (type === undefined || type === 'error' || TERMINAL.has(type)) {
        let data: unknown;
        try {
          data = JSON.parse(ev.data);
        } catch {
          throw badUpstreamResponse(`${provider}: stream event is not JSON: ${ev.data.slice(0, 200)}`, provider);
        }
        if (!isPlainObject(data)) throw badUpstreamResponse(`${provider}: stream event is not an object`, provider);
        type = typeof data.type === 'string' ? data.type : (type ?? 'message');
        if (type === 'error' || (type === 'response.failed' && !committed)) throw streamError(data, provider);
        if (TERMINAL.has(type)) {
          ended = true;
          latest = usageOf(data.response);
        }
      }
      return [{ event: type, data: ev.data }];
    },
    end() {
      if (!ended) {
        throw streamInterrupted(provider, 'response.completed');
      }
      return [];
    },
    complete: () => ended,
    substantive: (ev) => !OPENING.has(ev.event ?? ''),
    usage: () => latest,
    primed: () => {
      committed = true;
    },
    output: streamedOutput,
    reportsUsage: true,
  };
}

export function createResponsesNative(send: ResponsesSender): NativeAdapter {
  return {
    buildRequest: (body, model, provider) => send(JSON.stringify({ ...body, model }), model, provider),
    usage: usageOf,
    output: outputText,
    createStreamReader,
  };
}
