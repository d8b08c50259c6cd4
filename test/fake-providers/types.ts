// Shapes shared by the fake providers. The public ones (Scenario, Fault, RecordedRequest) are re-exported by server.ts;
// the rest is the seam between the HTTP server and the three wire-format modules, which stay free of I/O so the server
// alone decides about latency, faults and sockets.

export type ProviderName = 'openai' | 'anthropic' | 'gemini' | 'azure' | 'vertex' | 'bedrock' | 'cohere' | 'mistral';

export interface ScenarioToolCall {
  name: string;
  arguments: Record<string, unknown>;
  id?: string;
}

/**
 * What the model "says", independent of the wire format. Usage follows OpenAI's accounting so that a gateway which
 * translates correctly reports exactly these numbers whatever the provider: `input` includes `cached` (Anthropic
 * renders input_tokens = input - cached) and `output` includes `reasoning` (Gemini renders candidatesTokenCount =
 * output - reasoning).
 */
export interface Scenario {
  text?: string;
  reasoning?: string;
  toolCalls?: ScenarioToolCall[];
  finish?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  usage?: { input: number; output: number; cached?: number; reasoning?: number };
  /** Report no usage at all, as some OpenAI-compatible servers do (OpenAI wire format only). */
  noUsage?: boolean;
  embedding?: number[];
}

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'latency'; ms: number }
  | { kind: 'cut'; afterEvents: number }
  | { kind: 'hang' };

export interface RecordedRequest {
  provider: ProviderName;
  method: string;
  /** The full path as received, provider prefix included, without the query. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: any;
}

/** A scenario with every field decided, ready to render. */
export interface Resolved {
  text: string;
  reasoning: string;
  toolCalls: ScenarioToolCall[];
  finish: NonNullable<Scenario['finish']>;
  usage: { input: number; output: number; cached: number; reasoning: number };
  noUsage: boolean;
  /** One vector per embedding input. */
  embeddings: number[][];
}

/** What the default scenario needs to know about a request, extracted by each wire-format module. */
export interface Conversation {
  /** Characters of all message text (system included), for the rough input token count. */
  chars: number;
  /** Text parts of the last user message that has any, joined by a space. */
  lastUserText: string;
  /** The last message carries a tool result: the default then answers instead of calling the tool again. */
  endsWithToolResult: boolean;
  /** Name of the first function tool offered, if any. */
  firstTool?: string | undefined;
  /** Texts to embed (embeddings endpoints only). */
  embedInputs?: string[];
}

export type Reply =
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string> }
  /** Each element is one complete SSE event, separator included. */
  | { kind: 'sse'; events: string[] }
  /** A binary stream (Bedrock's AWS event stream): each frame is one complete message. */
  | { kind: 'binary'; contentType: string; frames: Uint8Array[] };

/** A model call that passed validation: the server picks the scenario and the fault, the module renders. */
export interface Generation {
  conversation: Conversation;
  render(s: Resolved): Reply;
}

export interface RouteInput {
  method: string;
  /** Path below the provider prefix, without the query. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** The body's bytes as received, for checks that cover them exactly (an AWS SigV4 signature). */
  rawBody: Buffer;
}

export type JsonReply = Extract<Reply, { kind: 'json' }>;

/**
 * A route either answers at once (404, auth error, a listing) or is a model call, which validates the parsed body
 * into a Generation or an error reply.
 */
export type Route = JsonReply | ((body: any) => Generation | JsonReply);

export interface WireFormat {
  name: ProviderName;
  prefix: string;
  route(req: RouteInput): Route;
  /** An error reply in the provider's real body shape. */
  error(status: number, message: string): JsonReply;
}
