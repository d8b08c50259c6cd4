// The Anthropic Messages surface served by Anthropic itself: the client's body goes on untouched but for the model,
// so everything the canonical shape cannot carry (thinking signatures, cache_control, citations, server tools, betas)
// survives, and the answer comes back byte for byte. The gateway still reads usage, errors and the end of the stream.

import type { StreamEvent, StreamReader, NativeAdapter, ProviderConfig, UpstreamCall } from '../types.ts';
import { isPlainObject } from '../shared.ts';
import { type AnthropicUsage, toUsage } from './chat.ts';
import { streamError, streamInterrupted } from './errors.ts';
import { parseData } from './stream.ts';
import { anthropicHeaders, messagesUrl } from './wire.ts';

/** The client's own protocol headers win over the provider's defaults: they say what the client's body means. */
const FORWARDED_HEADERS = ['anthropic-version', 'anthropic-beta'];

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
  };
}

export const anthropicNative: NativeAdapter = {
  buildRequest: (body, model, provider, clientHeaders) => post('', body, model, provider, clientHeaders),
  buildCountTokensRequest: (body, model, provider, clientHeaders) => post('/count_tokens', body, model, provider, clientHeaders),
  usage,
  createStreamReader,
};
