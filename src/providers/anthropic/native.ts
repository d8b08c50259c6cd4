// The Anthropic Messages surface served by Anthropic itself: the client's body goes on untouched but for the model,
// so everything the canonical shape cannot carry (thinking signatures, cache_control, citations, server tools, betas)
// survives, and the answer comes back byte for byte. The gateway still reads usage, errors and the end of the stream.

import { type Generated, generatedText } from '../../usage/estimate-tokens.ts';
import type { StreamEvent, StreamReader, NativeAdapter, ProviderConfig, UpstreamCall } from '../types.ts';
import { isPlainObject, parsedOrUndefined } from '../shared.ts';
import { type AnthropicUsage, toUsage } from './chat.ts';
import { streamError, streamInterrupted } from './errors.ts';
import { parseData } from './stream.ts';
import { anthropicHeaders, messagesUrl } from './wire.ts';

/** The client's own protocol headers win over the provider's defaults: they say what the client's body means. */
export const FORWARDED_HEADERS = ['anthropic-version', 'anthropic-beta'];

type ClientHeaders = Record<string, string | string[] | undefined>;

function post(path: string, body: Record<string, unknown>, model: string, provider: ProviderConfig, clientHeaders: ClientHeaders): UpstreamCall {
  const headers = anthropicHeaders(provider);
  for (const name of FORWARDED_HEADERS) {
    const value = clientHeaders[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return { method: 'POST', url: messagesUrl(provider) + path, headers, body: JSON.stringify({ ...body, model }) };
}

function usage(body: unknown): ReturnType<typeof toUsage> | undefined {
  return isPlainObject(body) && isPlainObject(body.usage) ? toUsage(body.usage as AnthropicUsage) : undefined;
}

/** Blocks the model writes a tool's input in; their results (web search results and the like) are not generated. */
const TOOL_USE = new Set(['tool_use', 'server_tool_use', 'mcp_tool_use']);

/**
 * A whole answer carries a tool's input as an object, a stream as JSON text in pieces with its own spacing: both are
 * written as compact JSON so that they compare equal. A string is the text of a stream cut inside the input.
 */
function inputText(input: unknown): string {
  if (typeof input === 'string') return input;
  return input === undefined ? '' : JSON.stringify(input);
}

/** What a content block generated; redacted thinking (encrypted) and anything unknown give nothing. */
function blockGenerated(block: unknown): Generated[] {
  if (!isPlainObject(block)) return [];
  if (block.type === 'text' && typeof block.text === 'string') return [{ content: block.text }];
  if (block.type === 'thinking' && typeof block.thinking === 'string') return [{ reasoning_content: block.thinking }];
  if (TOOL_USE.has(String(block.type)) && typeof block.name === 'string') {
    return [{ tool_calls: [{ function: { name: block.name, arguments: inputText(block.input) } }] }];
  }
  return [];
}

function output(body: unknown): string {
  return isPlainObject(body) && Array.isArray(body.content) ? generatedText(body.content.flatMap(blockGenerated)) : '';
}

/** A streamed block as content_block_start opened it, the deltas appended, and its input JSON text so far. */
interface StreamedBlock {
  block: Record<string, unknown>;
  json: string;
}

function appendDelta(target: StreamedBlock | undefined, delta: Record<string, unknown>): void {
  if (!target) return;
  const { block } = target;
  const append = (key: string, piece: unknown) => {
    if (typeof piece === 'string') block[key] = (typeof block[key] === 'string' ? block[key] : '') + piece;
  };
  if (delta.type === 'text_delta') append('text', delta.text);
  else if (delta.type === 'thinking_delta') append('thinking', delta.thinking);
  else if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string') target.json += delta.partial_json;
}

/** The block as a whole answer would carry it: the input JSON text parsed (kept as text where it does not parse). */
function wholeBlock({ block, json }: StreamedBlock): Record<string, unknown> {
  if (json === '') return block;
  const input = parsedOrUndefined(json);
  return { ...block, input: input === undefined ? json : input };
}

/** Rebuilds the content blocks from the events and reads them as a whole answer's, so both give the same text. */
function streamedOutput(events: readonly StreamEvent[]): string {
  const blocks = new Map<number, StreamedBlock>();
  for (const ev of events) {
    const data = parsedOrUndefined(ev.data);
    if (!isPlainObject(data) || typeof data.index !== 'number') continue;
    if (data.type === 'content_block_start' && isPlainObject(data.content_block)) blocks.set(data.index, { block: { ...data.content_block }, json: '' });
    else if (data.type === 'content_block_delta' && isPlainObject(data.delta)) appendDelta(blocks.get(data.index), data.delta);
  }
  const ordered = [...blocks].sort(([a], [b]) => a - b);
  return generatedText(ordered.flatMap(([, streamed]) => blockGenerated(wholeBlock(streamed))));
}

/** Passes events on as they came; message_start and message_delta carry the usage, message_stop the end. */
function createStreamReader(provider: string): StreamReader<StreamEvent> {
  let stopped = false;
  let seen: AnthropicUsage = {};
  let latest: ReturnType<typeof toUsage> | undefined;
  return {
    event(ev) {
      const data = parseData(ev, provider);
      const type = data.type ?? ev.event;
      latest = undefined;
      if (type === 'error') throw streamError(data, provider);
      if (type === 'message_stop') stopped = true;
      const reported = type === 'message_start' && isPlainObject(data.message) ? data.message.usage : type === 'message_delta' ? data.usage : undefined;
      if (isPlainObject(reported)) {
        // message_delta repeats only what changed (output tokens, and input on some versions): keep the rest.
        seen = { ...seen, ...Object.fromEntries(Object.entries(reported).filter(([, v]) => v != null)) };
        latest = toUsage(seen);
      }
      return [{ event: ev.event ?? String(type), data: ev.data }];
    },
    end() {
      if (!stopped) throw streamInterrupted(provider);
      return [];
    },
    complete: () => stopped,
    substantive: (ev) => ev.event === 'content_block_delta' || ev.event === 'content_block_start' || ev.event === 'message_delta' || ev.event === 'message_stop',
    // Read right after `event` returned this item: the usage it brought, if any.
    usage: () => latest,
    output: streamedOutput,
    reportsUsage: true,
  };
}

export const anthropicNative: NativeAdapter = {
  buildRequest: (body, model, provider, clientHeaders) => post('', body, model, provider, clientHeaders),
  buildCountTokensRequest: (body, model, provider, clientHeaders) => post('/count_tokens', body, model, provider, clientHeaders),
  usage,
  output,
  createStreamReader,
};
