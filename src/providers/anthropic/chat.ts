// Canonical (OpenAI chat-completions) request -> Anthropic Messages API body, and a non-streamed Anthropic message back
// to a canonical response. The conversion is explicit field by field: anything Anthropic cannot honour is refused with
// a 400 that names the parameter, never dropped on the quiet.

import { badRequest, GatewayError, unsupportedParam } from '../../core/errors.ts';
import type {
  ChatMessage,
  ChatRequest,
  ChatResponse,
  ContentPart,
  FinishReason,
  FunctionTool,
  ToolCall,
  Usage,
} from '../../core/types.ts';
import {
  appendAlternatingTurn,
  checkClaudeThinking,
  contentParts,
  contentText,
  isPlainObject,
  maxOutputTokens,
  nowSeconds,
  parseDataUrl,
  stopList,
  thinkingBudget,
  rejectOpenAISamplingExtras,
  rejectUnknownParams,
  toolArguments,
} from '../shared.ts';

/** Anthropic requires max_tokens; this is the cap when the client sets none. */
export const DEFAULT_MAX_TOKENS = 4096;

/**
 * response_format json_object is served by forcing a call to this tool (see jsonObjectTool). The name is reserved so a
 * response can be recognised without the request: the adapter seam hands the response parser only the body.
 */
export const JSON_OBJECT_TOOL = 'switchboard_json_object';

// ---- Wire types (only the fields this adapter reads or writes) ----

type ImageSource = { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };

type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; source: ImageSource }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  | { type: 'tool_result'; tool_use_id: string; content?: string };

interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicBlock[];
}

interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  strict?: boolean;
}

type AnthropicToolChoice =
  | { type: 'auto' | 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

export interface AnthropicRequestBody {
  model: string;
  messages: AnthropicMessage[];
  max_tokens: number;
  system?: { type: 'text'; text: string }[];
  stream?: boolean;
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  metadata?: { user_id: string };
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  thinking?: { type: 'enabled'; budget_tokens: number };
  output_config?: { format: { type: 'json_schema'; schema: Record<string, unknown> } };
}

export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  output_tokens_details?: { thinking_tokens?: number } | null;
}

type ResponseBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: string };

interface AnthropicMessageResponse {
  id: string;
  model?: string;
  content: ResponseBlock[];
  stop_reason: string | null;
  usage?: AnthropicUsage;
}

// ---- Request ----

export function toAnthropicRequest(req: ChatRequest, model: string, provider: string): AnthropicRequestBody {
  rejectUnsupported(req, provider);
  const budget = thinkingBudget(req.reasoning_effort);
  if (budget !== undefined) checkClaudeThinking(req, provider);

  const { system, messages } = convertMessages(req.messages);
  const requestedMax = maxOutputTokens(req);
  const body: AnthropicRequestBody = { model, messages, max_tokens: requestedMax ?? DEFAULT_MAX_TOKENS };
  if (system.length > 0) body.system = system;
  if (req.stream) body.stream = true;
  if (req.temperature != null) body.temperature = req.temperature;
  if (req.top_p != null) body.top_p = req.top_p;
  const stops = stopList(req.stop);
  if (stops && stops.length > 0) body.stop_sequences = stops;
  // OpenAI's `metadata` tags stored completions and is never seen by the model; Anthropic's metadata only takes a
  // user id, so the tags have nowhere to go and are left out by design rather than by accident.
  if (req.user) body.metadata = { user_id: req.user };
  if (budget !== undefined && !continuesToolLoop(messages)) {
    body.thinking = { type: 'enabled', budget_tokens: budget };
    // Anthropic counts thinking inside max_tokens and needs max_tokens > budget. The budget is the gateway's pick for
    // an effort level, so the client's cap is read as room for the answer on top of it.
    body.max_tokens = budget + (requestedMax ?? DEFAULT_MAX_TOKENS);
  }
  Object.assign(body, toolFields(req));
  applyResponseFormat(req, body, provider, budget !== undefined);
  return body;
}

