// Anthropic Messages request -> canonical (OpenAI chat) request, for targets that do not speak Anthropic natively.
// What the canonical shape cannot carry is refused with a 400 naming the field, never dropped: server tools, documents,
// top_k, output_config.effort. Thinking blocks in the history are the one exception: they are Anthropic's own record of its reasoning,
// which no other provider can read, so they are left out of the translated history.

import { z } from 'zod';
import { badRequest } from '../../core/errors.ts';
import type { ChatMessage, ChatRequest, ContentPart, FunctionTool, ReasoningEffort, ResponseFormat, ToolCall, ToolChoice } from '../../core/types.ts';
import { effortForBudget, THINKING_BUDGETS } from '../../providers/shared.ts';
import { parseBody } from '../validation.ts';

const block = z.looseObject({ type: z.string().min(1) });

const message = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(block)]),
});

const systemBlock = z.looseObject({ type: z.literal('text'), text: z.string() });

const tool = z.looseObject({
  name: z.string().min(1),
  type: z.string().optional(),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
});

const toolChoice = z.looseObject({
  type: z.enum(['auto', 'any', 'tool', 'none']),
  name: z.string().optional(),
  disable_parallel_tool_use: z.boolean().optional(),
});

export const messagesRequestSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z.array(message),
  system: z.union([z.string(), z.array(systemBlock)]).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().positive().optional(),
  stop_sequences: z.array(z.string()).optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
  thinking: z.looseObject({ type: z.string(), budget_tokens: z.number().int().positive().optional() }).optional(),
  output_config: z.looseObject({ format: z.looseObject({ type: z.string(), schema: z.record(z.string(), z.unknown()).optional() }).nullish() }).optional(),
});

export type MessagesRequest = z.output<typeof messagesRequestSchema>;
type Block = z.output<typeof block>;

export function parseMessagesRequest(body: unknown): MessagesRequest {
  return parseBody(messagesRequestSchema, body);
}

/** Fields of the Messages API the translation understands; anything else would be silently lost, so it is refused. */
const KNOWN_FIELDS = new Set([
  'model', 'max_tokens', 'messages', 'system', 'stream', 'temperature', 'top_p', 'top_k', 'stop_sequences', 'tools',
  'tool_choice', 'metadata', 'thinking', 'service_tier', 'output_config',
]);

export function toCanonicalRequest(req: MessagesRequest, target: string): ChatRequest {
  for (const key of Object.keys(req)) {
    if (!KNOWN_FIELDS.has(key)) throw notTranslatable(key, target);
  }
  if (req.top_k !== undefined) throw notTranslatable('top_k', target);
  const messages: ChatMessage[] = [];
  const system = systemText(req.system);
  if (system) messages.push({ role: 'system', content: system });
  req.messages.forEach((m, i) => messages.push(...(m.role === 'user' ? userMessages(m.content, i, target) : [assistantMessage(m.content, i, target)])));

  // max_completion_tokens is the name every current OpenAI model takes (reasoning models refuse max_tokens); adapters
  // for providers and servers that want max_tokens rename it.
  const out: ChatRequest = { model: req.model, messages, max_completion_tokens: req.max_tokens };
  if (req.stream) Object.assign(out, { stream: true, stream_options: { include_usage: true } });
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (req.stop_sequences?.length) out.stop = req.stop_sequences;
  if (req.metadata?.user_id) out.user = req.metadata.user_id;
  if (req.tools?.length) out.tools = req.tools.map((t, j) => functionTool(t, j, target));
  const choice = req.tool_choice;
  if (choice) {
    out.tool_choice = toolChoiceOf(choice);
    if (choice.disable_parallel_tool_use) out.parallel_tool_calls = false;
  }
  const effort = reasoningEffort(req.thinking);
  if (effort) out.reasoning_effort = effort;
  const format = responseFormat(req.output_config, target);
  if (format) out.response_format = format;
  return out;
}

function notTranslatable(param: string, target: string): ReturnType<typeof badRequest> {
  return badRequest(`'${param}' has no equivalent on ${target}, which does not speak the Anthropic Messages API natively; remove it or route this model to an Anthropic provider`, param, 'unsupported_parameter');
}

function systemText(system: MessagesRequest['system']): string | undefined {
  if (system === undefined) return undefined;
  return typeof system === 'string' ? system : system.map((b) => b.text).join('\n\n');
}

function str(value: unknown, param: string): string {
  if (typeof value !== 'string') throw badRequest(`'${param}' must be a string`, param);
  return value;
}

function obj(value: unknown, param: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest(`'${param}' must be an object`, param);
  return value as Record<string, unknown>;
}

