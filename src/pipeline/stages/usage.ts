// Hands a usage record for every request that reached a provider, answered or not, to the sink, and for every one
// answered by sharing another's provider call.

import { usageRecord, type UsageRecord } from '../../usage/record.ts';
import type { Pricing } from '../../usage/pricing.ts';
import type { UsageSink } from '../../usage/sink.ts';
import type { Stage } from '../stages.ts';

/** Told of every record beside the sink, on the request's path: an increment or two, no I/O (alert rules' counts). */
export interface UsageObserver {
  observe(record: UsageRecord): void;
}

export function usageStage(pricing: Pricing, sink: UsageSink, observer?: UsageObserver): Stage {
  return {
    name: 'usage',
    after(ctx) {
      if (!ctx.target || (ctx.attempts === 0 && !ctx.coalesced)) return;
      const record = usageRecord(ctx, pricing);
      sink.write(record);
      observer?.observe(record);
    },
  };
}
