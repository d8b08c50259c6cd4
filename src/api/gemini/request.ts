// Gemini generateContent request → canonical (OpenAI chat) request, for targets that do not speak the Gemini API
// natively. What the canonical shape cannot carry is refused with a 400 naming the field, never dropped. Two kinds of
// field are let go on purpose: thought signatures (Gemini's own record of its reasoning, which no other provider can
// read) and safety settings that only lower Gemini's filters (there is nothing to enforce elsewhere).

import { badRequest, type GatewayError } from '../../core/errors.ts';
import type { ChatMessage, ChatRequest, ContentPart, FunctionTool, ReasoningEffort, ResponseFormat, ToolCall, ToolChoice } from '../../core/types.ts';
import { effortForBudget, toolCallId } from '../../providers/shared.ts';
import { toJsonSchema } from './json-schema.ts';
import type { Content, FunctionDeclaration, GenerateContentRequest, GenerationConfig, Part } from './wire.ts';

export function notTranslatable(param: string, target: string, why?: string): GatewayError {
  return badRequest(
    `'${param}' has no equivalent on ${target}, which does not speak the Gemini API natively${why ? ` (${why})` : ''}; remove it or route this model to a Gemini provider`,
    param,
    'unsupported_parameter',
  );
}

/** Fields whose value asks for nothing (unset, false, empty) pass whatever the target. */
function isSet(value: unknown): boolean {
  return value !== undefined && value !== false && !(Array.isArray(value) && value.length === 0);
}

function refuseOthers(obj: object, known: ReadonlySet<string>, prefix: string, target: string): void {
  for (const [key, value] of Object.entries(obj)) {
    if (!known.has(key) && isSet(value)) throw notTranslatable(`${prefix}${key}`, target);
  }
}

// `model` is the URL's; `labels` only tag Gemini's billing reports and change nothing about the answer.
const REQUEST_FIELDS = new Set(['contents', 'systemInstruction', 'tools', 'toolConfig', 'generationConfig', 'safetySettings', 'model', 'labels']);
const GENERATION_FIELDS = new Set([
  'temperature', 'topP', 'topK', 'candidateCount', 'maxOutputTokens', 'stopSequences', 'seed', 'presencePenalty',
  'frequencyPenalty', 'responseLogprobs', 'logprobs', 'responseMimeType', 'responseSchema', 'responseJsonSchema',
  'responseModalities', 'thinkingConfig',
]);
/** Google Search, code execution, URL context and the other server tools run inside Gemini only. */
const TOOL_FIELDS = new Set(['functionDeclarations']);
const TOOL_CONFIG_FIELDS = new Set(['functionCallingConfig']);
const DECLARATION_FIELDS = new Set(['name', 'description', 'parameters', 'parametersJsonSchema']);
const PART_FIELDS = new Set(['text', 'thought', 'thoughtSignature', 'inlineData', 'fileData', 'functionCall', 'functionResponse']);
/** Files uploaded to the Gemini Files API are readable with a Gemini key only. */
const FILES_API = /^https:\/\/generativelanguage\.googleapis\.com\//i;
/** Thresholds that only lower Gemini's own filters: nothing for another provider to enforce. */
const PERMISSIVE_THRESHOLDS = new Set(['BLOCK_NONE', 'OFF', 'HARM_BLOCK_THRESHOLD_UNSPECIFIED']);

/** Gemini returns thought parts only when asked to, so translated reasoning is shown only then. */
export function includeThoughts(req: GenerateContentRequest): boolean {
  return req.generationConfig?.thinkingConfig?.includeThoughts === true;
}

