// Canonical chat request ⇄ Cohere v2 Chat (POST /v2/chat). The response half (content blocks, finish reasons, usage)
// is shared with the stream translator, so a streamed answer and a whole one read the same wire fields the same way.

import { badRequest, badUpstreamResponse, billedEvenIfFailed, GatewayError, unsupportedParam, upstreamError } from '../../core/errors.ts';
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
  contentParts,
  contentText,
  maxOutputTokens,
  nowSeconds,
  rejectUnknownParams,
  stopList,
  thinkingBudget,
  toolCallId,
} from '../shared.ts';

// ---- Wire types (only the fields this adapter reads or writes) ----

type UserContent = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string; detail?: string } };
type AssistantContent = { type: 'text'; text: string } | { type: 'thinking'; thinking: string };

export interface CohereToolCall {
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

type CohereMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | UserContent[] }
  | { role: 'assistant'; content?: AssistantContent[]; tool_calls?: CohereToolCall[]; tool_plan?: string }
  | { role: 'tool'; tool_call_id: string; content: string };

interface CohereTool {
  type: 'function';
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

export interface CohereChatBody {
  model: string;
  messages: CohereMessage[];
  stream?: boolean;
  tools?: CohereTool[];
  strict_tools?: boolean;
  tool_choice?: 'REQUIRED' | 'NONE';
  response_format?: { type: 'json_object'; json_schema?: Record<string, unknown> };
  max_tokens?: number;
  stop_sequences?: string[];
  temperature?: number;
  seed?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  k?: number;
  p?: number;
  thinking?: { type: 'enabled'; token_budget: number } | { type: 'disabled' };
}

export interface CohereUsage {
  billed_units?: { input_tokens?: number; output_tokens?: number };
  tokens?: { input_tokens?: number; output_tokens?: number };
  cached_tokens?: number;
}

interface CohereChatResponse {
  id: string;
  finish_reason?: string;
  message: { content?: { type: string; text?: string; thinking?: string }[]; tool_calls?: CohereToolCall[]; tool_plan?: string };
  usage?: CohereUsage;
}

// ---- Request ----

export function buildChatBody(req: ChatRequest, model: string, provider: string): CohereChatBody {
  const { top_k: topK, ...canonical } = req;
  rejectUnsupported(canonical, provider);
  const body: CohereChatBody = { model, messages: convertMessages(req.messages) };
  if (req.stream) body.stream = true;
  Object.assign(body, toolFields(req));
  const format = responseFormat(req);
  if (format) body.response_format = format;
  const max = maxOutputTokens(req);
  if (max !== undefined) body.max_tokens = max;
  const stops = stopList(req.stop);
  if (stops && stops.length > 0) body.stop_sequences = stops;
  if (req.temperature != null) body.temperature = req.temperature;
  // Cohere's p runs from 0.01 to 0.99 (and defaults to 0.75), so OpenAI's ends of the range go to Cohere's ends:
  // top_p 1 (no cut, the OpenAI default) is the widest nucleus Cohere allows, not Cohere's narrower default.
  if (req.top_p != null) body.p = Math.min(0.99, Math.max(0.01, req.top_p));
  if (topK != null) body.k = topKValue(topK);
  if (req.seed != null) body.seed = req.seed;
  if (req.frequency_penalty != null) body.frequency_penalty = req.frequency_penalty;
  if (req.presence_penalty != null) body.presence_penalty = req.presence_penalty;
  if (req.reasoning_effort !== undefined) {
    const budget = thinkingBudget(req.reasoning_effort);
    body.thinking = budget === undefined ? { type: 'disabled' } : { type: 'enabled', token_budget: budget };
  }
  // `user` (abuse tracking) and `metadata` (stored-completion tags) never change the answer and Cohere has no field for
  // them, so they are left out rather than refused.
  return body;
}

/**
 * `top_k` is not an OpenAI parameter, but clients of OpenAI-compatible servers (vLLM and others) send it under that
 * name, and Cohere has it (`k`), so it is the one extra field this adapter takes.
 */
function topKValue(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw badRequest('top_k must be a non-negative integer', 'top_k');
  return value;
}

function rejectUnsupported(req: ChatRequest, provider: string): void {
  rejectUnknownParams(req, provider);
  if (req.n != null && req.n > 1) throw unsupportedParam(provider, 'n', 'Cohere returns one choice per request; send several requests instead.');
  if (req.logprobs) throw unsupportedParam(provider, 'logprobs', 'this gateway does not translate Cohere log probabilities.');
  if (req.top_logprobs != null && req.top_logprobs > 0) {
    throw unsupportedParam(provider, 'top_logprobs', 'Cohere does not return alternative tokens.');
  }
  if (req.logit_bias && Object.keys(req.logit_bias).length > 0) {
    throw unsupportedParam(provider, 'logit_bias', 'Cohere does not expose token biasing.');
  }
  if (req.parallel_tool_calls === false) {
    throw unsupportedParam(provider, 'parallel_tool_calls', 'Cohere has no switch to turn off parallel tool calls; leave it unset or true.');
  }
}

/**
 * Cohere takes one system message, at the start, so system and developer messages join into it in order (the same
 * choice as for Anthropic). Messages carry no participant names in Cohere; `name` is a hint and is not carried over.
 */
function convertMessages(messages: ChatMessage[]): CohereMessage[] {
  const system: string[] = [];
  const out: CohereMessage[] = [];
  messages.forEach((msg, i) => {
    const param = `messages[${i}]`;
    switch (msg.role) {
      case 'system':
      case 'developer': {
        const text = contentText(msg.content, `${param}.content`);
        if (text) system.push(text);
        return;
      }
      case 'user':
        out.push({ role: 'user', content: userContent(msg.content, `${param}.content`) });
        return;
      case 'assistant': {
        const assistant = assistantMessage(msg, param);
        if (assistant) out.push(assistant);
        return;
      }
      case 'tool':
        if (!msg.tool_call_id) throw badRequest(`${param}.tool_call_id is required for a tool message`, `${param}.tool_call_id`);
        out.push({ role: 'tool', tool_call_id: msg.tool_call_id, content: contentText(msg.content, `${param}.content`) });
        return;
      default:
        throw badRequest(`${param}.role '${String(msg.role)}' is not a chat role`, `${param}.role`);
    }
  });
  return system.length > 0 ? [{ role: 'system', content: system.join('\n\n') }, ...out] : out;
}

function userContent(content: ChatMessage['content'], param: string): string | UserContent[] {
  if (typeof content === 'string') return content;
  return contentParts(content, param).map((part, k) => userPart(part, `${param}[${k}]`));
}

/** Cohere fetches http(s) images itself and takes base64 data URLs inline, both as image_url like OpenAI. */
function userPart(part: ContentPart, param: string): UserContent {
  if (part.type === 'text') return { type: 'text', text: part.text };
  const { url, detail } = part.image_url;
  if (!/^(https?:|data:)/i.test(url)) throw badRequest(`${param}.image_url.url must be an http(s) URL or a base64 data URL`, `${param}.image_url.url`);
  return { type: 'image_url', image_url: detail === undefined ? { url } : { url, detail } };
}

/**
 * Reasoning the client kept goes back where Cohere produced it: as the tool_plan of a step that called tools, else as a
 * thinking block ahead of the answer. An assistant message with nothing in it carries nothing and is left out.
 */
function assistantMessage(msg: ChatMessage, param: string): CohereMessage | undefined {
  const content: AssistantContent[] = [];
  const calls = msg.tool_calls ?? [];
  if (msg.reasoning_content && calls.length === 0) content.push({ type: 'thinking', thinking: msg.reasoning_content });
  contentParts(msg.content, `${param}.content`).forEach((part, k) => {
    if (part.type !== 'text') throw badRequest(`${param}.content[${k}]: assistant messages may only contain text`, `${param}.content[${k}]`);
    if (part.text !== '') content.push({ type: 'text', text: part.text });
  });
  if (content.length === 0 && calls.length === 0) return undefined;
  const out: CohereMessage & { role: 'assistant' } = { role: 'assistant' };
  if (content.length > 0) out.content = content;
  if (calls.length > 0) {
    out.tool_calls = calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.function.name, arguments: c.function.arguments || '{}' } }));
    if (msg.reasoning_content) out.tool_plan = msg.reasoning_content;
  }
  return out;
}

