// The usage record: one per request that reached a provider, the unit the ledger, budgets and spend reports count.

import type { FailedAttempt } from '../pipeline/attempt-trail.ts';
import type { Operation, RequestContext, Surface } from '../pipeline/context.ts';
import { METADATA_HEADER } from '../request-logs/client-metadata.ts';
import type { CapturedPayload } from '../request-logs/capture.ts';
import { costOf } from './cost.ts';
import type { Pricing } from './pricing.ts';
import { elapsedMs } from '../core/elapsed.ts';
import { isoTime } from '../core/iso-time.ts';

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
  // The request log's detail. Optional: records journaled by an earlier version lack it and must still be written.
  operation?: Operation;
  stream?: boolean;
  /** The failure's GatewayError type, code and message; null when the request succeeded. */
  error_type?: string | null;
  error_code?: string | null;
  error_message?: string | null;
  /** The route's strategy, and its attempts that failed or targets it skipped, in order (the answer came from provider/provider_model). */
  strategy?: string | null;
  failed_attempts?: readonly FailedAttempt[] | null;
  client_ip?: string | null;
  /** The body's `metadata` and the x-switchboard-metadata header as they came; checked and capped when stored. */
  client_metadata?: unknown;
  metadata_header?: string | null;
  /** The bodies, captured for keys and teams with log_payloads. */
  payload?: CapturedPayload | null;
}

/**
 * Model names come from clients (directly addressed `<provider>/<model>` reaches a provider with any name), and
 * PostgreSQL refuses NUL in text: a record it refuses would hold up every record behind it in the ledger.
 */
function withoutNul(name: string): string {
  return name.includes('\0') ? name.replaceAll('\0', '') : name;
}

/** `ctx.target` must be set. `now` (ms since the epoch) and `endedAt` (performance.now()) default to the present. */
export function usageRecord(ctx: RequestContext, pricing: Pricing, now = Date.now(), endedAt = performance.now()): UsageRecord {
  const usage = ctx.usage;
  const cost = costOf(ctx, pricing);
  const identity = ctx.identity;
  const error = ctx.error;
  const metadataHeader = ctx.headers?.[METADATA_HEADER];
  return {
    request_id: ctx.recordId,
    time: isoTime(now),
    key_id: identity?.key_id ?? null,
    team_id: identity?.team_id ?? null,
    user_id: identity?.user_id ?? null,
    org_id: identity?.org_id ?? null,
    surface: ctx.surface,
    model: withoutNul(ctx.model),
    provider: ctx.target!.provider.name,
    provider_model: withoutNul(ctx.target!.model),
    attempts: ctx.attempts,
    status: error?.status ?? 200,
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
    operation: ctx.operation,
    stream: ctx.stream,
    error_type: error?.type ?? null,
    error_code: error?.code ?? null,
    error_message: error?.message ?? null,
    strategy: ctx.route?.strategy ?? null,
    failed_attempts: ctx.failedAttempts ?? null,
    client_ip: ctx.clientIp,
    client_metadata: (ctx.body as { metadata?: unknown } | null | undefined)?.metadata ?? null,
    metadata_header: typeof metadataHeader === 'string' ? metadataHeader : null,
    payload: ctx.payload?.finish(ctx.body) ?? null,
  };
}
