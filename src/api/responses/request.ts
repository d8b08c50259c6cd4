// OpenAI Responses request -> canonical (chat completions) request, for targets that do not serve the Responses API
// natively. What lives only in OpenAI's Responses service (stored responses, previous_response_id, conversations,
// background runs, built-in tools, reusable prompts) cannot be provided by the gateway, and anything else the chat
// shape cannot carry is refused with a 400 naming the field, never dropped. Reasoning items in the input are the one
// exception: they are a model's record of its own earlier thinking, which other providers cannot read back (or, like
// DeepSeek, reject), so they are left out of the translated history.

import { z } from 'zod';
import { badRequest, unsupportedParam } from '../../core/errors.ts';
import type { ChatMessage, ChatRequest, ContentPart, FunctionTool, ReasoningEffort, ResponseFormat, ToolChoice } from '../../core/types.ts';
import { parseBody } from '../validation.ts';

/** What every target needs, native or translated; the rest is checked only when the request is translated. */
const envelopeSchema = z.looseObject({ model: z.string().min(1), stream: z.boolean().nullish() });

export type ResponsesEnvelope = z.output<typeof envelopeSchema>;

export function parseResponsesEnvelope(body: unknown): ResponsesEnvelope {
  return parseBody(envelopeSchema, body);
}

const typed = z.looseObject({ type: z.string().min(1) });
const item = z.looseObject({ type: z.string().min(1).optional() });

const responsesRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(item)]).nullish(),
  instructions: z.string().nullish(),
  stream: z.boolean().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  tools: z.array(typed).nullish(),
  tool_choice: z.union([z.enum(['none', 'auto', 'required']), typed]).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  text: z.looseObject({ format: typed.nullish(), verbosity: z.string().nullish() }).nullish(),
  reasoning: z
    .looseObject({
      effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).nullish(),
      summary: z.enum(['auto', 'concise', 'detailed']).nullish(),
      generate_summary: z.enum(['auto', 'concise', 'detailed']).nullish(),
    })
    .nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  user: z.string().nullish(),
  safety_identifier: z.string().nullish(),
  include: z.array(z.string()).nullish(),
  store: z.boolean().nullish(),
  background: z.boolean().nullish(),
  truncation: z.enum(['auto', 'disabled']).nullish(),
  service_tier: z.string().nullish(),
});

export type ResponsesRequest = z.output<typeof responsesRequestSchema>;
type Item = z.output<typeof item>;
type Obj = Record<string, unknown>;

export function parseResponsesRequest(body: unknown): ResponsesRequest {
  return parseBody(responsesRequestSchema, body);
}

const STATE = 'it lives in OpenAI\'s Responses service, which this target does not have; send the whole conversation as input instead, or route the request to an OpenAI model.';

/** Fields that only OpenAI's own Responses service can honour, refused whenever they ask for something. */
const REFUSED: Record<string, string> = {
  previous_response_id: STATE,
  conversation: STATE,
  prompt: 'reusable prompts are stored at OpenAI; send the prompt text as instructions/input, or route the request to an OpenAI model.',
  background: 'background responses are run and stored by OpenAI; make a normal (or streamed) request, or route it to an OpenAI model.',
  max_tool_calls: 'it limits built-in tool calls, which only OpenAI runs.',
  top_logprobs: 'log probabilities are not translated to the Responses format.',
  context_management: 'context compaction is done by OpenAI\'s Responses service.',
};

/**
 * Fields that ask for nothing a translated answer lacks: stream_options only tunes the obfuscation padding of
 * OpenAI's own events, and the prompt cache key and retention only steer OpenAI's cache routing.
 */
const HARMLESS = new Set(['stream_options', 'prompt_cache_key', 'prompt_cache_retention']);

const TRANSLATED = new Set([
  'model', 'input', 'instructions', 'stream', 'temperature', 'top_p', 'max_output_tokens', 'tools', 'tool_choice',
  'parallel_tool_calls', 'text', 'reasoning', 'metadata', 'user', 'safety_identifier', 'include', 'store', 'truncation',
  'service_tier',
]);

/**
 * `include` names extra output to return. Logprobs are the one the translation cannot give. The others either belong
 * to built-in tools (refused on their own) or to stored state, or, for encrypted reasoning, ask for something that
 * does not exist on a translated target: its reasoning is returned in clear as a summary.
 */
const REFUSED_INCLUDES = new Set(['message.output_text.logprobs']);