// ---- Tools and response format ----

/**
 * Cohere can force some tool call (REQUIRED) but not a particular one, so forcing a named function offers the model
 * only that function. `strict` is one switch for all tools in Cohere: any strict tool turns it on, which holds the
 * others to their schemas too (stricter, never looser, than asked).
 */
function toolFields(req: ChatRequest): Pick<CohereChatBody, 'tools' | 'strict_tools' | 'tool_choice'> {
  const choice = req.tool_choice;
  const tools = req.tools ?? [];
  if (tools.length === 0) {
    if (choice === 'required' || typeof choice === 'object') throw badRequest('tool_choice requires tools to be given', 'tool_choice');
    return choice === 'none' ? { tool_choice: 'NONE' } : {};
  }
  let offered = tools;
  if (typeof choice === 'object') {
    offered = tools.filter((t) => t.function.name === choice.function.name);
    if (offered.length === 0) {
      throw badRequest(`tool_choice names '${choice.function.name}', which is not among the tools`, 'tool_choice.function.name');
    }
  }
  const fields: Pick<CohereChatBody, 'tools' | 'strict_tools' | 'tool_choice'> = { tools: offered.map(toCohereTool) };
  if (offered.some((t) => t.function.strict)) fields.strict_tools = true;
  if (choice === 'none') fields.tool_choice = 'NONE';
  else if (choice === 'required' || typeof choice === 'object') fields.tool_choice = 'REQUIRED';
  return fields;
}

