// Canonical chat completion → Gemini GenerateContentResponse, for answers from targets that do not speak the Gemini API.
// The stream encoder (stream.ts) builds its chunks from the same pieces, so a streamed answer and a whole one read
// alike.

import type { ChatChoice, ChatResponse, FinishReason, ToolCall, Usage } from '../../core/types.ts';
import { isPlainObject } from '../../providers/shared.ts';

export interface GeminiPart {
  text?: string;
  thought?: boolean;
  functionCall?: { id: string; name: string; args: Record<string, unknown> };
}

export interface GeminiCandidate {
  content: { role: 'model'; parts: GeminiPart[] };
  index: number;
  finishReason?: string;
  logprobsResult?: LogprobsResult;
}

export interface UsageMetadata {
  promptTokenCount: number;
  candidatesTokenCount: number;
  totalTokenCount: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
}

export interface GenerateContentResponse {
  candidates: GeminiCandidate[];
  usageMetadata?: UsageMetadata;
  modelVersion: string;
  responseId: string;
}

interface LogprobsCandidate {
  token: string;
  logProbability: number;
}

interface LogprobsResult {
  chosenCandidates: LogprobsCandidate[];
  topCandidates: { candidates: LogprobsCandidate[] }[];
}

/** Tool calls end a Gemini turn with STOP like any other; OpenAI's content_filter is Gemini's SAFETY. */
const FINISH_REASONS: Record<FinishReason, string> = {
  stop: 'STOP',
  tool_calls: 'STOP',
  function_call: 'STOP',
  length: 'MAX_TOKENS',
  content_filter: 'SAFETY',
};

export function finishReason(reason: FinishReason | null | undefined): string | undefined {
  return reason ? FINISH_REASONS[reason] : undefined;
}

export function toGenerateContentResponse(res: ChatResponse, includeThoughts: boolean): GenerateContentResponse {
  const out: GenerateContentResponse = {
    candidates: res.choices.map((c) => candidate(c, includeThoughts)),
    modelVersion: res.model,
    responseId: res.id,
  };
  if (res.usage) out.usageMetadata = toUsageMetadata(res.usage);
  return out;
}

function candidate(choice: ChatChoice, includeThoughts: boolean): GeminiCandidate {
  const { message } = choice;
  const parts: GeminiPart[] = [];
  if (includeThoughts && message.reasoning_content) parts.push({ text: message.reasoning_content, thought: true });
  if (message.content) parts.push({ text: message.content });
  for (const call of message.tool_calls ?? []) parts.push(functionCallPart(call));
  const out: GeminiCandidate = { content: { role: 'model', parts }, index: choice.index };
  const reason = finishReason(choice.finish_reason);
  if (reason) out.finishReason = reason;
  const logprobs = logprobsResult(choice.logprobs);
  if (logprobs) out.logprobsResult = logprobs;
  return out;
}

/**
 * Gemini hands arguments over as an object. Arguments that are not one (a call cut by the token limit, a model's
 * slip) are still the model's answer, which was paid for: they go to the client as `_raw_arguments`, as on the
 * Anthropic surface, rather than becoming an error that would fail over and pay again.
 */
export function functionCallPart(call: Pick<ToolCall, 'id' | 'function'>): GeminiPart {
  const { name, arguments: text } = call.function;
  let args: unknown = {};
  if (text.trim() !== '') {
    try {
      args = JSON.parse(text);
    } catch {
      args = undefined;
    }
  }
  return { functionCall: { id: call.id, name, args: isPlainObject(args) ? args : { _raw_arguments: text } } };
}

/** Canonical usage counts reasoning inside completion tokens; Gemini counts thoughts beside the candidates. */
export function toUsageMetadata(usage: Usage): UsageMetadata {
  const thoughts = usage.completion_tokens_details?.reasoning_tokens ?? 0;
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const meta: UsageMetadata = {
    promptTokenCount: usage.prompt_tokens,
    candidatesTokenCount: Math.max(0, usage.completion_tokens - thoughts),
    totalTokenCount: usage.total_tokens,
  };
  // Like Gemini, counts that are zero are left out.
  if (cached > 0) meta.cachedContentTokenCount = cached;
  if (thoughts > 0) meta.thoughtsTokenCount = thoughts;
  return meta;
}

interface OpenAILogprob {
  token: string;
  logprob: number;
  top_logprobs?: { token: string; logprob: number }[];
}

export function logprobsResult(logprobs: unknown): LogprobsResult | undefined {
  const content = isPlainObject(logprobs) ? logprobs.content : undefined;
  if (!Array.isArray(content)) return undefined;
  const steps = content as OpenAILogprob[];
  return {
    chosenCandidates: steps.map((s) => ({ token: s.token, logProbability: s.logprob })),
    topCandidates: steps.map((s) => ({ candidates: (s.top_logprobs ?? []).map((t) => ({ token: t.token, logProbability: t.logprob })) })),
  };
}
