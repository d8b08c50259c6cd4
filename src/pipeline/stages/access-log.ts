// One log line per request (logging.requests), written after the answer so it carries the outcome: who asked (ids,
// never the key), what was asked, which target answered after how many attempts, how it ended, and what it took and
// cost. The usage ledger is the durable record; this line is for log pipelines and people reading along.

import type { Logger } from '../../observability/logger.ts';
import { elapsedMs } from '../../core/elapsed.ts';
import { overheadMs } from '../../observability/overhead.ts';
import type { Stage } from '../stages.ts';

export function accessLogStage(logger: Logger): Stage {
  return {
    name: 'access-log',
    after(ctx) {
      if (!logger.isLevelEnabled('info')) return;
      const identity = ctx.identity;
      const error = ctx.error;
      const usage = ctx.usage;
      const now = performance.now();
      logger.info(
        {
          request_id: ctx.id,
          key_id: identity?.key_id ?? undefined,
          team_id: identity?.team_id ?? undefined,
          user_id: identity?.user_id ?? undefined,
          org_id: identity?.org_id ?? undefined,
          surface: ctx.surface,
          operation: ctx.operation,
          model: ctx.model,
          provider: ctx.target?.provider.name,
          target: ctx.target?.id,
          stream: ctx.stream,
          status: error?.status ?? 200,
          error_type: error?.type,
          error_code: error?.code ?? undefined,
          latency_ms: elapsedMs(ctx.startedAt, now),
          ttft_ms: ctx.ttftMs,
          overhead_ms: overheadMs(ctx.startedAt, ctx.upstreamMs, now),
          attempts: ctx.attempts,
          cache: ctx.coalesced ? 'coalesced' : ctx.attempts > 0 ? 'miss' : undefined,
          input_tokens: usage?.prompt_tokens,
          output_tokens: usage?.completion_tokens,
          cached_tokens: usage?.prompt_tokens_details?.cached_tokens,
          usage_estimated: ctx.usageEstimated || undefined,
          cost_usd: ctx.cost?.usd,
        },
        'request',
      );
    },
  };
}
