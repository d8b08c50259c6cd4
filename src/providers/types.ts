// The seam between the pipeline and a provider. An adapter is pure: it turns a canonical request into the wire request
// to send (UpstreamCall) and the wire response (or one stream event) back into canonical objects. It never does I/O,
// so every adapter is tested by replaying fixtures, and the one HTTP client (src/http) does all the sending.

import type { GatewayError } from '../core/errors.ts';
import type { ChatChunk, ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse, Usage } from '../core/types.ts';

export interface ProviderTimeouts {
  /** TCP/TLS connect. */
  connect_ms: number;
  /** Until the response headers arrive (for a non-streaming call this is most of the generation time). */
  first_byte_ms: number;
  /** Longest silence between two body chunks (stream idle). */
  idle_ms: number;
  /** Whole call, headers and body. */
  total_ms: number;
}

/** A provider as configured (src/config), with defaults filled in. */
export interface ProviderConfig {
  /** The configured name, used in `<provider>/<model>` and in errors. */
  name: string;
  type: string;
  api_key?: string | undefined;
  /** A pool of keys the calls draw from (routing/key-pool.ts); api_key is then the first of them. */
  api_keys?: { key: string; weight: number }[];
  key_cooldown_ms?: number;
  base_url: string;
  headers: Record<string, string>;
  timeouts: ProviderTimeouts;
  /** Model ids this provider serves, listed by GET /v1/models as `<provider>/<model>`. */
  models: string[];
  /** Provider API version where the wire format has one (Gemini: v1beta; Anthropic: the anthropic-version header). */
  api_version?: string | undefined;
  /** The type's own fields (region, project, deployments, …), as parsed by its options schema (registry.ts). */
  options: Readonly<Record<string, unknown>>;
}

export interface UpstreamCall {
  method: 'POST' | 'GET';
  /** Absolute URL: origin, path and query. */
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** A binary body, sent instead of `body` (a multipart upload). */
  bytes?: Uint8Array;
}

/** One server-sent event as it came off the upstream stream. */
export interface StreamEvent {
  event?: string | undefined;
  data: string;
}

/** Turns the bytes of a streamed response into events; stateful, one per stream. Server-sent events by default. */
export interface StreamDecoder {
  feed(chunk: Uint8Array): StreamEvent[];
}

export interface StreamContext {
  /** The provider model id the request went to (used when the wire format does not echo one). */
  model: string;
  /** The configured provider name, for error messages raised inside the stream. */
  provider: string;
  /** Whether the client asked for a final usage chunk (stream_options.include_usage). */
  includeUsage: boolean;
  /** Chunk id and creation time to stamp on translated chunks, stable for the whole stream. */
  id: string;
  created: number;
}

/**
 * Translates one upstream stream into OpenAI chunks. It is stateful (tool-call indexes, usage seen so far) and made
 * fresh for each stream. `event` throws a GatewayError when the upstream reports an error inside the stream; `end`
 * throws one when the stream stopped before its proper end (so a cut stream is never mistaken for a finished one).
 */
export interface StreamTranslator {
  event(event: StreamEvent): ChatChunk[];
  end(): ChatChunk[];
  /**
   * True once the upstream marked the end of the stream in-band (OpenAI's [DONE], Anthropic's message_stop). The
   * gateway then finishes the client's stream at once instead of waiting for the connection to deliver its last bytes.
   */
  complete?(): boolean;
  /**
   * Only for a wire format that already is the canonical one (OpenAI). Like `event`, but an event that needs no
   * looking into comes back as its own data text, the JSON of one canonical chunk, so the gateway can send it on
   * unparsed; an event that carries usage or an error is parsed and returned as an object. Null for an event that
   * carries no chunk ([DONE]).
   */
  passthrough?(event: StreamEvent): ChatChunk | string | null;
}

/** Turns decoded upstream events into the items one consumer writes; stateful, one per stream. */
export interface StreamReader<T> {
  /** Throws a GatewayError for an error the upstream reports inside the stream. */
  event(event: StreamEvent): T[];
  /** Throws a GatewayError when the stream stopped before its proper end. */
  end(): T[];
  /** True once the upstream marked the end in-band; the client's stream then finishes at once. */
  complete(): boolean;
  /** An item carrying something beyond the opening: a stream is committed to its target once one arrived. */
  substantive(item: T): boolean;
  /** The usage so far, when this item brought news of it. */
  usage(item: T): Usage | undefined;
  /** Adds the finish reasons this item reports to `into`; asked only while the request is traced. */
  finishReasons?(item: T, into: string[]): void;
  /** Told once the first substantive item arrived. */
  primed?(): void;
  /**
   * The generated text of these items (text, reasoning, tool names and arguments, in order), as generatedText gives it
   * for a canonical answer: for a token estimate when the stream ended without reporting usage, and for comparing
   * answers (shadow traffic). A streamed answer gives the same text as the whole one.
   */
  output?(items: readonly T[]): string;
  /**
   * The wire format always reports usage in-band, so items need not be kept for a token estimate; `output` is then
   * read only when something else asks for the text (shadow comparison).
   */
  reportsUsage?: true;
}

/** Inbound surfaces that a provider may serve in its own wire format, untranslated. */
export type NativeSurface = 'anthropic' | 'responses' | 'gemini';