/** `model` is the name the client used; `target` names the provider in refusals. */
export function toChatRequest(req: GenerateContentRequest, model: string, stream: boolean, target: string): ChatRequest {
  refuseOthers(req, REQUEST_FIELDS, '', target);
  req.safetySettings?.forEach((s, i) => {
    if (s.threshold !== undefined && !PERMISSIVE_THRESHOLDS.has(s.threshold)) {
      throw notTranslatable(`safetySettings[${i}].threshold`, target, 'the gateway cannot enforce Gemini safety thresholds on another provider');
    }
  });
  const messages: ChatMessage[] = [];
  if (req.systemInstruction) {
    const system = textParts(req.systemInstruction.parts, 'systemInstruction', target);
    if (system.length > 0) messages.push({ role: 'system', content: messageContent(system) });
  }
  messages.push(...convertContents(req.contents, target));

  const out: ChatRequest = { model, messages };
  if (stream) Object.assign(out, { stream: true, stream_options: { include_usage: true } });
  const tools = req.tools?.flatMap((tool, i) => {
    refuseOthers(tool, TOOL_FIELDS, `tools[${i}].`, target);
    return (tool.functionDeclarations ?? []).map((d, j) => functionTool(d, `tools[${i}].functionDeclarations[${j}]`, target));
  });
  if (tools?.length) out.tools = tools;
  applyToolConfig(out, req.toolConfig, target);
  if (req.generationConfig) applyGenerationConfig(out, req.generationConfig, target);
  return out;
}

/** Separate parts stay separate (joining them could run two words together); a lone text part is plain content. */
function messageContent(parts: ContentPart[]): ChatMessage['content'] {
  const only = parts.length === 1 ? parts[0] : undefined;
  return only?.type === 'text' ? only.text : parts;
}

function textParts(parts: Part[], param: string, target: string): ContentPart[] {
  return parts.map((p, k) => {
    if (p.text === undefined) throw notTranslatable(`${param}.parts[${k}]`, target, 'only text parts can be translated here');
    return { type: 'text', text: p.text };
  });
}

/**
 * A model turn becomes one assistant message; a user turn becomes tool messages for its function responses (first,
 * as OpenAI wants them right after the calls) and one user message for the rest. A function response names its call
 * by id when the call had one (Gemini's own, or the one the gateway gave a translated call), else only by name: it
 * then answers the earliest unanswered call of that name.
 */
function convertContents(contents: Content[], target: string): ChatMessage[] {
  const messages: ChatMessage[] = [];
  let open: ToolCall[] = [];
  contents.forEach((turn, i) => {
    const param = `contents[${i}]`;
    turn.parts.forEach((p, k) => refuseOthers(p, PART_FIELDS, `${param}.parts[${k}].`, target));
    if (turn.role === 'model') {
      const message = assistantMessage(turn.parts, param, target);
      open = [...(message.tool_calls ?? [])];
      messages.push(message);
      return;
    }
    const user: ContentPart[] = [];
    turn.parts.forEach((p, k) => {
      const partParam = `${param}.parts[${k}]`;
      if (p.functionResponse) {
        const { id, name, response } = p.functionResponse;
        const call = open.find((c) => id !== undefined && c.id === id) ?? open.find((c) => c.function.name === name);
        if (!call) throw badRequest(`'${partParam}.functionResponse' answers no function call of the model turn before it (name '${name}'${id !== undefined ? `, id '${id}'` : ''})`, `${partParam}.functionResponse`);
        open = open.filter((c) => c !== call);
        messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(response ?? {}) });
      } else if (p.functionCall) {
        throw badRequest(`'${partParam}.functionCall' belongs in a model turn`, `${partParam}.functionCall`);
      } else {
        const part = userPart(p, partParam, target);
        if (part) user.push(part);
      }
    });
    if (user.length > 0) messages.push({ role: 'user', content: messageContent(user) });
  });
  return messages;
}

