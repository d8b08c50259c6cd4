// The Gemini API surface served by Gemini itself: the client's body goes on as it came, so everything the canonical
// shape cannot carry (thought signatures, safety settings, cached content, grounding tools, image output) survives,
// and the answer comes back byte for byte. The gateway still reads usage, in-stream errors and the end of the stream.

import { badUpstreamResponse } from '../../core/errors.ts';
import type { Usage } from '../../core/types.ts';
import { type Generated, generatedText } from '../../usage/estimate-tokens.ts';
import { isPlainObject, parsedOrUndefined } from '../shared.ts';
import type { NativeAdapter, ProviderConfig, StreamEvent, StreamReader, UpstreamCall } from '../types.ts';
import { asResponse, geminiError, streamInterrupted, toUsage, type GenerateContentResponse } from './chat.ts';
import { geminiCall, modelId } from './wire.ts';

type GeminiCall = (provider: ProviderConfig, model: string, method: string, body: string) => UpstreamCall;

/**
 * The model lives in the URL, but a body may name one too (each request of a batchEmbedContents, the
 * generateContentRequest of a countTokens). The client wrote the name it knows there, a gateway alias Gemini has never
 * heard of, so those are pointed at the target. Everything else is left as it came.
 */
export function retarget(body: Record<string, unknown>, model: string): Record<string, unknown> {
  const resource = `models/${modelId(model)}`;
  const named = (value: unknown): unknown => (isPlainObject(value) && typeof value.model === 'string' ? { ...value, model: resource } : value);
  let out = named(body) as Record<string, unknown>;
  if (isPlainObject(body.generateContentRequest)) out = { ...out, generateContentRequest: named(body.generateContentRequest) };
  if (Array.isArray(body.requests)) out = { ...out, requests: body.requests.map(named) };
  return out;
}

/** Usage of a whole answer; embeddings and token counts carry none. */
function usage(body: unknown): Usage | undefined {
  return isPlainObject(body) && isPlainObject(body.usageMetadata) ? toUsage(body.usageMetadata) : undefined;
}

/** What a part generated: text, a thought, or a function call; anything else (inline data, signatures alone) nothing. */
function partGenerated(part: unknown): Generated[] {
  if (!isPlainObject(part)) return [];
  if (typeof part.text === 'string') return [part.thought === true ? { reasoning_content: part.text } : { content: part.text }];
  const call = part.functionCall;
  if (!isPlainObject(call) || typeof call.name !== 'string') return [];
  // Arguments arrive as an object, whole or streamed; one serialisation keeps both texts equal.
  return [{ tool_calls: [{ function: { name: call.name, arguments: call.args === undefined ? '' : JSON.stringify(call.args) } }] }];
}

interface Candidate {
  index: number;
  parts: unknown[];
}

function candidatesOf(response: unknown): Candidate[] {
  if (!isPlainObject(response) || !Array.isArray(response.candidates)) return [];
  return response.candidates.filter(isPlainObject).map((c, i) => ({
    index: typeof c.index === 'number' ? c.index : i,
    parts: isPlainObject(c.content) && Array.isArray(c.content.parts) ? c.content.parts : [],
  }));
}

/**
 * The generated text of one whole answer or of a stream's events in order. Streamed candidates (candidateCount > 1)
 * arrive interleaved; a stable sort by index puts each candidate's slices together, as a whole answer has them.
 */
function responsesText(responses: readonly unknown[]): string {
  const candidates = responses.flatMap(candidatesOf).sort((a, b) => a.index - b.index);
  return generatedText(candidates.flatMap((c) => c.parts.flatMap(partGenerated)));
}

/**
 * Passes events on as they came. Every event is a whole GenerateContentResponse and the stream has no terminator, so
 * the end is the end of the body, proper only once a finishReason (or a blocked prompt) was seen.
 */
function createStreamReader(provider: string): StreamReader<StreamEvent> {
  let finished = false;
  let latest: Usage | undefined;
  return {
    event(ev) {
      latest = undefined;
      if (ev.data.trim() === '') return [];
      let payload: GenerateContentResponse;
      try {
        payload = asResponse(JSON.parse(ev.data));
      } catch {
        throw badUpstreamResponse(`${provider}: a stream event is not a JSON object: ${ev.data.slice(0, 200)}`, provider);
      }
      // An error inside a 200 stream carries its HTTP status in `code`; without one it can only be a bad gateway.
      if (payload.error) throw geminiError(provider, payload.error.code ?? 502, payload.error, undefined);
      if (payload.candidates?.some((c) => c.finishReason) || payload.promptFeedback?.blockReason) finished = true;
      if (payload.usageMetadata) latest = toUsage(payload.usageMetadata);
      return [{ data: ev.data }];
    },
    end() {
      if (!finished) throw streamInterrupted(provider);
      return [];
    },
    complete: () => false,
    // Each event is a slice of the answer, the first one included.
    substantive: () => true,
    // Read right after `event` returned this item: the usage it brought, if any.
    usage: () => latest,
    output: (events) => responsesText(events.map((ev) => parsedOrUndefined(ev.data))),
    reportsUsage: true,
  };
}

/** The passthrough over a given way of addressing Gemini (the Developer API here; Vertex AI's publisher models alike). */
export function createGeminiNative(call: GeminiCall): NativeAdapter {
  const method = (name: string, body: Record<string, unknown>, model: string, provider: ProviderConfig): UpstreamCall =>
    call(provider, model, name === 'streamGenerateContent' ? 'streamGenerateContent?alt=sse' : name, JSON.stringify(retarget(body, model)));
  return {
    buildRequest: (body, model, provider) => method('generateContent', body, model, provider),
    buildMethodRequest: method,
    usage,
    output: (body) => responsesText([body]),
    createStreamReader,
  };
}

export const geminiNative = createGeminiNative(geminiCall);