function rejectUnsupported(req: ChatRequest, provider: string): void {
  rejectUnknownParams(req, provider);
  rejectOpenAISamplingExtras(req, provider, 'Anthropic');
}

/**
 * With thinking on, Anthropic requires the last assistant turn of a tool loop to open with the signed thinking block it
 * issued, and canonical history cannot carry one. So the steps that continue a tool loop run without thinking, as
 * Anthropic's own error advises; thinking is back on from the next user turn.
 */
function continuesToolLoop(messages: AnthropicMessage[]): boolean {
  const lastAssistant = messages.findLast((m) => m.role === 'assistant');
  return lastAssistant?.content.some((block) => block.type === 'tool_use') ?? false;
}

// ---- Messages ----

function convertMessages(input: ChatMessage[]): {
  system: { type: 'text'; text: string }[];
  messages: AnthropicMessage[];
} {
  const system: { type: 'text'; text: string }[] = [];
  const messages: AnthropicMessage[] = [];
  input.forEach((message, i) => {
    if (message.role === 'system' || message.role === 'developer') {
      // Anthropic has a single top-level system prompt; instructions given mid-conversation join it in order.
      const text = contentText(message.content, `messages[${i}].content`);
      if (text) system.push({ type: 'text', text });
      return;
    }
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    appendAlternatingTurn(messages, role, messageBlocks(message, i), (b) => b.type === 'tool_result');
  });
  return { system, messages };
}

// Anthropic has no participant names. `name` is an optional hint that some clients send on every message, so refusing
// it would break them; it is not carried over.
function messageBlocks(message: ChatMessage, i: number): AnthropicBlock[] {
  switch (message.role) {
    case 'user':
      return contentParts(message.content, `messages[${i}].content`).flatMap((part, k) =>
        partBlocks(part, `messages[${i}].content[${k}]`),
      );
    case 'assistant':
      return assistantBlocks(message, i);
    case 'tool':
      return [toolResultBlock(message, i)];
    default:
      throw badRequest(`messages[${i}].role '${String(message.role)}' is not a valid role`, `messages[${i}].role`);
  }
}

function partBlocks(part: ContentPart, param: string): AnthropicBlock[] {
  // Anthropic rejects empty text blocks; an empty part carries nothing, so it is skipped.
  if (part.type === 'text') return part.text === '' ? [] : [{ type: 'text', text: part.text }];
  return [{ type: 'image', source: imageSource(part.image_url.url, `${param}.image_url.url`) }];
}