function userPart(p: Part, param: string, target: string): ContentPart | undefined {
  if (p.text !== undefined) return p.text === '' ? undefined : { type: 'text', text: p.text };
  if (p.inlineData) {
    if (!p.inlineData.mimeType.startsWith('image/')) throw notTranslatable(`${param}.inlineData`, target, `only images translate, not ${p.inlineData.mimeType}`);
    return { type: 'image_url', image_url: { url: `data:${p.inlineData.mimeType};base64,${p.inlineData.data}` } };
  }
  if (p.fileData) {
    const { mimeType, fileUri } = p.fileData;
    if (mimeType !== undefined && !mimeType.startsWith('image/')) throw notTranslatable(`${param}.fileData`, target, `only images translate, not ${mimeType}`);
    if (!/^https?:\/\//i.test(fileUri) || FILES_API.test(fileUri)) {
      throw notTranslatable(`${param}.fileData.fileUri`, target, 'only public http(s) URLs can be fetched by another provider, not Gemini Files API or gs:// URIs');
    }
    return { type: 'image_url', image_url: { url: fileUri } };
  }
  // A part with only a thoughtSignature carries nothing for another provider.
  return undefined;
}

function assistantMessage(parts: Part[], param: string, target: string): ChatMessage {
  let text = '';
  let reasoning = '';
  const calls: ToolCall[] = [];
  parts.forEach((p, k) => {
    const partParam = `${param}.parts[${k}]`;
    if (p.functionCall) {
      const { id, name, args } = p.functionCall;
      calls.push({ id: id ?? toolCallId(), type: 'function', function: { name, arguments: JSON.stringify(args ?? {}) } });
    } else if (p.text !== undefined) {
      if (p.thought) reasoning += p.text;
      else text += p.text;
    } else if (p.inlineData || p.fileData || p.functionResponse) {
      throw notTranslatable(partParam, target, 'a model turn can only carry text, thoughts and function calls there');
    }
  });
  const out: ChatMessage = { role: 'assistant', content: text === '' && calls.length > 0 ? null : text };
  if (reasoning) out.reasoning_content = reasoning;
  if (calls.length > 0) out.tool_calls = calls;
  return out;
}

/** parametersJsonSchema is JSON Schema already; `parameters` is Gemini's OpenAPI subset and is converted. */
function functionTool(d: FunctionDeclaration, param: string, target: string): FunctionTool {
  // `response`, `behavior` and their kin describe what only Gemini does with a declaration.
  refuseOthers(d, DECLARATION_FIELDS, `${param}.`, target);
  const fn: FunctionTool['function'] = { name: d.name };
  if (d.description !== undefined) fn.description = d.description;
  if (d.parametersJsonSchema !== undefined) fn.parameters = d.parametersJsonSchema as Record<string, unknown>;
  else if (d.parameters !== undefined) fn.parameters = toJsonSchema(d.parameters, `${param}.parameters`);
  return { type: 'function', function: fn };
}

/**
 * ANY limited to several functions has no canonical tool_choice; offering only those functions and requiring a call
 * is the same constraint.
 */
function applyToolConfig(out: ChatRequest, config: GenerateContentRequest['toolConfig'], target: string): void {
  if (!config) return;
  refuseOthers(config, TOOL_CONFIG_FIELDS, 'toolConfig.', target);
  const calling = config.functionCallingConfig;
  if (!calling) return;
  const allowed = calling.allowedFunctionNames ?? [];
  const choice = toolChoice(calling.mode, allowed, target);
  if (choice !== undefined) out.tool_choice = choice;
  if (allowed.length > 1) {
    const tools = out.tools ?? [];
    for (const name of allowed) {
      if (!tools.some((t) => t.function.name === name)) throw badRequest(`'toolConfig.functionCallingConfig.allowedFunctionNames' names '${name}', which is not declared in tools`, 'toolConfig.functionCallingConfig.allowedFunctionNames');
    }
    out.tools = tools.filter((t) => allowed.includes(t.function.name));
  }
}

