// Payload capture for keys and teams that ask for it (log_payloads): the request body as the client sent it and the
// answer as the client got it (a JSON body, or a stream's server-sent events), each masked (mask.ts) and cut at
// request_logs.payload_max_bytes. Only requests with capture on pay for any of it: the context's `payload` is
// undefined otherwise, and every hook is one property check.

import type { SseEncoder } from '../server/sse.ts';
import { maskSecrets } from './mask.ts';

/** A captured body pair, as journaled with the usage record and stored in request_payloads. */
export interface CapturedPayload {
  request_body: string | null;
  response_body: string | null;
  /** The body was longer than payload_max_bytes and was cut. */
  request_truncated: boolean;
  response_truncated: boolean;
}

/**
 * Characters read beyond the cap before masking, so a secret straddling the cut is still recognised and masked
 * rather than left half visible.
 */
const MASK_MARGIN = 512;

export class PayloadCapture {
  readonly #maxBytes: number;
  #parts: string[] = [];
  #chars = 0;
  #dropped = false;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** A whole answer (a JSON body). */
  answer(text: string): void {
    this.#parts = [];
    this.#chars = 0;
    this.#dropped = false;
    this.append(text);
  }

  /** The next piece of a streamed answer; what comes after the cap is only counted as cut. */
  append(text: string): void {
    const room = this.#maxBytes + MASK_MARGIN - this.#chars;
    if (room <= 0) {
      if (text.length > 0) this.#dropped = true;
      return;
    }
    const kept = text.length > room ? text.slice(0, room) : text;
    if (kept.length < text.length) this.#dropped = true;
    this.#parts.push(kept);
    this.#chars += kept.length;
  }

  /** Both bodies, masked and cut; `requestBody` is the parsed body the client sent. */
  finish(requestBody: unknown): CapturedPayload {
    const request = requestBody === undefined ? undefined : cappedText(JSON.stringify(requestBody), this.#maxBytes);
    const response = this.#parts.length === 0 ? undefined : cappedText(this.#parts.join(''), this.#maxBytes, this.#dropped);
    return {
      request_body: request?.text ?? null,
      response_body: response?.text ?? null,
      request_truncated: request?.truncated ?? false,
      response_truncated: response?.truncated ?? false,
    };
  }
}

/** `encoder`, with the events it writes also captured: a stream's answer as the client got it. */
export function capturing<T>(encoder: SseEncoder<T>, capture: PayloadCapture): SseEncoder<T> {
  return {
    encode(batch, last) {
      const text = encoder.encode(batch, last);
      capture.append(text);
      return text;
    },
    error(err) {
      const text = encoder.error(err);
      capture.append(text);
      return text;
    },
  };
}

/** `text` masked and cut to at most `maxBytes` of UTF-8; `dropped`: part of it was left out already. */
export function cappedText(text: string, maxBytes: number, dropped = false): { text: string; truncated: boolean } {
  // A UTF-16 unit is at least one byte of UTF-8, so this keeps at least maxBytes bytes of what there is to keep.
  const limit = maxBytes + MASK_MARGIN;
  const head = text.length > limit ? text.slice(0, limit) : text;
  const masked = maskSecrets(head);
  const cut = cutUtf8(masked, maxBytes);
  return { text: cut, truncated: dropped || head.length < text.length || cut.length < masked.length };
}

/** The longest prefix of `text` within `maxBytes` of UTF-8 that does not split a character. */
export function cutUtf8(text: string, maxBytes: number): string {
  // Most bodies are well under the cap: no encoding needed to know they fit.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // A continuation byte at the cut means its character began before it: cut before that character instead.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