// `detail` has no Anthropic equivalent: Anthropic sizes images itself.
function imageSource(url: string, param: string): ImageSource {
  const data = parseDataUrl(url);
  if (data) return { type: 'base64', media_type: data.mediaType, data: data.data };
  if (/^https?:\/\//i.test(url)) return { type: 'url', url };
  throw badRequest(`${param} must be a base64 data: URL or an http(s) URL`, param);
}

// Anthropic replays thinking only with the signature it issued for it, and the canonical shape carries no signature,
// so earlier reasoning_content is left out of the history rather than sent back unsigned (which Anthropic rejects).
function assistantBlocks(message: ChatMessage, i: number): AnthropicBlock[] {
  const blocks: AnthropicBlock[] = contentParts(message.content, `messages[${i}].content`).flatMap(
    (part, k): AnthropicBlock[] => {
      const param = `messages[${i}].content[${k}]`;
      if (part.type !== 'text') throw badRequest(`${param}: assistant messages may only contain text`, param);
      return part.text === '' ? [] : [{ type: 'text', text: part.text }];
    },
  );
  (message.tool_calls ?? []).forEach((call, j) => blocks.push(toolUseBlock(call, `messages[${i}].tool_calls[${j}]`)));
  return blocks;
}

function toolUseBlock(call: ToolCall, param: string): AnthropicBlock {
  return { type: 'tool_use', id: call.id, name: call.function.name, input: toolArguments(call.function.arguments, `${param}.function.arguments`) };
}

function toolResultBlock(message: ChatMessage, i: number): AnthropicBlock {
  if (!message.tool_call_id) {
    throw badRequest(`messages[${i}].tool_call_id is required for a tool message`, `messages[${i}].tool_call_id`);
  }
  const text = contentText(message.content, `messages[${i}].content`);
  return text === ''
    ? { type: 'tool_result', tool_use_id: message.tool_call_id }
    : { type: 'tool_result', tool_use_id: message.tool_call_id, content: text };
}

// ---- Tools ----

function toolFields(req: ChatRequest): Pick<AnthropicRequestBody, 'tools' | 'tool_choice'> {
  if (!req.tools || req.tools.length === 0) {
    if (req.tool_choice === 'required' || typeof req.tool_choice === 'object') {
      throw badRequest('tool_choice requires tools to be given', 'tool_choice');
    }
    return {};
  }
  const fields: Pick<AnthropicRequestBody, 'tools' | 'tool_choice'> = { tools: req.tools.map(toAnthropicTool) };
  const choice = toolChoice(req);
  if (choice) fields.tool_choice = choice;
  return fields;
}

function toAnthropicTool(tool: FunctionTool, j: number): AnthropicTool {
  const { name, description, parameters, strict } = tool.function;
  if (name === JSON_OBJECT_TOOL) {
    throw badRequest(`tools[${j}].function.name '${name}' is reserved by the gateway`, `tools[${j}].function.name`);
  }
  const out: AnthropicTool = { name, input_schema: parameters ?? { type: 'object', properties: {} } };
  if (description !== undefined) out.description = description;
  if (strict !== undefined) out.strict = strict;
  return out;
}

function toolChoice(req: ChatRequest): AnthropicToolChoice | undefined {
  const noParallel = req.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  const choice = req.tool_choice;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'required') return { type: 'any', ...noParallel };
  if (typeof choice === 'object') return { type: 'tool', name: choice.function.name, ...noParallel };
  // 'auto' is Anthropic's default too; it is spelled out only when parallel calls must be turned off.
  if (choice === 'auto' || req.parallel_tool_calls === false) return { type: 'auto', ...noParallel };
  return undefined;
}

// ---- Response format ----

/**
 * json_schema uses Anthropic's native structured outputs (output_config.format, generally available without a beta
 * header): the answer arrives as ordinary text, works alongside tools and thinking, and needs no rewriting on the way
 * back. Models or schemas Anthropic cannot constrain are refused upstream with a 400 that says so.
 *
 * json_object has no native form (structured outputs needs a closed schema), so it forces a call to a tool whose input
 * is any object and the call is turned back into JSON text. Forcing a tool rules out thinking and the client's tools.
 */
function applyResponseFormat(req: ChatRequest, body: AnthropicRequestBody, provider: string, thinking: boolean): void {
  const format = req.response_format;
  if (!format || format.type === 'text') return;
  if (format.type === 'json_schema') {
    body.output_config = { format: { type: 'json_schema', schema: jsonSchema(format.json_schema) } };
    return;
  }
  if (thinking) {
    throw unsupportedParam(provider, 'response_format', jsonObjectConflict('cannot be combined with reasoning_effort'));
  }
  if (body.tools) {
    throw unsupportedParam(provider, 'response_format', jsonObjectConflict('cannot be combined with tools'));
  }
  body.tools = [jsonObjectTool()];
  body.tool_choice = { type: 'tool', name: JSON_OBJECT_TOOL };
}

function jsonObjectConflict(what: string): string {
  return (
    `json_object is served by forcing a tool call on Anthropic, so it ${what}; ` +
    'use a json_schema response_format, which Anthropic supports natively.'
  );
}

