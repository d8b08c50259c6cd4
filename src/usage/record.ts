// The usage record: one per request that reached a provider, the unit the ledger, budgets and spend reports count.

import type { RequestContext, Surface } from '../pipeline/context.ts';
import { costOf } from './cost.ts';
import type { Pricing } from './pricing.ts';
import { elapsedMs } from '../core/elapsed.ts';

export interface UsageRecord {
  /** Unique per request (RequestContext.recordId): the gateway's request id, or a client's own with a unique suffix. */
  request_id: string;
  /** When the request finished, ISO 8601. */
  time: string;
  key_id: string | null;
  team_id: string | null;
  user_id: string | null;
  org_id: string | null;
  surface: Surface;
  /** The model name the client sent. */
  model: string;
  /** The configured provider name and the model id sent to it. */
  provider: string;
  provider_model: string;
  attempts: number;
  status: number;
  /** The whole prompt, cached parts included. */
  input_tokens: number;
  output_tokens: number;
  /** Prompt tokens read from the provider's cache. */
  cached_tokens: number;
  /** Prompt tokens written to the provider's cache (Anthropic, Bedrock). */
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  /** False when no price was known for the model, so cost_usd is 0 rather than the real cost. */
  priced: boolean;
  latency_ms: number;
  ttft_ms: number | null;
  /**
   * Answered by the gateway without a provider call of its own: from its response cache, or by sharing an identical
   * request's call in flight (coalescing). The tokens are those of the answer it got; the cost is 0.
   */
  cache_hit: boolean;
  /** Token counts estimated by the gateway because the provider reported none. */
  estimated: boolean;
}

/** `ctx.target` must be set. `now` and `endedAt` (performance.now()) default to the present. */
export function usageRecord(ctx: RequestContext, pricing: Pricing, now = new Date(), endedAt = performance.now()): UsageRecord {
  const usage = ctx.usage;
  const cost = costOf(ctx, pricing);
  const identity = ctx.identity;
  return {
    request_id: ctx.recordId,
    time: now.toISOString(),
    key_id: identity?.key_id ?? null,
    team_id: identity?.team_id ?? null,
    user_id: identity?.user_id ?? null,
    org_id: identity?.org_id ?? null,
    surface: ctx.surface,
    model: ctx.model,
    provider: ctx.target!.provider.name,
    provider_model: ctx.target!.model,
    attempts: ctx.attempts,
    status: ctx.error?.status ?? 200,
    input_tokens: usage?.prompt_tokens ?? 0,
    output_tokens: usage?.completion_tokens ?? 0,
    cached_tokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
    cache_write_tokens: usage?.prompt_tokens_details?.cache_creation_tokens ?? 0,
    reasoning_tokens: usage?.completion_tokens_details?.reasoning_tokens ?? 0,
    cost_usd: cost?.usd ?? 0,
    priced: cost?.priced ?? false,
    latency_ms: elapsedMs(ctx.startedAt, endedAt),
    ttft_ms: ctx.ttftMs ?? null,
    cache_hit: ctx.coalesced,
    estimated: ctx.usageEstimated,
  };
}
