// Request validation for the OpenAI surface. Fields the gateway translates are typed strictly so a wrong type is a 400
// naming the field; unknown fields are kept (loose objects) so new OpenAI parameters reach OpenAI untouched.

import { z } from 'zod';
import type { ChatRequest, EmbeddingsRequest } from '../../core/types.ts';
import { parseBody } from '../validation.ts';

const textPart = z.looseObject({ type: z.literal('text'), text: z.string() });
const imagePart = z.looseObject({
  type: z.literal('image_url'),
  image_url: z.looseObject({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }),
});
// Any part type is accepted so OpenAI-wire providers get audio and file parts untouched; the two the gateway
// translates are checked field by field, and translating providers refuse other types (providers/shared.ts).
const contentPart = z.looseObject({ type: z.string() }).superRefine((part, ctx) => {
  const schema = part.type === 'text' ? textPart : part.type === 'image_url' ? imagePart : undefined;
  const result = schema?.safeParse(part);
  for (const issue of result?.error?.issues ?? []) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
});

const toolCall = z.looseObject({
  id: z.string(),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string().min(1), arguments: z.string() }),
});

const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(contentPart)]).nullish(),
  name: z.string().nullish(),
  tool_calls: z.array(toolCall).nullish(),
  tool_call_id: z.string().nullish(),
});

const functionTool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  }),
});

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string().min(1) }) }),
]);

const responseFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({
      name: z.string().min(1),
      description: z.string().nullish(),
      schema: z.record(z.string(), z.unknown()).nullish(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

const positiveInt = z.number().int().positive();

export const chatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(message).min(1, 'messages must contain at least one message'),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_tokens: positiveInt.nullish(),
  max_completion_tokens: positiveInt.nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  seed: z.number().int().nullish(),
  n: positiveInt.nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  tools: z.array(functionTool).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: responseFormat.nullish(),
  reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).nullish(),
  user: z.string().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
});

export const embeddingsRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1),
    z.array(z.number().int()).min(1),
    z.array(z.array(z.number().int()).min(1)).min(1),
  ]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: positiveInt.optional(),
  user: z.string().optional(),
});

/**
 * JSON null means "not set" in OpenAI requests (SDKs send it), so nulls are dropped after validation and the rest of
 * the gateway only sees absent or a real value. Only the request's own object levels are cleaned: a tool's JSON
 * schema may hold a meaningful null (`"default": null`).
 */
function dropNulls<T extends object>(value: T | undefined): void {
  if (!value) return;
  for (const key of Object.keys(value)) {
    if ((value as Record<string, unknown>)[key] === null) delete (value as Record<string, unknown>)[key];
  }
}

function withoutNulls(req: ChatRequest): ChatRequest {
  dropNulls(req);
  for (const message of req.messages) dropNulls(message);
  for (const tool of req.tools ?? []) dropNulls(tool.function);
  if (req.response_format?.type === 'json_schema') dropNulls(req.response_format.json_schema);
  dropNulls(req.stream_options);
  return req;
}

export function parseChatRequest(body: unknown): ChatRequest {
  return withoutNulls(parseBody(chatRequestSchema, body) as ChatRequest);
}

export function parseEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  return parseBody(embeddingsRequestSchema, body) as EmbeddingsRequest;
}