function toCohereTool(tool: FunctionTool): CohereTool {
  const { name, description, parameters } = tool.function;
  // Cohere requires a schema; a function without parameters takes an empty object.
  return {
    type: 'function',
    function: { name, ...(description !== undefined && { description }), parameters: parameters ?? { type: 'object', properties: {} } },
  };
}

/** Cohere spells a JSON schema answer as json_object with the schema beside it. */
function responseFormat(req: ChatRequest): CohereChatBody['response_format'] {
  const format = req.response_format;
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (!format.json_schema.schema) throw badRequest('response_format.json_schema.schema is required', 'response_format.json_schema.schema');
  return { type: 'json_object', json_schema: format.json_schema.schema };
}

// ---- Response ----

export function parseChatBody(body: unknown, model: string, provider: string): ChatResponse {
  const res = asResponse(body);
  let text: string | null = null;
  let reasoning = res.message.tool_plan ?? '';
  for (const block of res.message.content ?? []) {
    if (block.type === 'text') text = (text ?? '') + (block.text ?? '');
    else if (block.type === 'thinking') reasoning += block.thinking ?? '';
  }
  const toolCalls = (res.message.tool_calls ?? []).map(toToolCall);
  const message: ChatResponse['choices'][number]['message'] = { role: 'assistant', content: text };
  if (reasoning) message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const usage = res.usage ? toUsage(res.usage) : undefined;
  const finish = billedEvenIfFailed(usage, () => finishReason(res.finish_reason, toolCalls.length > 0, undefined, provider));
  const response: ChatResponse = {
    id: res.id,
    object: 'chat.completion',
    created: nowSeconds(),
    model,
    choices: [{ index: 0, message, finish_reason: finish }],
  };
  if (usage) response.usage = usage;
  return response;
}

function asResponse(body: unknown): CohereChatResponse {
  const res = body as CohereChatResponse | null;
  if (typeof res?.id !== 'string' || typeof res.message !== 'object' || res.message === null) {
    throw badUpstreamResponse('cohere: the response is not a v2 chat response (no id or message)');
  }
  return res;
}

function toToolCall(call: CohereToolCall): ToolCall {
  return { id: call.id ?? toolCallId(), type: 'function', function: { name: call.function?.name ?? '', arguments: call.function?.arguments || '{}' } };
}

/**
 * ERROR and TIMEOUT end a generation that failed; reporting `stop` would hand the client a silent partial answer, so
 * they are errors that carry Cohere's own message.
 */
export function finishReason(reason: string | undefined, hasToolCalls: boolean, error: string | undefined, provider: string): FinishReason {
  switch (reason) {
    case 'MAX_TOKENS':
      return 'length';
    case 'TOOL_CALL':
      return 'tool_calls';
    case 'ERROR':
      throw upstreamError(provider, 502, `the generation failed: ${error ?? 'Cohere gave no reason'}`, { code: 'generation_error' });
    case 'TIMEOUT':
      throw new GatewayError(504, 'timeout_error', `${provider}: the generation timed out at Cohere`, { code: 'upstream_timeout', provider });
    default:
      return hasToolCalls ? 'tool_calls' : 'stop';
  }
}

/**
 * Billed units are what Cohere charges for; `tokens` also counts the prompt template Cohere wraps around the messages,
 * so it is only the fallback when billed units are missing.
 */
export function toUsage(usage: CohereUsage): Usage {
  const prompt = usage.billed_units?.input_tokens ?? usage.tokens?.input_tokens ?? 0;
  const completion = usage.billed_units?.output_tokens ?? usage.tokens?.output_tokens ?? 0;
  const out: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (usage.cached_tokens != null) out.prompt_tokens_details = { cached_tokens: usage.cached_tokens };
  return out;
}
