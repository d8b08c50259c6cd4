// Canonical chat request ⇄ Gemini generateContent (generativelanguage v1beta). The response half (parts, finish
// reasons, usage, logprobs, errors) is shared with the stream translator, so a streamed answer and a whole one read
// the same wire fields the same way.

import { badRequest, badUpstreamResponse, GatewayError, streamInterrupted as interrupted, unsupportedParam, upstreamError } from '../../core/errors.ts';
import type {
  ChatChoice,
  ChatMessage,
  ChatRequest,
  ChatResponse,
  ContentPart,
  FinishReason,
  FunctionTool,
  ReasoningEffort,
  ResponseFormat,
  ToolCall,
  Usage,
} from '../../core/types.ts';
import {
  completionId,
  contentParts,
  contentText,
  imageTypeFromUrl,
  maxOutputTokens,
  nowSeconds,
  parseDataUrl,
  stopList,
  thinkingBudget,
  toolCallId,
  rejectUnknownParams,
} from '../shared.ts';

// ---------------------------------------------------------------------------------------------------------------
// Wire types (only the fields this adapter reads or writes)

export interface GeminiPart {
  text?: string;
  thought?: boolean;
  thoughtSignature?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType?: string; fileUri: string };
  functionCall?: { id?: string; name: string; args?: Record<string, unknown> };
  functionResponse?: { id?: string; name: string; response: Record<string, unknown> };
  executableCode?: unknown;
  codeExecutionResult?: unknown;
}

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

interface FunctionDeclaration {
  name: string;
  description?: string;
  parametersJsonSchema?: Record<string, unknown>;
}

interface ToolConfig {
  functionCallingConfig: { mode: 'AUTO' | 'NONE' | 'ANY'; allowedFunctionNames?: string[] };
}

interface GenerationConfig {
  temperature?: number;
  topP?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  seed?: number;
  candidateCount?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseLogprobs?: boolean;
  logprobs?: number;
  responseMimeType?: string;
  responseJsonSchema?: Record<string, unknown>;
  thinkingConfig?: { thinkingBudget: number; includeThoughts?: boolean };
}

export interface GeminiChatBody {
  contents: GeminiContent[];
  systemInstruction?: { parts: { text: string }[] };
  tools?: { functionDeclarations: FunctionDeclaration[] }[];
  toolConfig?: ToolConfig;
  generationConfig?: GenerationConfig;
}

export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
  cachedContentTokenCount?: number;
  totalTokenCount?: number;
}

interface LogprobsCandidate {
  token?: string;
  logProbability?: number;
}

export interface GeminiLogprobsResult {
  chosenCandidates?: LogprobsCandidate[];
  topCandidates?: { candidates?: LogprobsCandidate[] }[];
}

export interface GeminiCandidate {
  index?: number;
  content?: { role?: string; parts?: GeminiPart[] };
  finishReason?: string;
  logprobsResult?: GeminiLogprobsResult;
}

export interface GeminiErrorBody {
  code?: number;
  message?: string;
  status?: string;
  details?: { '@type'?: string; retryDelay?: string }[];
}

export interface GenerateContentResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
  error?: GeminiErrorBody;
}

// ---------------------------------------------------------------------------------------------------------------
// Request

/**
 * Gemini 3 rejects a replayed function call whose step lacks the thoughtSignature it was generated with, and the
 * canonical shape has nowhere to keep that signature between turns. Google documents this value as the signature to
 * send for calls whose real signature is not available; the model then continues without its earlier reasoning state.
 */
export const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

export function buildChatBody(req: ChatRequest, providerName: string): GeminiChatBody {
  rejectUnsupported(req, providerName);
  const { system, contents } = convertMessages(req.messages);
  const body: GeminiChatBody = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system.map((text) => ({ text })) };
  if (req.tools?.length) body.tools = [{ functionDeclarations: req.tools.map(toDeclaration) }];
  const toolConfig = toToolConfig(req);
  if (toolConfig) body.toolConfig = toolConfig;
  const generationConfig = toGenerationConfig(req);
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;
  // `user`, `metadata` and a message's `name` have no Gemini field and change nothing about the answer (OpenAI uses
  // `user` for abuse tracking and `metadata` for stored completions), so they are left out rather than refused.
  return body;
}