function toolChoice(mode: string | undefined, allowed: string[], target: string): ToolChoice | undefined {
  const param = 'toolConfig.functionCallingConfig';
  if (allowed.length > 0 && mode !== 'ANY') throw badRequest(`'${param}.allowedFunctionNames' is only valid with mode ANY`, `${param}.allowedFunctionNames`);
  switch (mode) {
    case 'AUTO':
      return 'auto';
    case 'NONE':
      return 'none';
    case 'ANY':
      return allowed.length === 1 ? { type: 'function', function: { name: allowed[0]! } } : 'required';
    case 'VALIDATED':
      throw notTranslatable(`${param}.mode`, target, 'VALIDATED has no counterpart; use AUTO or ANY');
    default:
      return undefined;
  }
}

function applyGenerationConfig(out: ChatRequest, c: GenerationConfig, target: string): void {
  const param = (key: string) => `generationConfig.${key}`;
  refuseOthers(c, GENERATION_FIELDS, 'generationConfig.', target);
  if (c.temperature !== undefined) out.temperature = c.temperature;
  if (c.topP !== undefined) out.top_p = c.topP;
  // Not canonical: OpenAI-wire servers that sample by top_k (vLLM, Ollama) receive it, and every other target refuses it.
  if (c.topK !== undefined) out.top_k = c.topK;
  if (c.candidateCount !== undefined && c.candidateCount !== 1) out.n = c.candidateCount;
  if (c.maxOutputTokens !== undefined) out.max_completion_tokens = c.maxOutputTokens;
  if (c.stopSequences?.length) out.stop = c.stopSequences;
  if (c.seed !== undefined) out.seed = c.seed;
  if (c.presencePenalty !== undefined) out.presence_penalty = c.presencePenalty;
  if (c.frequencyPenalty !== undefined) out.frequency_penalty = c.frequencyPenalty;
  if (c.responseLogprobs) {
    out.logprobs = true;
    if (c.logprobs) out.top_logprobs = c.logprobs;
  } else if (c.logprobs) {
    throw badRequest(`'${param('logprobs')}' requires responseLogprobs: true`, param('logprobs'));
  }
  const modalities = c.responseModalities?.filter((m) => m.toUpperCase() !== 'TEXT') ?? [];
  if (modalities.length > 0) throw notTranslatable(param('responseModalities'), target, `only TEXT output translates, not ${modalities.join(', ')}`);
  const format = responseFormat(c, target);
  if (format) out.response_format = format;
  const effort = reasoningEffort(c.thinkingConfig);
  if (effort) out.reasoning_effort = effort;
}

function responseFormat(c: GenerationConfig, target: string): ResponseFormat | undefined {
  const mime = c.responseMimeType ?? 'text/plain';
  const schema = c.responseJsonSchema ?? (c.responseSchema && toJsonSchema(c.responseSchema, 'generationConfig.responseSchema'));
  if (mime === 'application/json') {
    if (schema === undefined) return { type: 'json_object' };
    return { type: 'json_schema', json_schema: { name: 'response', schema: schema as Record<string, unknown> } };
  }
  if (mime !== 'text/plain') throw notTranslatable('generationConfig.responseMimeType', target, `only text/plain and application/json translate, not ${mime}`);
  if (schema !== undefined) throw badRequest("A response schema needs responseMimeType 'application/json'", 'generationConfig.responseMimeType');
  return undefined;
}

/**
 * A thinking budget becomes the smallest effort allowing at least as much; -1 (dynamic) leaves the choice to the
 * target as Gemini leaves it to the model, and 0 turns thinking off.
 */
function reasoningEffort(thinking: GenerationConfig['thinkingConfig']): ReasoningEffort | undefined {
  if (!thinking) return undefined;
  if (thinking.thinkingLevel !== undefined && thinking.thinkingLevel !== 'THINKING_LEVEL_UNSPECIFIED') return thinking.thinkingLevel.toLowerCase() as ReasoningEffort;
  const budget = thinking.thinkingBudget;
  if (budget === undefined || budget === -1) return undefined;
  return budget === 0 ? 'none' : effortForBudget(budget);
}