function checkFields(req: ResponsesRequest, provider: string): void {
  for (const [key, value] of Object.entries(req)) {
    if (value === undefined || value === null || value === false || HARMLESS.has(key)) continue;
    const why = REFUSED[key];
    if (why !== undefined) throw unsupportedParam(provider, key, why);
    if (!TRANSLATED.has(key)) throw unsupportedParam(provider, key, 'the gateway cannot translate it for this provider; remove it, or route the request to an OpenAI model.');
  }
  if (req.store === true) {
    throw unsupportedParam(provider, 'store', "responses are stored by OpenAI's Responses service, which this target does not have; send store: false, or route the request to an OpenAI model.");
  }
  if (req.truncation === 'auto') throw unsupportedParam(provider, 'truncation', "only OpenAI truncates the input for you; send 'disabled' or leave it unset.");
  if (req.service_tier != null && req.service_tier !== 'auto' && req.service_tier !== 'default') {
    throw unsupportedParam(provider, 'service_tier', "service tiers are OpenAI's; leave it unset, 'auto' or 'default'.");
  }
  if (req.text?.verbosity != null) throw unsupportedParam(provider, 'text.verbosity', 'this provider has no verbosity setting; remove it.');
  (req.include ?? []).forEach((name, i) => {
    if (REFUSED_INCLUDES.has(name)) throw unsupportedParam(provider, `include[${i}]`, `'${name}' is not available through the translation.`);
  });
}

export function toCanonicalRequest(req: ResponsesRequest, provider: string): ChatRequest {
  checkFields(req, provider);
  const messages: ChatMessage[] = [];
  if (req.instructions) messages.push({ role: 'system', content: req.instructions });
  if (typeof req.input === 'string') messages.push({ role: 'user', content: req.input });
  else if (req.input) req.input.forEach((it, i) => addItem(messages, it, `input[${i}]`, provider));
  if (!messages.some((m) => m.role !== 'system' && m.role !== 'developer')) throw badRequest("'input' must contain at least one message", 'input');

  const out: ChatRequest = { model: req.model, messages };
  if (req.stream) Object.assign(out, { stream: true, stream_options: { include_usage: true } });
  if (req.temperature != null) out.temperature = req.temperature;
  if (req.top_p != null) out.top_p = req.top_p;
  if (req.max_output_tokens != null) out.max_completion_tokens = req.max_output_tokens;
  if (req.tools?.length) out.tools = req.tools.map((t, j) => functionTool(t, `tools[${j}]`, provider));
  if (req.tool_choice != null) out.tool_choice = toolChoice(req.tool_choice, provider);
  if (req.parallel_tool_calls != null) out.parallel_tool_calls = req.parallel_tool_calls;
  const format = req.text?.format ? responseFormat(req.text.format, provider) : undefined;
  if (format) out.response_format = format;
  if (req.reasoning?.effort != null) out.reasoning_effort = req.reasoning.effort as ReasoningEffort;
  if (req.metadata) out.metadata = req.metadata;
  // safety_identifier is the newer name of `user`: both identify the end user to the provider's abuse checks.
  const user = req.user ?? req.safety_identifier;
  if (user != null) out.user = user;
  return out;
}

// ---- Input items ----

const str = (v: unknown): v is string => typeof v === 'string';

function addItem(messages: ChatMessage[], it: Item, param: string, provider: string): void {
  const type = it.type ?? 'message';
  switch (type) {
    case 'message':
      messages.push(message(it, param, provider));
      return;
    case 'function_call':
      return addFunctionCall(messages, it, param);
    case 'function_call_output':
      messages.push(functionCallOutput(it, param, provider));
      return;
    case 'reasoning':
      return;
    default:
      throw unsupportedParam(provider, `${param}.type`, `input items of type '${type}' exist only in OpenAI's Responses service (built-in tools, stored items); send messages, function_call and function_call_output items, or route the request to an OpenAI model.`);
  }
}

function message(it: Obj, param: string, provider: string): ChatMessage {
  const role = it.role;
  if (role !== 'user' && role !== 'assistant' && role !== 'system' && role !== 'developer') {
    throw badRequest(`${param}.role must be one of 'user', 'assistant', 'system', 'developer'`, `${param}.role`);
  }
  const content = it.content;
  if (str(content)) return { role, content };
  if (!Array.isArray(content)) throw badRequest(`${param}.content must be a string or a list of content parts`, `${param}.content`);
  const parts = content.map((part, k) => contentPart(part, `${param}.content[${k}]`, provider));
  if (role === 'assistant') {
    // A replayed answer: the canonical assistant message holds its text, and images never come from the model.
    return { role, content: parts.map((p, k) => (p.type === 'text' ? p.text : refuseImage(`${param}.content[${k}]`))).join('') };
  }
  return { role, content: parts };
}

function refuseImage(param: string): never {
  throw badRequest(`${param}: an assistant message may only contain output_text`, param);
}

function contentPart(part: unknown, param: string, provider: string): ContentPart {
  if (!part || typeof part !== 'object') throw badRequest(`${param} must be a content part object`, param);
  const p = part as Obj;
  switch (p.type) {
    case 'input_text':
    case 'output_text':
      if (!str(p.text)) throw badRequest(`${param}.text must be a string`, `${param}.text`);
      return { type: 'text', text: p.text };
    case 'refusal':
      if (!str(p.refusal)) throw badRequest(`${param}.refusal must be a string`, `${param}.refusal`);
      return { type: 'text', text: p.refusal };
    case 'input_image':
      return imagePart(p, param, provider);
    case 'input_file':
    case 'input_audio':
      throw unsupportedParam(provider, `${param}.type`, `'${p.type}' content cannot be translated for this provider; send text or input_image, or route the request to an OpenAI model.`);
    default:
      throw badRequest(`${param}.type '${String(p.type)}' is not a content part type; use input_text, input_image or output_text`, `${param}.type`);
  }
}

