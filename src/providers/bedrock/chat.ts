// Canonical (OpenAI chat-completions) request -> Bedrock Converse body, and a Converse response back to a canonical
// one. Converse is one shape for every model family Bedrock hosts (Anthropic, Llama, Mistral, Nova, …); what a family
// cannot do (forcing a tool, structured output) Bedrock refuses with a 400 of its own, which reaches the client as is.
// What Converse itself has no field for is refused here with a 400 naming the parameter, never dropped.

import { badRequest, billedEvenIfFailed, unsupportedParam } from '../../core/errors.ts';
import type { ChatMessage, ChatRequest, ChatResponse, ContentPart, FinishReason, FunctionTool, ToolCall, Usage } from '../../core/types.ts';
import { JSON_OBJECT_TOOL } from '../anthropic/chat.ts';
import {
  appendAlternatingTurn,
  checkClaudeThinking,
  completionId,
  contentParts,
  contentText,
  isPlainObject,
  maxOutputTokens,
  nowSeconds,
  parseDataUrl,
  rejectOpenAISamplingExtras,
  rejectUnknownParams,
  stopList,
  thinkingBudget,
  toolArguments,
} from '../shared.ts';
import { invalidUpstream } from './errors.ts';

/** With thinking on, maxTokens must exceed the budget; this is the room left for the answer when the client sets none. */
const DEFAULT_ANSWER_TOKENS = 4096;

// ---- Wire types (only the fields this adapter reads or writes) ----

type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';

type ContentBlock =
  | { text: string }
  | { image: { format: ImageFormat; source: { bytes: string } } }
  | { toolUse: { toolUseId: string; name: string; input: Record<string, unknown> } }
  | { toolResult: { toolUseId: string; content: { text: string }[] } };

interface ConverseMessage {
  role: 'user' | 'assistant';
  content: ContentBlock[];
}

interface ToolSpec {
  toolSpec: { name: string; description?: string; inputSchema: { json: Record<string, unknown> }; strict?: boolean };
}

type ToolChoice = { auto: Record<string, never> } | { any: Record<string, never> } | { tool: { name: string } };

export interface ConverseRequestBody {
  messages: ConverseMessage[];
  system?: { text: string }[];
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  toolConfig?: { tools: ToolSpec[]; toolChoice?: ToolChoice };
  outputConfig?: {
    textFormat: { type: 'json_schema'; structure: { jsonSchema: { schema: string; name?: string; description?: string } } };
  };
  additionalModelRequestFields?: { thinking: { type: 'enabled'; budget_tokens: number } };
  requestMetadata?: Record<string, string>;
}

export interface ConverseUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

type ResponseBlock = {
  text?: string;
  toolUse?: { toolUseId: string; name: string; input?: unknown };
  reasoningContent?: { reasoningText?: { text?: string } };
};

interface ConverseResponse {
  output: { message: { content: ResponseBlock[] } };
  stopReason?: string;
  usage?: ConverseUsage;
}

// ---- Request ----

export function toConverseRequest(req: ChatRequest, model: string, provider: string): ConverseRequestBody {
  rejectUnsupported(req, provider);
  const { system, messages } = convertMessages(req.messages);
  const body: ConverseRequestBody = { messages };
  if (system.length > 0) body.system = system;

  const budget = thinkingFor(req, model, provider);
  const inference = inferenceConfig(req);
  if (budget !== undefined && !continuesToolLoop(req.messages)) {
    body.additionalModelRequestFields = { thinking: { type: 'enabled', budget_tokens: budget } };
    // Claude counts thinking inside maxTokens and needs more than the budget. The budget is the gateway's pick for an
    // effort level, so the client's cap is read as room for the answer on top of it.
    inference.maxTokens = budget + (maxOutputTokens(req) ?? DEFAULT_ANSWER_TOKENS);
  }
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;

  const tools = toolConfig(req, messages, provider);
  if (tools) body.toolConfig = tools;
  applyResponseFormat(req, body, provider, budget !== undefined);
  const metadata = requestMetadata(req);
  if (metadata) body.requestMetadata = metadata;
  return body;
}

function rejectUnsupported(req: ChatRequest, provider: string): void {
  rejectUnknownParams(req, provider);
  rejectOpenAISamplingExtras(req, provider, 'Bedrock Converse');
}

function inferenceConfig(req: ChatRequest): NonNullable<ConverseRequestBody['inferenceConfig']> {
  const config: NonNullable<ConverseRequestBody['inferenceConfig']> = {};
  const max = maxOutputTokens(req);
  if (max != null) config.maxTokens = max;
  if (req.temperature != null) config.temperature = req.temperature;
  if (req.top_p != null) config.topP = req.top_p;
  const stops = stopList(req.stop);
  if (stops && stops.length > 0) config.stopSequences = stops;
  return config;
}