function rejectUnsupported(req: ChatRequest, provider: string): void {
  rejectUnknownParams(req, provider);
  if (req.parallel_tool_calls === false) {
    throw unsupportedParam(provider, 'parallel_tool_calls', 'Gemini has no switch to turn off parallel function calls; leave it unset or true');
  }
  if (req.logit_bias && Object.keys(req.logit_bias).length > 0) {
    throw unsupportedParam(provider, 'logit_bias', 'Gemini cannot bias token probabilities');
  }
}

function convertMessages(messages: ChatMessage[]): { system: string[]; contents: GeminiContent[] } {
  const system: string[] = [];
  const contents: GeminiContent[] = [];
  // Gemini matches a function response to its call by name, which OpenAI tool messages do not carry.
  const toolNames = new Map<string, string>();
  messages.forEach((msg, i) => {
    switch (msg.role) {
      case 'system':
      case 'developer': {
        const text = contentText(msg.content, `messages[${i}].content`);
        if (text) system.push(text);
        return;
      }
      case 'user':
        return append(contents, 'user', toParts(msg.content, `messages[${i}].content`));
      case 'assistant':
        return append(contents, 'model', modelParts(msg, i, toolNames));
      case 'tool':
        return append(contents, 'user', [functionResponsePart(msg, i, toolNames)]);
      default:
        throw badRequest(`messages[${i}].role '${String(msg.role)}' is not a chat role`, `messages[${i}].role`);
    }
  });
  if (contents.length === 0) {
    throw badRequest('messages needs at least one user, assistant or tool message; Gemini cannot answer a system prompt alone', 'messages');
  }
  return { system, contents };
}

/** Gemini wants user and model turns to alternate, so consecutive messages of one role become one turn. */
function append(contents: GeminiContent[], role: GeminiContent['role'], parts: GeminiPart[]): void {
  if (parts.length === 0) return;
  const last = contents.at(-1);
  if (last?.role === role) last.parts.push(...parts);
  else contents.push({ role, parts });
}

function toParts(content: ChatMessage['content'], param: string): GeminiPart[] {
  return contentParts(content, param).flatMap((part, k) => contentPart(part, `${param}[${k}]`));
}

function contentPart(part: ContentPart, param: string): GeminiPart[] {
  // Gemini refuses empty text parts; an empty one carries nothing anyway.
  if (part.type === 'text') return part.text === '' ? [] : [{ text: part.text }];
  return [imagePart(part.image_url.url, `${param}.image_url.url`)];
}

/**
 * `detail` has no per-part equivalent in the generateContent API and is only a hint, so it is not sent. Public
 * http(s) and signed URLs are fetched by the Gemini API itself (supported since January 2026; older models such as
 * the 2.0 family may still refuse them, and then only inlining the bytes upstream of this adapter helps).
 */
function imagePart(url: string, param: string): GeminiPart {
  const dataUrl = parseDataUrl(url);
  if (dataUrl) return { inlineData: { mimeType: dataUrl.mediaType, data: dataUrl.data } };
  if (/^https?:\/\//i.test(url)) return { fileData: { mimeType: imageTypeFromUrl(url), fileUri: url } };
  // gs:// objects are read with the gateway's own Google identity (on Vertex), so a client could read the operator's buckets.
  throw badRequest(`${param} must be a base64 data URL or an http(s) URL`, param);
}

/** Reasoning the client kept goes back as a thought part, ahead of the answer, as Gemini produced it. */
function modelParts(msg: ChatMessage, i: number, toolNames: Map<string, string>): GeminiPart[] {
  const parts: GeminiPart[] = [];
  if (msg.reasoning_content) parts.push({ text: msg.reasoning_content, thought: true });
  parts.push(...toParts(msg.content, `messages[${i}].content`));
  msg.tool_calls?.forEach((call, j) => {
    toolNames.set(call.id, call.function.name);
    parts.push(functionCallPart(call, j === 0, `messages[${i}].tool_calls[${j}].function.arguments`));
  });
  return parts;
}

/** Only the first call of a step carries a signature, exactly where Gemini itself puts one. */
function functionCallPart(call: ToolCall, firstOfStep: boolean, param: string): GeminiPart {
  const part: GeminiPart = {
    functionCall: { ...(isGeminiCallId(call.id) && { id: call.id }), name: call.function.name, args: parseArguments(call.function.arguments, param) },
  };
  if (firstOfStep) part.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
  return part;
}

function parseArguments(args: string, param: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw badRequest(`${param} is not valid JSON; Gemini needs the call's arguments as a JSON object`, param);
  }
  if (!isPlainObject(parsed)) throw badRequest(`${param} must be a JSON object; Gemini takes arguments as an object`, param);
  return parsed;
}