function imagePart(b: Block, param: string): ContentPart {
  const source = obj(b.source, `${param}.source`);
  if (source.type === 'base64') {
    return { type: 'image_url', image_url: { url: `data:${str(source.media_type, `${param}.source.media_type`)};base64,${str(source.data, `${param}.source.data`)}` } };
  }
  if (source.type === 'url') return { type: 'image_url', image_url: { url: str(source.url, `${param}.source.url`) } };
  throw badRequest(`'${param}.source.type' must be base64 or url`, `${param}.source.type`);
}

/** A user turn: tool results become tool messages (first, as OpenAI wants them right after the calls), the rest one user message. */
function userMessages(content: string | Block[], i: number, target: string): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const tools: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  content.forEach((b, j) => {
    const param = `messages[${i}].content[${j}]`;
    if (b.type === 'text') parts.push({ type: 'text', text: str(b.text, `${param}.text`) });
    else if (b.type === 'image') parts.push(imagePart(b, param));
    else if (b.type === 'tool_result') tools.push(toolResult(b, param, target));
    else throw notTranslatable(`${param} (${b.type})`, target);
  });
  const user: ChatMessage[] = parts.length === 0 ? [] : [{ role: 'user', content: parts.every((p) => p.type === 'text') ? parts.map((p) => (p as { text: string }).text).join('\n') : parts }];
  return [...tools, ...user];
}

function toolResult(b: Block, param: string, target: string): ChatMessage {
  const id = str(b.tool_use_id, `${param}.tool_use_id`);
  let text: string;
  if (b.content === undefined) text = '';
  else if (typeof b.content === 'string') text = b.content;
  else if (Array.isArray(b.content)) {
    text = b.content
      .map((c: unknown, k: number) => {
        const part = obj(c, `${param}.content[${k}]`);
        if (part.type !== 'text') throw notTranslatable(`${param}.content[${k}] (${String(part.type)})`, target);
        return str(part.text, `${param}.content[${k}].text`);
      })
      .join('\n');
  } else throw badRequest(`'${param}.content' must be a string or an array of blocks`, `${param}.content`);
  // The error flag has no field in OpenAI's tool message; saying it in the text keeps the model informed.
  return { role: 'tool', tool_call_id: id, content: b.is_error === true ? `Error: ${text}` : text };
}

function assistantMessage(content: string | Block[], i: number, target: string): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  const texts: string[] = [];
  const calls: ToolCall[] = [];
  content.forEach((b, j) => {
    const param = `messages[${i}].content[${j}]`;
    if (b.type === 'text') texts.push(str(b.text, `${param}.text`));
    else if (b.type === 'tool_use') {
      calls.push({ id: str(b.id, `${param}.id`), type: 'function', function: { name: str(b.name, `${param}.name`), arguments: JSON.stringify(b.input ?? {}) } });
    } else if (b.type !== 'thinking' && b.type !== 'redacted_thinking') throw notTranslatable(`${param} (${b.type})`, target);
  });
  const out: ChatMessage = { role: 'assistant', content: texts.length > 0 ? texts.join('') : null };
  if (calls.length > 0) out.tool_calls = calls;
  return out;
}

function functionTool(t: z.output<typeof tool>, j: number, target: string): FunctionTool {
  // Anthropic's server and client tools (web search, bash, computer use, …) carry a versioned type; only custom tools translate.
  if (t.type !== undefined && t.type !== 'custom') throw notTranslatable(`tools[${j}] (${t.type})`, target);
  const fn: FunctionTool['function'] = { name: t.name, parameters: t.input_schema ?? { type: 'object', properties: {} } };
  if (t.description !== undefined) fn.description = t.description;
  return { type: 'function', function: fn };
}

function toolChoiceOf(choice: z.output<typeof toolChoice>): ToolChoice {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      if (!choice.name) throw badRequest("'tool_choice.name' is required when tool_choice.type is 'tool'", 'tool_choice.name');
      return { type: 'function', function: { name: choice.name } };
  }
}

/** Structured outputs (output_config.format) as a json_schema response format; the rest of output_config has no equivalent. */
function responseFormat(config: MessagesRequest['output_config'], target: string): ResponseFormat | undefined {
  if (!config) return undefined;
  for (const [key, value] of Object.entries(config)) {
    if (key !== 'format' && value !== undefined && value !== null) throw notTranslatable(`output_config.${key}`, target);
  }
  const format = config.format;
  if (!format) return undefined;
  if (format.type !== 'json_schema') throw notTranslatable(`output_config.format.type (${format.type})`, target);
  if (!format.schema) throw badRequest("'output_config.format.schema' is required", 'output_config.format.schema');
  // Anthropic's format has no name, which OpenAI's json_schema requires.
  return { type: 'json_schema', json_schema: { name: 'response', schema: format.schema } };
}

function reasoningEffort(thinking: MessagesRequest['thinking']): ReasoningEffort | undefined {
  if (!thinking || thinking.type !== 'enabled') return undefined;
  return effortForBudget(thinking.budget_tokens ?? THINKING_BUDGETS.medium);
}
