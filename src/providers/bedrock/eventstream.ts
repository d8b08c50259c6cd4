// ConverseStream answers in the AWS event stream encoding (application/vnd.amazon.eventstream), not server-sent
// events: binary messages, each a length prelude, typed headers, a payload and CRC32 checksums. This decoder cuts the
// socket's byte chunks into whole messages (a message may span reads, and one read may hold several), checks them with
// @smithy/eventstream-codec, and hands each on as a StreamEvent named by its `:event-type` header with the JSON payload
// as data, so the translator sees Bedrock's events the way other translators see SSE.

import { EventStreamCodec, type Message } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { GatewayError } from '../../core/errors.ts';
import type { StreamDecoder, StreamEvent } from '../types.ts';

/**
 * Event name prefix for an exception message (`:message-type` exception or error): `exception:throttlingException`.
 * A prefix rather than the bare type, so that an exception type Bedrock adds later is still seen as a failure.
 */
export const EXCEPTION_EVENT = 'exception:';

const PRELUDE_BYTES = 12;
const MIN_MESSAGE_BYTES = 16;
/** The event stream format caps a message at 16 MiB; a larger length means the bytes are not a message boundary. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export function createEventStreamDecoder(): StreamDecoder {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  let pending: Uint8Array | undefined;

  return {
    feed(chunk: Uint8Array): StreamEvent[] {
      let buf = pending ? concat(pending, chunk) : chunk;
      pending = undefined;
      const events: StreamEvent[] = [];
      while (buf.byteLength >= PRELUDE_BYTES) {
        const length = new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0);
        if (length < MIN_MESSAGE_BYTES || length > MAX_MESSAGE_BYTES) throw unreadable(`a message claims ${length} bytes`);
        if (buf.byteLength < length) break;
        events.push(toEvent(decode(codec, buf.subarray(0, length))));
        buf = buf.subarray(length);
      }
      // A copy, so the partial message holds on to neither the socket's buffer nor the bytes already decoded.
      if (buf.byteLength > 0) pending = buf.slice();
      return events;
    },
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

function decode(codec: EventStreamCodec, bytes: Uint8Array): Message {
  try {
    return codec.decode(bytes);
  } catch (err) {
    throw unreadable((err as Error).message);
  }
}

function header(message: Message, name: string): string | undefined {
  const h = message.headers[name];
  return h?.type === 'string' ? h.value : undefined;
}

function toEvent(message: Message): StreamEvent {
  const type = header(message, ':message-type');
  const data = toUtf8(message.body);
  if (type === 'event') return { event: header(message, ':event-type'), data };
  if (type === 'exception') return { event: `${EXCEPTION_EVENT}${header(message, ':exception-type') ?? 'unknownException'}`, data };
  // Errors the service has no model for carry their code and message in headers, and no payload.
  if (type === 'error') {
    const text = header(message, ':error-message') ?? 'the stream reported an error without a message';
    return { event: `${EXCEPTION_EVENT}${header(message, ':error-code') ?? 'unknownError'}`, data: JSON.stringify({ message: text }) };
  }
  throw unreadable(`a message of unknown type '${type ?? '(none)'}'`);
}

function unreadable(detail: string): GatewayError {
  return new GatewayError(502, 'upstream_error', `bedrock: the upstream event stream is unreadable (${detail})`, { code: 'upstream_invalid_stream' });
}