/**
 * Ids Gemini minted come back to it so it can pair calls and responses; ids minted here (toolCallId) or by other
 * providers mean nothing to Gemini, which then pairs by name and order.
 */
function isGeminiCallId(id: string): boolean {
  return !/^(call_|toolu_)/.test(id);
}

function functionResponsePart(msg: ChatMessage, i: number, toolNames: Map<string, string>): GeminiPart {
  const id = msg.tool_call_id;
  const name = id === undefined ? undefined : toolNames.get(id);
  if (id === undefined || name === undefined) {
    throw badRequest(
      `messages[${i}].tool_call_id '${id ?? ''}' does not match a tool call of an earlier assistant message; Gemini needs the function's name, taken from that call`,
      `messages[${i}].tool_call_id`,
    );
  }
  const text = contentText(msg.content, `messages[${i}].content`);
  return { functionResponse: { ...(isGeminiCallId(id) && { id }), name, response: toolResponse(text) } };
}

/** Gemini's response is a JSON object (a protobuf Struct); anything else is wrapped so no tool output is lost. */
function toolResponse(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isPlainObject(parsed)) return parsed;
  } catch {
    // Plain text output: wrapped below.
  }
  return { content: text };
}

/**
 * parametersJsonSchema takes standard JSON Schema, so client schemas go through untouched instead of being cut down
 * to the OpenAPI subset `parameters` accepts. `strict` has no Gemini counterpart: Gemini validates calls against the
 * declaration on its own terms.
 */
function toDeclaration(tool: FunctionTool): FunctionDeclaration {
  const { name, description, parameters } = tool.function;
  return { name, ...(description !== undefined && { description }), ...(parameters && { parametersJsonSchema: parameters }) };
}

function toToolConfig(req: ChatRequest): ToolConfig | undefined {
  const choice = req.tool_choice;
  if (choice == null) return undefined;
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  const name = choice.function.name;
  if (!req.tools?.some((tool) => tool.function.name === name)) {
    throw badRequest(`tool_choice names function '${name}', which is not in tools`, 'tool_choice');
  }
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [name] } };
}

function toGenerationConfig(req: ChatRequest): GenerationConfig {
  return withoutNulls({
    temperature: req.temperature,
    topP: req.top_p,
    maxOutputTokens: maxOutputTokens(req),
    stopSequences: stopList(req.stop),
    seed: req.seed,
    candidateCount: req.n,
    presencePenalty: req.presence_penalty,
    frequencyPenalty: req.frequency_penalty,
    ...logprobsConfig(req),
    ...responseFormatConfig(req.response_format),
    thinkingConfig: thinkingConfig(req.reasoning_effort),
  });
}

function logprobsConfig(req: ChatRequest): Pick<GenerationConfig, 'responseLogprobs' | 'logprobs'> {
  if (req.top_logprobs && !req.logprobs) throw badRequest('top_logprobs requires logprobs: true', 'top_logprobs');
  if (!req.logprobs) return {};
  return req.top_logprobs ? { responseLogprobs: true, logprobs: req.top_logprobs } : { responseLogprobs: true };
}

