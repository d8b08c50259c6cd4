// Hands a usage record for every request that reached a provider, answered or not, to the sink, and for every one
// answered by sharing another's provider call.

import { usageRecord } from '../../usage/record.ts';
import type { Pricing } from '../../usage/pricing.ts';
import type { UsageSink } from '../../usage/sink.ts';
import type { Stage } from '../stages.ts';

export function usageStage(pricing: Pricing, sink: UsageSink): Stage {
  return {
    name: 'usage',
    after(ctx) {
      if (!ctx.target || (ctx.attempts === 0 && !ctx.coalesced)) return;
      sink.write(usageRecord(ctx, pricing));
    },
  };
}
