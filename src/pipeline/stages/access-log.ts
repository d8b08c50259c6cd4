// One log line per request, written after the answer so it carries the outcome. Debug level by default because the
// usage ledger (not the log) is the record of every request; operators raise it when they want the lines.

import type { Logger } from '../../observability/logger.ts';
import type { Stage } from '../stages.ts';
import { elapsedMs } from '../../core/elapsed.ts';

export function accessLogStage(logger: Logger): Stage {
  return {
    name: 'access-log',
    after(ctx) {
      if (!logger.isLevelEnabled('debug')) return;
      logger.debug(
        {
          request_id: ctx.id,
          surface: ctx.surface,
          operation: ctx.operation,
          model: ctx.model,
          provider: ctx.target?.provider.name,
          provider_model: ctx.target?.model,
          stream: ctx.stream,
          attempts: ctx.attempts,
          status: ctx.error?.status ?? 200,
          error_code: ctx.error?.code ?? undefined,
          latency_ms: elapsedMs(ctx.startedAt),
          ttft_ms: ctx.ttftMs,
          usage: ctx.usage,
          usage_estimated: ctx.usageEstimated || undefined,
          cost_usd: ctx.cost?.usd,
        },
        'request',
      );
    },
  };
}