/** Gemini enforces responseJsonSchema itself, so json_schema's `strict` is always in effect; `name` has no field. */
function responseFormatConfig(format: ResponseFormat | undefined): Pick<GenerationConfig, 'responseMimeType' | 'responseJsonSchema'> {
  if (format?.type === 'json_object') return { responseMimeType: 'application/json' };
  if (format?.type !== 'json_schema') return {};
  const schema = format.json_schema.schema;
  return { responseMimeType: 'application/json', ...(schema && { responseJsonSchema: schema }) };
}

function thinkingConfig(effort: ReasoningEffort | undefined): GenerationConfig['thinkingConfig'] {
  if (effort == null) return undefined;
  if (effort === 'none') return { thinkingBudget: 0 };
  const budget = thinkingBudget(effort);
  return budget === undefined ? undefined : { thinkingBudget: budget, includeThoughts: true };
}

/** Clients send JSON null for "not set"; Gemini would reject a null where it expects a number. */
function withoutNulls<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v != null)) as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------------------
// Response

export function parseChatBody(body: unknown, model: string): ChatResponse {
  const res = asResponse(body);
  const response: ChatResponse = {
    id: res.responseId ?? completionId(),
    object: 'chat.completion',
    created: nowSeconds(),
    model: res.modelVersion ?? model,
    choices: res.candidates?.length ? res.candidates.map((c, pos) => toChoice(c, c.index ?? pos)) : [blockedChoice(res)],
  };
  if (res.usageMetadata) response.usage = toUsage(res.usageMetadata);
  return response;
}

export function asResponse(body: unknown): GenerateContentResponse {
  if (!isPlainObject(body)) throw badUpstream('the response is not a JSON object');
  return body as GenerateContentResponse;
}

function toChoice(candidate: GeminiCandidate, index: number): ChatChoice {
  let content: string | null = null;
  let reasoning = '';
  const toolCalls: ToolCall[] = [];
  for (const part of candidate.content?.parts ?? []) {
    const read = readPart(part);
    if (read?.kind === 'text') content = (content ?? '') + read.text;
    else if (read?.kind === 'reasoning') reasoning += read.text;
    else if (read?.kind === 'tool_call') toolCalls.push(read.call);
  }
  const choice: ChatChoice = {
    index,
    message: {
      role: 'assistant',
      content,
      ...(reasoning && { reasoning_content: reasoning }),
      ...(toolCalls.length > 0 && { tool_calls: toolCalls }),
    },
    finish_reason: finishReason(candidate.finishReason, toolCalls.length > 0),
  };
  if (candidate.logprobsResult) choice.logprobs = toLogprobs(candidate.logprobsResult);
  return choice;
}

/**
 * A prompt Gemini refuses comes back as promptFeedback.blockReason with no candidates. It is answered as a normal
 * completion with finish_reason content_filter (not a 400) so that it reads the same streamed and unstreamed, and the
 * prompt tokens Gemini counted still reach the usage ledger.
 */
