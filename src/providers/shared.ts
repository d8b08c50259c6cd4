// Small pure helpers that more than one translating adapter needs, so each provider converts the same canonical field
// the same way.

import { badRequest, unsupportedParam } from '../core/errors.ts';
import type { ChatMessage, ChatRequest, ContentPart, ReasoningEffort } from '../core/types.ts';

export interface DataUrl {
  mediaType: string;
  data: string;
}

/** Splits a `data:<media type>;base64,<data>` URL; undefined for any other URL. */
export function parseDataUrl(url: string): DataUrl | undefined {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return m ? { mediaType: m[1]!, data: m[2]! } : undefined;
}

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
};

/** Guesses an image's media type from its URL's extension; providers that need one for remote files get jpeg otherwise. */
export function imageTypeFromUrl(url: string): string {
  const ext = /\.([a-z0-9]+)(?:$|[?#])/i.exec(url)?.[1]?.toLowerCase();
  return (ext && IMAGE_TYPES[ext]) ?? 'image/jpeg';
}

/**
 * The parts of a message's content as a list, whether the client sent a string or parts. The OpenAI surface lets any
 * part type through for OpenAI-wire providers; a translating provider only carries text and images, so anything else
 * is refused here rather than dropped.
 */
export function contentParts(content: ChatMessage['content'], param = 'content'): ContentPart[] {
  if (content == null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  content.forEach((part, i) => {
    if (part.type !== 'text' && part.type !== 'image_url') {
      throw badRequest(`${param}[${i}]: content part type '${(part as { type: string }).type}' is not supported by this provider; use text or image_url`, `${param}[${i}].type`);
    }
  });
  return content;
}

/** A message's text, for roles whose content can only be text (system, developer, tool). */
export function contentText(content: ChatMessage['content'], param: string): string {
  if (content == null || typeof content === 'string') return content ?? '';
  return content
    .map((part) => {
      if (part.type !== 'text') throw badRequest(`${param} may only contain text parts`, param);
      return part.text;
    })
    .join('');
}

/** The request fields translating adapters read (each converts or refuses every one of them). */
const CANONICAL_PARAMS = new Set([
  'model', 'messages', 'stream', 'stream_options', 'temperature', 'top_p', 'max_tokens', 'max_completion_tokens', 'stop',
  'seed', 'n', 'presence_penalty', 'frequency_penalty', 'logprobs', 'top_logprobs', 'logit_bias', 'tools', 'tool_choice',
  'parallel_tool_calls', 'response_format', 'reasoning_effort', 'user', 'metadata',
]);

/**
 * The OpenAI surface passes unknown fields through for OpenAI-wire providers; a translating provider would drop them,
 * so a field it does not know is refused unless it is unset or false (`store: false` asks for nothing).
 */
export function rejectUnknownParams(req: ChatRequest, provider: string): void {
  for (const [key, value] of Object.entries(req)) {
    if (CANONICAL_PARAMS.has(key) || value === undefined || value === null || value === false) continue;
    throw unsupportedParam(provider, key, 'this provider has no equivalent; remove it, or route the request to an OpenAI-wire model.');
  }
}

/** max_completion_tokens supersedes max_tokens in the OpenAI API; both mean the output cap. */
export function maxOutputTokens(req: ChatRequest): number | undefined {
  return req.max_completion_tokens ?? req.max_tokens;
}

export function stopList(stop: ChatRequest['stop']): string[] | undefined {
  if (stop == null) return undefined;
  return Array.isArray(stop) ? stop : [stop];
}

/**
 * Thinking budget in tokens for an OpenAI reasoning_effort, for providers that take a budget (Anthropic, Gemini).
 * 1024 is Anthropic's minimum; the steps roughly double so each level is a real difference in depth.
 */
export const THINKING_BUDGETS: Record<Exclude<ReasoningEffort, 'none'>, number> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16384,
  xhigh: 32768,
};

export function thinkingBudget(effort: ReasoningEffort | undefined): number | undefined {
  if (effort === undefined || effort === 'none') return undefined;
  return THINKING_BUDGETS[effort];
}

/** The other way, for surfaces that take a budget: the smallest reasoning effort that allows at least `budget` tokens. */
export function effortForBudget(budget: number): Exclude<ReasoningEffort, 'none'> {
  const levels = Object.entries(THINKING_BUDGETS) as [Exclude<ReasoningEffort, 'none'>, number][];
  return (levels.find(([, tokens]) => tokens >= budget) ?? levels.at(-1)!)[0];
}

/** Chat completion ids for providers whose wire format has none. */
// Ids only need to be unique: a random prefix per process and a counter are as good as a UUID each, and cheaper.
const ID_PREFIX = crypto.randomUUID().replaceAll('-', '').slice(0, 16);
let idCounter = 0;

export function completionId(): string {
  return `chatcmpl-${ID_PREFIX}${(++idCounter).toString(36)}`;
}

export function toolCallId(): string {
  return `call_${crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** JSON text parsed, or undefined where it is not JSON: for readers that skip what they do not understand. */
export function parsedOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A tool call's arguments as the JSON object translating providers take; `param` names the field in a 400. */
export function toolArguments(args: string, param: string): Record<string, unknown> {
  // Some clients send "" for a call without arguments; it means the same as {}.
  if (args.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch (err) {
    throw badRequest(`${param} is not valid JSON (${(err as Error).message})`, param);
  }
  if (!isPlainObject(parsed)) throw badRequest(`${param} must be a JSON object`, param);
  return parsed;
}

/** The limits Claude puts on sampling and tool forcing while extended thinking is on (wherever Claude is served). */
export function checkClaudeThinking(req: ChatRequest, provider: string): void {
  const why = 'with reasoning_effort set (Claude extended thinking)';
  if (req.temperature != null && req.temperature !== 1) {
    throw unsupportedParam(provider, 'temperature', `${why} temperature must be 1 or unset.`);
  }
  if (req.top_p != null && req.top_p < 0.95) {
    throw unsupportedParam(provider, 'top_p', `${why} top_p must be at least 0.95 or unset.`);
  }
  if (req.tool_choice === 'required' || typeof req.tool_choice === 'object') {
    throw unsupportedParam(provider, 'tool_choice', `${why} only tool_choice 'auto' or 'none' is allowed.`);
  }
}

/**
 * Claude (on Anthropic or Bedrock) requires user and assistant turns to alternate, so consecutive same-role messages
 * become one turn; in a user turn, tool results must come before any other content, so a merge puts them first.
 */
export function appendAlternatingTurn<B>(
  messages: { role: 'user' | 'assistant'; content: B[] }[],
  role: 'user' | 'assistant',
  blocks: B[],
  isToolResult: (block: B) => boolean,
): void {
  if (blocks.length === 0) return;
  const last = messages.at(-1);
  if (last?.role !== role) {
    messages.push({ role, content: blocks });
    return;
  }
  last.content.push(...blocks);
  if (role === 'user' && last.content.some(isToolResult)) {
    last.content = [...last.content.filter(isToolResult), ...last.content.filter((b) => !isToolResult(b))];
  }
}

/**
 * The OpenAI sampling parameters an API without seeds, log probabilities, repetition penalties, token biasing or
 * several choices cannot honour (Anthropic, Bedrock Converse); `api` names it in the 400.
 */
export function rejectOpenAISamplingExtras(req: ChatRequest, provider: string, api: string): void {
  if (req.seed != null) throw unsupportedParam(provider, 'seed', `${api} has no seeded sampling.`);
  if (req.n != null && req.n > 1) {
    throw unsupportedParam(provider, 'n', `${api} returns one choice per request; send several requests instead.`);
  }
  if (req.logprobs) throw unsupportedParam(provider, 'logprobs', `${api} does not return token log probabilities.`);
  if (req.top_logprobs != null && req.top_logprobs > 0) {
    throw unsupportedParam(provider, 'top_logprobs', `${api} does not return token log probabilities.`);
  }
  // Zero penalties are the OpenAI defaults that many SDKs send unasked; they change nothing, so only real values fail.
  for (const param of ['presence_penalty', 'frequency_penalty'] as const) {
    if (req[param] != null && req[param] !== 0) throw unsupportedParam(provider, param, `${api} has no repetition penalties.`);
  }
  if (req.logit_bias && Object.keys(req.logit_bias).length > 0) {
    throw unsupportedParam(provider, 'logit_bias', `${api} does not expose token biasing.`);
  }
}