/**
 * OpenAI's `metadata` tags a completion for later filtering; Bedrock's requestMetadata does the same for invocation
 * logs. `user` identifies the end user for abuse monitoring, which on Bedrock is also what those logs are for.
 */
function requestMetadata(req: ChatRequest): Record<string, string> | undefined {
  const metadata = req.metadata ?? {};
  if (req.user && metadata.user !== undefined && metadata.user !== req.user) {
    throw badRequest("metadata.user and user differ; on Bedrock both are sent as requestMetadata 'user', so give one of them", 'user');
  }
  const out = { ...metadata, ...(req.user && { user: req.user }) };
  return Object.keys(out).length > 0 ? out : undefined;
}

// ---- Reasoning ----

/** Claude in any region or inference profile: `anthropic.claude-…`, `us.anthropic.claude-…`, or an ARN naming one. */
const CLAUDE = /(^|[./])anthropic\.claude/;

/**
 * Converse has no common reasoning switch: each family takes its own fields in additionalModelRequestFields. Claude's
 * extended thinking is the one translated; for other models reasoning_effort is refused rather than guessed.
 */
function thinkingFor(req: ChatRequest, model: string, provider: string): number | undefined {
  const budget = thinkingBudget(req.reasoning_effort);
  if (budget === undefined) return undefined;
  if (!CLAUDE.test(model)) {
    throw unsupportedParam(
      provider,
      'reasoning_effort',
      `it is translated for Anthropic Claude models on Bedrock only (model ids containing 'anthropic.claude'), and '${model}' is not one.`,
    );
  }
  checkClaudeThinking(req, provider);
  return budget;
}

/**
 * With thinking on, Claude requires the last assistant turn of a tool loop to open with the signed thinking block it
 * issued, and canonical history cannot carry one. So the steps that continue a tool loop run without thinking, as
 * Anthropic's own error advises; thinking is back on from the next user turn.
 */
function continuesToolLoop(messages: ChatMessage[]): boolean {
  const lastAssistant = messages.findLast((m) => m.role === 'assistant');
  return (lastAssistant?.tool_calls?.length ?? 0) > 0;
}

// ---- Messages ----

function convertMessages(input: ChatMessage[]): { system: { text: string }[]; messages: ConverseMessage[] } {
  const system: { text: string }[] = [];
  const messages: ConverseMessage[] = [];
  input.forEach((message, i) => {
    if (message.role === 'system' || message.role === 'developer') {
      // Converse has one top-level system prompt; instructions given mid-conversation join it in order.
      const text = contentText(message.content, `messages[${i}].content`);
      if (text) system.push({ text });
      return;
    }
    appendAlternatingTurn(messages, message.role === 'assistant' ? 'assistant' : 'user', messageBlocks(message, i), (b) => 'toolResult' in b);
  });
  return { system, messages };
}

// Converse has no participant names. `name` is an optional hint that some clients send on every message, so refusing
// it would break them; it is not carried over.
function messageBlocks(message: ChatMessage, i: number): ContentBlock[] {
  switch (message.role) {
    case 'user':
      return contentParts(message.content, `messages[${i}].content`).flatMap((part, k) => partBlocks(part, `messages[${i}].content[${k}]`));
    case 'assistant':
      return assistantBlocks(message, i);
    case 'tool':
      return [toolResultBlock(message, i)];
    default:
      throw badRequest(`messages[${i}].role '${String(message.role)}' is not a valid role`, `messages[${i}].role`);
  }
}

function partBlocks(part: ContentPart, param: string): ContentBlock[] {
  // Bedrock rejects blank text blocks; an empty part carries nothing, so it is skipped.
  if (part.type === 'text') return part.text === '' ? [] : [{ text: part.text }];
  return [imageBlock(part.image_url.url, `${param}.image_url.url`)];
}

const IMAGE_FORMATS: Record<string, ImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

// `detail` has no Converse equivalent: each model sizes images itself.
function imageBlock(url: string, param: string): ContentBlock {
  const data = parseDataUrl(url);
  if (data) return { image: { format: imageFormat(data.mediaType, param), source: { bytes: data.data } } };
  // Bedrock reads s3:// images with the gateway's own AWS identity, so a client could have it read the operator's
  // buckets: refused, like http(s) URLs, which Bedrock cannot fetch at all.
  if (/^(s3|https?):\/\//i.test(url)) {
    throw badRequest(`${param}: Bedrock takes images only as base64 data: URLs through this gateway (it cannot fetch http(s) URLs, and s3:// would be read with the gateway's credentials)`, param);
  }
  throw badRequest(`${param} must be a base64 data: URL`, param);
}

function imageFormat(mediaType: string, param: string): ImageFormat {
  const format = IMAGE_FORMATS[mediaType.toLowerCase()];
  if (!format) throw badRequest(`${param}: Bedrock takes png, jpeg, gif and webp images, not ${mediaType}`, param);
  return format;
}