function blockedChoice(res: GenerateContentResponse): ChatChoice {
  if (!res.promptFeedback?.blockReason) throw badUpstream('the response has neither candidates nor a promptFeedback.blockReason');
  return { index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter' };
}

export type PartReading = { kind: 'text' | 'reasoning'; text: string } | { kind: 'tool_call'; call: ToolCall };

/** Part kinds the chat completions shape has no room for; only produced by tools or image models this adapter never asks for. */
const UNREPRESENTABLE_PARTS = ['inlineData', 'fileData', 'executableCode', 'codeExecutionResult'] as const;

/** What one response part contributes; undefined for parts that only carry a thoughtSignature. */
export function readPart(part: GeminiPart): PartReading | undefined {
  if (part.functionCall) {
    const { id, name, args } = part.functionCall;
    return { kind: 'tool_call', call: { id: id ?? toolCallId(), type: 'function', function: { name, arguments: JSON.stringify(args ?? {}) } } };
  }
  if (part.text !== undefined) return { kind: part.thought ? 'reasoning' : 'text', text: part.text };
  const kind = UNREPRESENTABLE_PARTS.find((key) => part[key] !== undefined);
  if (kind) throw badUpstream(`Gemini answered with a ${kind} part, which a chat completion cannot carry`);
  return undefined;
}

const CONTENT_FILTER_REASONS = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/**
 * Endings where the model failed to produce an answer. OpenAI has no finish_reason for them, and reporting `stop`
 * would hand the client a silent empty answer, so they are errors that name Gemini's reason.
 */
const FAILED_REASONS: Record<string, string> = {
  MALFORMED_FUNCTION_CALL: 'the model produced a function call that is not valid',
  UNEXPECTED_TOOL_CALL: 'the model called a tool although none was enabled',
  TOO_MANY_TOOL_CALLS: 'the model made more tool calls than Gemini allows in one turn',
  LANGUAGE: 'the prompt is in a language the model does not support',
  OTHER: 'the generation stopped for an unspecified reason',
};

/** Gemini says STOP after function calls too; OpenAI clients look for tool_calls to run them. */
export function finishReason(reason: string | undefined, hasToolCalls: boolean): FinishReason {
  const failure = reason !== undefined ? FAILED_REASONS[reason] : undefined;
  if (failure) throw badUpstream(`Gemini finished with ${reason}: ${failure}`);
  if (reason === 'MAX_TOKENS') return 'length';
  if (reason !== undefined && CONTENT_FILTER_REASONS.has(reason)) return 'content_filter';
  return reason === 'STOP' && hasToolCalls ? 'tool_calls' : 'stop';
}

/**
 * Thinking tokens are output tokens (billed as such, and inside OpenAI's completion_tokens as reasoning_tokens), and
 * tool-use prompt tokens are input, so prompt + completion adds up to Gemini's total.
 */
export function toUsage(meta: GeminiUsageMetadata): Usage {
  const prompt = (meta.promptTokenCount ?? 0) + (meta.toolUsePromptTokenCount ?? 0);
  const completion = (meta.candidatesTokenCount ?? 0) + (meta.thoughtsTokenCount ?? 0);
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: meta.totalTokenCount ?? prompt + completion };
  if (meta.cachedContentTokenCount !== undefined) usage.prompt_tokens_details = { cached_tokens: meta.cachedContentTokenCount };
  if (meta.thoughtsTokenCount !== undefined) usage.completion_tokens_details = { reasoning_tokens: meta.thoughtsTokenCount };
  return usage;
}

interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}

export function toLogprobs(result: GeminiLogprobsResult): { content: (TokenLogprob & { top_logprobs: TokenLogprob[] })[] } {
  return {
    content: (result.chosenCandidates ?? []).map((chosen, step) => ({
      ...tokenLogprob(chosen),
      top_logprobs: (result.topCandidates?.[step]?.candidates ?? []).map(tokenLogprob),
    })),
  };
}

const utf8 = new TextEncoder();

function tokenLogprob(candidate: LogprobsCandidate): TokenLogprob {
  const token = candidate.token ?? '';
  return { token, logprob: candidate.logProbability ?? 0, bytes: Array.from(utf8.encode(token)) };
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

export function badUpstream(message: string): GatewayError {
  return badUpstreamResponse(`gemini: ${message}`);
}

/** A Gemini `error` object, from a failed response or from inside a stream, as the client's error. */
export function geminiError(provider: string, status: number, error: GeminiErrorBody, retryAfter: string | undefined): GatewayError {
  return upstreamError(provider, status, error.message ?? `HTTP ${status}`, {
    code: error.status ?? null,
    retryAfter: retryAfter ?? retryDelaySeconds(error),
  });
}

export const streamInterrupted = (provider: string): GatewayError => interrupted(provider, 'a finish reason');

/** Gemini's 429s say when to come back in a RetryInfo detail ("37s") rather than always in a retry-after header. */
function retryDelaySeconds(error: GeminiErrorBody): string | undefined {
  const delay = error.details?.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'))?.retryDelay;
  const seconds = delay === undefined ? NaN : Number.parseFloat(delay);
  return Number.isFinite(seconds) ? String(Math.ceil(seconds)) : undefined;
}