/**
 * A native passthrough: the client's body goes to the provider with only the model (and the provider's credentials)
 * changed, and the provider's answer comes back as it is, while the gateway still reads the usage and the errors.
 */
export interface NativeAdapter {
  /** `clientHeaders`: the inbound request's headers, of which the adapter forwards the wire format's own (versions, betas). */
  buildRequest(body: Record<string, unknown>, model: string, provider: ProviderConfig, clientHeaders: Record<string, string | string[] | undefined>): UpstreamCall;
  /** Usage from a whole (non-streamed) answer. */
  usage(body: unknown): Usage | undefined;
  /**
   * The generated text of a whole native answer (text, reasoning, tool names and arguments, in order), as
   * generatedText gives it for a canonical one. What it does not understand it skips; it never throws.
   */
  output(body: unknown): string;
  /** Reads a streamed answer: events are passed on as they came. */
  createStreamReader(provider: string): StreamReader<StreamEvent>;
  /** The surface's token-counting endpoint, where the provider has one (Anthropic's /v1/messages/count_tokens). */
  buildCountTokensRequest?(body: Record<string, unknown>, model: string, provider: ProviderConfig, clientHeaders: Record<string, string | string[] | undefined>): UpstreamCall;
  /**
   * For a wire format that names the operation in the URL rather than in the body (Gemini's models/{model}:{method}):
   * the call for a method other than the one buildRequest makes (streamGenerateContent, countTokens, embedContent,
   * batchEmbedContents).
   */
  buildMethodRequest?(method: string, body: Record<string, unknown>, model: string, provider: ProviderConfig): UpstreamCall;
}

/** One field of a multipart form as the client sent it: a text value, or a file. */
export type FormField = { name: string; value: string } | { name: string; filename: string; contentType: string; data: Uint8Array };

/**
 * The OpenAI endpoints beyond chat and embeddings (src/api/openai/passthrough.ts), each with the request body it takes:
 * JSON, or a multipart form for audio uploads.
 */
export interface OperationBodies {
  /** Legacy text completions (/v1/completions). */
  completions: Record<string, unknown>;
  /** Image generation (/v1/images/generations). */
  images: Record<string, unknown>;
  /** Audio transcription (/v1/audio/transcriptions), a multipart upload. */
  transcriptions: FormField[];
  /** Text to speech (/v1/audio/speech). */
  speech: Record<string, unknown>;
  /** Moderation (/v1/moderations). */
  moderations: Record<string, unknown>;
}

export type OpenAIOperation = keyof OperationBodies;

/** How a provider serves one OpenAI operation. */
export interface OperationAdapter<B> {
  /** The wire request for the client's body, with `model` (the target's) in place of the client's. */
  buildRequest(body: B, model: string, provider: ProviderConfig): UpstreamCall;
  /**
   * Turns a whole JSON answer into OpenAI's shape. Absent for a provider that speaks OpenAI's wire format: its answer,
   * streamed or whole, JSON or not, goes back to the client as it came.
   */
  parseResponse?(body: unknown, model: string): object;
  /** The usage a whole JSON answer (as the provider sent it) reports, if any. */
  usage?(body: unknown): Usage | undefined;
  /**
   * Reads a streamed answer in OpenAI's event format (legacy completions with `stream: true`), passing each event's
   * data on as it came. Absent when the provider cannot stream this operation.
   */
  createStreamReader?(provider: string): StreamReader<string>;
}

export interface ProviderAdapter {
  /**
   * Wire format family: openai | anthropic | gemini. 'openai' is the canonical format itself: such an adapter's parsed
   * responses are the wire bodies unchanged, so the gateway may send the upstream bytes on as they are.
   */
  readonly format: string;
  buildChatRequest(req: ChatRequest, model: string, provider: ProviderConfig): UpstreamCall;
  parseChatResponse(body: unknown, model: string): ChatResponse;
  createStreamTranslator(ctx: StreamContext): StreamTranslator;
  /** Absent when the provider has no embeddings API; the pipeline then answers 400. */
  buildEmbeddingsRequest?(req: EmbeddingsRequest, model: string, provider: ProviderConfig): UpstreamCall;
  parseEmbeddingsResponse?(body: unknown, model: string): EmbeddingsResponse;
  /** A stream that is not server-sent events (Bedrock's binary event stream) brings its own decoder. */
  createStreamDecoder?(): StreamDecoder;
  /**
   * Credentials that take more than a static header: a signature over the finished request (AWS SigV4) or a token
   * fetched and refreshed from an identity service (Google service accounts, Microsoft Entra). Called on every call
   * after build*Request, the only adapter step that may do I/O; it caches what it can per provider. A failure is a
   * GatewayError (the provider's credentials are wrong or its token service is unreachable).
   */
  authorize?(call: UpstreamCall, provider: ProviderConfig): Promise<UpstreamCall>;
  /** The OpenAI operations beyond chat and embeddings this provider serves; any other is a 400 naming the provider. */
  operations?: { [K in OpenAIOperation]?: OperationAdapter<OperationBodies[K]> };
  /** Inbound surfaces this provider serves natively (see NativeAdapter). */
  native?: Partial<Record<NativeSurface, NativeAdapter>>;
  /** Maps a non-2xx upstream response to the client's error; `retryAfter` is the upstream header, kept as is. */
  parseError(status: number, body: string, retryAfter: string | undefined, provider: string): GatewayError;
}