// Bedrock replays reasoning only with the signature it issued for it, and the canonical shape carries no signature,
// so earlier reasoning_content is left out of the history rather than sent back unsigned (which Claude rejects).
function assistantBlocks(message: ChatMessage, i: number): ContentBlock[] {
  const blocks = contentParts(message.content, `messages[${i}].content`).flatMap((part, k): ContentBlock[] => {
    const param = `messages[${i}].content[${k}]`;
    if (part.type !== 'text') throw badRequest(`${param}: assistant messages may only contain text`, param);
    return part.text === '' ? [] : [{ text: part.text }];
  });
  (message.tool_calls ?? []).forEach((call, j) => blocks.push(toolUseBlock(call, `messages[${i}].tool_calls[${j}]`)));
  return blocks;
}

function toolUseBlock(call: ToolCall, param: string): ContentBlock {
  return { toolUse: { toolUseId: call.id, name: call.function.name, input: toolArguments(call.function.arguments, `${param}.function.arguments`) } };
}

function toolResultBlock(message: ChatMessage, i: number): ContentBlock {
  if (!message.tool_call_id) {
    throw badRequest(`messages[${i}].tool_call_id is required for a tool message`, `messages[${i}].tool_call_id`);
  }
  const text = contentText(message.content, `messages[${i}].content`);
  // Bedrock refuses blank text blocks in tool results as everywhere else; inventing filler would change the result.
  if (text.trim() === '') {
    const param = `messages[${i}].content`;
    throw badRequest(`${param} is empty; Bedrock rejects empty tool results, so send some text (e.g. "no output")`, param);
  }
  return { toolResult: { toolUseId: message.tool_call_id, content: [{ text }] } };
}

// ---- Tools ----

function toolConfig(req: ChatRequest, messages: ConverseMessage[], provider: string): ConverseRequestBody['toolConfig'] {
  const choice = req.tool_choice;
  if (!req.tools || req.tools.length === 0) {
    if (choice === 'required' || typeof choice === 'object') throw badRequest('tool_choice requires tools to be given', 'tool_choice');
    return undefined;
  }
  if (req.parallel_tool_calls === false) {
    const why = 'Bedrock Converse has no switch to turn off parallel tool calls; leave it unset or true.';
    throw unsupportedParam(provider, 'parallel_tool_calls', why);
  }
  if (choice === 'none') {
    // Converse has no "none" choice, so the tools are withheld instead. Bedrock refuses a history with tool calls and
    // no toolConfig, and sending the tools there would let the model call them.
    if (messages.some((m) => m.content.some((b) => 'toolUse' in b || 'toolResult' in b))) {
      throw unsupportedParam(
        provider,
        'tool_choice',
        "Bedrock Converse has no tool_choice 'none': the gateway withholds the tools instead, which Bedrock refuses when " +
          "the conversation already holds tool calls. Use 'auto'.",
      );
    }
    return undefined;
  }
  const config: NonNullable<ConverseRequestBody['toolConfig']> = { tools: req.tools.map(toToolSpec) };
  if (choice === 'auto') config.toolChoice = { auto: {} };
  else if (choice === 'required') config.toolChoice = { any: {} };
  else if (typeof choice === 'object') {
    const name = choice.function.name;
    if (!req.tools.some((t) => t.function.name === name)) {
      throw badRequest(`tool_choice names function '${name}', which is not in tools`, 'tool_choice');
    }
    config.toolChoice = { tool: { name } };
  }
  return config;
}

function toToolSpec(tool: FunctionTool, j: number): ToolSpec {
  const { name, description, parameters, strict } = tool.function;
  if (name === JSON_OBJECT_TOOL) {
    throw badRequest(`tools[${j}].function.name '${name}' is reserved by the gateway`, `tools[${j}].function.name`);
  }
  const spec: ToolSpec['toolSpec'] = { name, inputSchema: { json: parameters ?? { type: 'object', properties: {} } } };
  if (description !== undefined) spec.description = description;
  if (strict !== undefined) spec.strict = strict;
  return { toolSpec: spec };
}

// ---- Response format ----

/**
 * json_schema goes to Converse's native structured output (outputConfig.textFormat), which takes the schema as JSON
 * text; the answer arrives as ordinary text. Models without structured output are refused by Bedrock with a 400.
 *
 * json_object has no native form (structured output needs a schema), so it forces a call to a tool whose input is any
 * object and the call is turned back into JSON text, as on Anthropic. Forcing a tool rules out thinking and the
 * client's own tools.
 */