function jsonObjectTool(): AnthropicTool {
  return {
    name: JSON_OBJECT_TOOL,
    description: 'Give your complete answer as a JSON object.',
    input_schema: { type: 'object' },
  };
}

// The schema's name is only an identifier; its description guides the model, so it travels inside the schema.
function jsonSchema(spec: { description?: string; schema?: Record<string, unknown> }): Record<string, unknown> {
  if (!spec.schema) {
    throw badRequest('response_format.json_schema.schema is required', 'response_format.json_schema.schema');
  }
  if (spec.description === undefined || 'description' in spec.schema) return spec.schema;
  return { ...spec.schema, description: spec.description };
}

// ---- Response ----

const FINISH_BY_STOP_REASON: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/**
 * `hasToolCalls` is false when the only tool used was the json_object tool: its call is the answer, not a request for
 * the client to run something.
 */
export function finishReason(stopReason: string | null | undefined, hasToolCalls: boolean): FinishReason | null {
  if (stopReason == null) return null;
  if (stopReason === 'tool_use' && !hasToolCalls) return 'stop';
  return FINISH_BY_STOP_REASON[stopReason] ?? 'stop';
}

/** Anthropic reports uncached, cache-read and cache-written input apart; OpenAI's prompt_tokens is their sum. */
export function toUsage(usage: AnthropicUsage): Usage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheCreation = usage.cache_creation_input_tokens ?? 0;
  const prompt = (usage.input_tokens ?? 0) + cacheRead + cacheCreation;
  const completion = usage.output_tokens ?? 0;
  const out: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead, cache_creation_tokens: cacheCreation },
  };
  const reasoning = usage.output_tokens_details?.thinking_tokens;
  if (reasoning != null) out.completion_tokens_details = { reasoning_tokens: reasoning };
  return out;
}

export function fromAnthropicResponse(body: unknown, model: string): ChatResponse {
  const message = asMessage(body);
  const texts: string[] = [];
  const reasoning: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) collectBlock(block, texts, reasoning, toolCalls);

  const assistant: ChatResponse['choices'][number]['message'] = {
    role: 'assistant',
    content: texts.length > 0 ? texts.join('') : null,
  };
  if (reasoning.length > 0) assistant.reasoning_content = reasoning.join('');
  if (toolCalls.length > 0) assistant.tool_calls = toolCalls;

  const response: ChatResponse = {
    id: message.id,
    object: 'chat.completion',
    created: nowSeconds(),
    model: message.model ?? model,
    choices: [{ index: 0, message: assistant, finish_reason: finishReason(message.stop_reason, toolCalls.length > 0) }],
  };
  if (message.usage) response.usage = toUsage(message.usage);
  return response;
}

// redacted_thinking is encrypted with nothing readable, and server-tool blocks only appear for server tools this
// adapter never requests, so only the block types below carry something the canonical response can hold.
function collectBlock(block: ResponseBlock, texts: string[], reasoning: string[], toolCalls: ToolCall[]): void {
  if (isBlock(block, 'text')) texts.push(block.text);
  else if (isBlock(block, 'thinking')) reasoning.push(block.thinking);
  else if (isBlock(block, 'tool_use')) {
    const args = JSON.stringify(block.input ?? {});
    if (block.name === JSON_OBJECT_TOOL) texts.push(args);
    else toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: args } });
  }
}

function isBlock<T extends ResponseBlock['type']>(
  block: ResponseBlock,
  type: T,
): block is Extract<ResponseBlock, { type: T }> {
  return block.type === type;
}

function asMessage(body: unknown): AnthropicMessageResponse {
  if (isPlainObject(body) && typeof body.id === 'string' && Array.isArray(body.content)) {
    return body as unknown as AnthropicMessageResponse;
  }
  throw new GatewayError(502, 'upstream_error', 'anthropic: the upstream response is not a Messages API message', {
    code: 'upstream_invalid_response',
  });
}

