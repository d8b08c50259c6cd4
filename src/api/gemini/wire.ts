// The Gemini API's request bodies as the translation reads them (generateContent, countTokens, embedContent,
// batchEmbedContents). Only what a translating target needs is typed; native targets get the body as it came, so
// nothing here limits what reaches Gemini itself.

import { z } from 'zod';
import { badRequest } from '../../core/errors.ts';
import { isPlainObject } from '../../providers/shared.ts';
import { parseBody } from '../validation.ts';

const camel = (key: string): string => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * The REST API reads proto field names in lowerCamelCase and snake_case alike (Google's own curl examples use both,
 * `inline_data` and `inlineData`), and a JSON null means the field is unset. Each object level is brought to
 * camelCase here, so the translation reads one spelling; free-form values (arguments, schemas) are left as they are.
 */
export function protoFields(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (field !== null) out[camel(key)] = field;
  return out;
}

const proto = <S extends z.ZodRawShape>(shape: S) => z.preprocess(protoFields, z.looseObject(shape));

const json = z.record(z.string(), z.unknown());

const part = proto({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  thoughtSignature: z.string().optional(),
  inlineData: proto({ mimeType: z.string().min(1), data: z.string() }).optional(),
  fileData: proto({ mimeType: z.string().optional(), fileUri: z.string().min(1) }).optional(),
  functionCall: proto({ id: z.string().optional(), name: z.string().min(1), args: json.optional() }).optional(),
  functionResponse: proto({ id: z.string().optional(), name: z.string().min(1), response: json.optional() }).optional(),
});

const content = proto({ role: z.enum(['user', 'model']).optional(), parts: z.array(part) });

const functionDeclaration = proto({
  name: z.string().min(1),
  description: z.string().optional(),
  parameters: json.optional(),
  parametersJsonSchema: z.unknown().optional(),
});

const tool = proto({ functionDeclarations: z.array(functionDeclaration).optional() });

const toolConfig = proto({
  functionCallingConfig: proto({
    mode: z.enum(['MODE_UNSPECIFIED', 'AUTO', 'ANY', 'NONE', 'VALIDATED']).optional(),
    allowedFunctionNames: z.array(z.string()).optional(),
  }).optional(),
});

const thinkingConfig = proto({
  includeThoughts: z.boolean().optional(),
  thinkingBudget: z.number().int().min(-1).optional(),
  thinkingLevel: z.enum(['THINKING_LEVEL_UNSPECIFIED', 'MINIMAL', 'LOW', 'MEDIUM', 'HIGH']).optional(),
});

const generationConfig = proto({
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().min(0).max(1).optional(),
  topK: z.number().positive().optional(),
  candidateCount: z.number().int().positive().optional(),
  maxOutputTokens: z.number().int().positive().optional(),
  stopSequences: z.array(z.string()).optional(),
  seed: z.number().int().optional(),
  presencePenalty: z.number().optional(),
  frequencyPenalty: z.number().optional(),
  responseLogprobs: z.boolean().optional(),
  logprobs: z.number().int().min(0).optional(),
  responseMimeType: z.string().optional(),
  responseSchema: json.optional(),
  responseJsonSchema: z.unknown().optional(),
  responseModalities: z.array(z.string()).optional(),
  thinkingConfig: thinkingConfig.optional(),
});

const safetySetting = proto({ category: z.string().optional(), threshold: z.string().optional() });

export const generateContentSchema = proto({
  contents: z.array(content).min(1, 'contents must hold at least one turn'),
  systemInstruction: proto({ role: z.string().optional(), parts: z.array(part) }).optional(),
  tools: z.array(tool).optional(),
  toolConfig: toolConfig.optional(),
  generationConfig: generationConfig.optional(),
  safetySettings: z.array(safetySetting).optional(),
  cachedContent: z.string().optional(),
  model: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

export type GenerateContentRequest = z.output<typeof generateContentSchema>;
export type Part = z.output<typeof part>;
export type Content = z.output<typeof content>;
export type GenerationConfig = z.output<typeof generationConfig>;
export type FunctionDeclaration = z.output<typeof functionDeclaration>;

export function parseGenerateContent(body: unknown): GenerateContentRequest {
  return parseBody(generateContentSchema, body);
}

/** countTokens takes either bare contents or a whole generateContentRequest. */
const countTokensSchema = proto({
  contents: z.array(content).optional(),
  generateContentRequest: generateContentSchema.optional(),
});

export function parseCountTokens(body: unknown): GenerateContentRequest {
  const req = parseBody(countTokensSchema, body);
  if (req.generateContentRequest) return req.generateContentRequest;
  if (req.contents?.length) return { contents: req.contents };
  throw badRequest('countTokens needs contents, or a generateContentRequest holding them', 'contents');
}

const embedContent = proto({
  model: z.string().optional(),
  content,
  taskType: z.string().optional(),
  title: z.string().optional(),
  outputDimensionality: z.number().int().positive().optional(),
});

export type EmbedContentRequest = z.output<typeof embedContent>;

export function parseEmbedContent(body: unknown): EmbedContentRequest {
  return parseBody(embedContent, body);
}

const batchEmbedContents = proto({ requests: z.array(embedContent).min(1, 'requests must hold at least one request') });

export function parseBatchEmbedContents(body: unknown): EmbedContentRequest[] {
  return parseBody(batchEmbedContents, body).requests;
}