function applyResponseFormat(req: ChatRequest, body: ConverseRequestBody, provider: string, thinking: boolean): void {
  const format = req.response_format;
  if (!format || format.type === 'text') return;
  if (format.type === 'json_schema') {
    const { name, description, schema } = format.json_schema;
    if (!schema) throw badRequest('response_format.json_schema.schema is required', 'response_format.json_schema.schema');
    const jsonSchema = { schema: JSON.stringify(schema), name, ...(description !== undefined && { description }) };
    body.outputConfig = { textFormat: { type: 'json_schema', structure: { jsonSchema } } };
    return;
  }
  const conflict = thinking ? 'reasoning_effort' : body.toolConfig ? 'tools' : undefined;
  if (conflict) {
    throw unsupportedParam(
      provider,
      'response_format',
      `json_object is served by forcing a tool call on Bedrock, so it cannot be combined with ${conflict}; ` +
        'use a json_schema response_format instead.',
    );
  }
  const description = 'Give your complete answer as a JSON object.';
  body.toolConfig = {
    tools: [{ toolSpec: { name: JSON_OBJECT_TOOL, description, inputSchema: { json: { type: 'object' } } } }],
    toolChoice: { tool: { name: JSON_OBJECT_TOOL } },
  };
}

// ---- Response ----

const FINISH_BY_STOP_REASON: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  guardrail_intervened: 'content_filter',
  content_filtered: 'content_filter',
};

/**
 * Endings where the model failed to produce a usable answer. OpenAI has no finish_reason for them, and `stop` would hand
 * the client a broken answer as if it were whole, so they are errors that name Bedrock's reason.
 */
const FAILED_STOP_REASONS: Record<string, string> = {
  malformed_model_output: 'the model produced output Bedrock could not parse',
  malformed_tool_use: 'the model produced a tool call that is not valid',
};

/**
 * `hasToolCalls` is false when the only tool used was the json_object tool: its call is the answer, not a request for
 * the client to run something.
 */
export function finishReason(stopReason: string | undefined, hasToolCalls: boolean, provider: string): FinishReason {
  const failure = stopReason !== undefined ? FAILED_STOP_REASONS[stopReason] : undefined;
  if (failure) throw invalidUpstream(provider, `Bedrock stopped with ${stopReason}: ${failure}`);
  if (stopReason === 'tool_use' && !hasToolCalls) return 'stop';
  return (stopReason !== undefined && FINISH_BY_STOP_REASON[stopReason]) || 'stop';
}

/** Bedrock reports uncached, cache-read and cache-written input apart; OpenAI's prompt_tokens is their sum. */
export function toUsage(usage: ConverseUsage): Usage {
  const cacheRead = usage.cacheReadInputTokens ?? 0;
  const cacheWrite = usage.cacheWriteInputTokens ?? 0;
  const prompt = (usage.inputTokens ?? 0) + cacheRead + cacheWrite;
  const completion = usage.outputTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead, cache_creation_tokens: cacheWrite },
  };
}

/** A Converse answer; `provider` is the name errors carry (the adapter seam passes the body and the model only). */
export function fromConverseResponse(body: unknown, model: string, provider: string): ChatResponse {
  const response = asResponse(body, provider);
  const texts: string[] = [];
  const reasoning: string[] = [];
  const toolCalls: ToolCall[] = [];
  // Redacted reasoning is encrypted with nothing readable, and citations, images and documents only come back for
  // inputs or tools this adapter never sends, so only the blocks below carry something a chat completion can hold.
  for (const block of response.output.message.content) {
    if (typeof block.text === 'string') texts.push(block.text);
    else if (block.toolUse) {
      const args = JSON.stringify(block.toolUse.input ?? {});
      if (block.toolUse.name === JSON_OBJECT_TOOL) texts.push(args);
      else toolCalls.push({ id: block.toolUse.toolUseId, type: 'function', function: { name: block.toolUse.name, arguments: args } });
    } else if (typeof block.reasoningContent?.reasoningText?.text === 'string') reasoning.push(block.reasoningContent.reasoningText.text);
  }
  const message: ChatResponse['choices'][number]['message'] = { role: 'assistant', content: texts.length > 0 ? texts.join('') : null };
  if (reasoning.length > 0) message.reasoning_content = reasoning.join('');
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const usage = response.usage ? toUsage(response.usage) : undefined;
  const out: ChatResponse = {
    id: completionId(),
    object: 'chat.completion',
    created: nowSeconds(),
    model,
    choices: [{ index: 0, message, finish_reason: billedEvenIfFailed(usage, () => finishReason(response.stopReason, toolCalls.length > 0, provider)) }],
  };
  if (usage) out.usage = usage;
  return out;
}

function asResponse(body: unknown, provider: string): ConverseResponse {
  const message = isPlainObject(body) && isPlainObject(body.output) ? body.output.message : undefined;
  if (isPlainObject(message) && Array.isArray(message.content)) return body as unknown as ConverseResponse;
  throw invalidUpstream(provider, 'the upstream response is not a Converse response (no output.message.content)');
}