function imagePart(p: Obj, param: string, provider: string): ContentPart {
  if (!str(p.image_url) || p.image_url === '') {
    if (p.file_id != null) throw unsupportedParam(provider, `${param}.file_id`, 'files uploaded to OpenAI cannot reach this provider; send image_url (an https or base64 data: URL) instead.');
    throw badRequest(`${param}.image_url is required (an https or base64 data: URL)`, `${param}.image_url`);
  }
  const detail = p.detail;
  if (detail === 'low' || detail === 'high' || detail === 'auto') return { type: 'image_url', image_url: { url: p.image_url, detail } };
  return { type: 'image_url', image_url: { url: p.image_url } };
}

/**
 * The chat shape puts every call of one turn on one assistant message, the Responses shape makes each its own item:
 * calls following an assistant message (or each other) join it.
 */
function addFunctionCall(messages: ChatMessage[], it: Obj, param: string): void {
  if (!str(it.call_id) || it.call_id === '') throw badRequest(`${param}.call_id is required`, `${param}.call_id`);
  if (!str(it.name) || it.name === '') throw badRequest(`${param}.name is required`, `${param}.name`);
  if (!str(it.arguments)) throw badRequest(`${param}.arguments must be a string of JSON`, `${param}.arguments`);
  const call = { id: it.call_id, type: 'function' as const, function: { name: it.name, arguments: it.arguments } };
  const last = messages.at(-1);
  if (last?.role === 'assistant') last.tool_calls = [...(last.tool_calls ?? []), call];
  else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
}

function functionCallOutput(it: Obj, param: string, provider: string): ChatMessage {
  if (!str(it.call_id) || it.call_id === '') throw badRequest(`${param}.call_id is required`, `${param}.call_id`);
  const output = it.output;
  if (str(output)) return { role: 'tool', tool_call_id: it.call_id, content: output };
  if (!Array.isArray(output)) throw badRequest(`${param}.output must be a string or a list of content parts`, `${param}.output`);
  return { role: 'tool', tool_call_id: it.call_id, content: output.map((part, k) => contentPart(part, `${param}.output[${k}]`, provider)) };
}

// ---- Tools, tool choice, output format ----

function functionTool(tool: z.output<typeof typed>, param: string, provider: string): FunctionTool {
  if (tool.type !== 'function') {
    throw unsupportedParam(provider, `${param}.type`, `'${tool.type}' is a tool OpenAI runs itself, which the gateway cannot provide on a translated provider; define it as a function tool, or route the request to an OpenAI model.`);
  }
  if (!str(tool.name) || tool.name === '') throw badRequest(`${param}.name is required`, `${param}.name`);
  const fn: FunctionTool['function'] = { name: tool.name };
  if (str(tool.description)) fn.description = tool.description;
  if (tool.parameters != null) {
    if (typeof tool.parameters !== 'object' || Array.isArray(tool.parameters)) throw badRequest(`${param}.parameters must be a JSON schema object`, `${param}.parameters`);
    fn.parameters = tool.parameters as Record<string, unknown>;
  }
  if (typeof tool.strict === 'boolean') fn.strict = tool.strict;
  return { type: 'function', function: fn };
}

function toolChoice(choice: NonNullable<ResponsesRequest['tool_choice']>, provider: string): ToolChoice {
  if (typeof choice === 'string') return choice;
  if (choice.type === 'function') {
    if (!str(choice.name) || choice.name === '') throw badRequest('tool_choice.name is required', 'tool_choice.name');
    return { type: 'function', function: { name: choice.name } };
  }
  throw unsupportedParam(provider, 'tool_choice', `tool_choice of type '${choice.type}' cannot be translated; use 'none', 'auto', 'required' or a function.`);
}

function responseFormat(format: z.output<typeof typed>, provider: string): ResponseFormat | undefined {
  switch (format.type) {
    case 'text':
      return undefined;
    case 'json_object':
      return { type: 'json_object' };
    case 'json_schema': {
      if (!str(format.name) || format.name === '') throw badRequest('text.format.name is required', 'text.format.name');
      if (!format.schema || typeof format.schema !== 'object' || Array.isArray(format.schema)) {
        throw badRequest('text.format.schema must be a JSON schema object', 'text.format.schema');
      }
      const json_schema: Extract<ResponseFormat, { type: 'json_schema' }>['json_schema'] = { name: format.name, schema: format.schema as Record<string, unknown> };
      if (str(format.description)) json_schema.description = format.description;
      if (typeof format.strict === 'boolean') json_schema.strict = format.strict;
      return { type: 'json_schema', json_schema };
    }
    default:
      throw unsupportedParam(provider, 'text.format.type', `'${format.type}' cannot be translated; use text, json_object or json_schema.`);
  }
}
