// Rate limits, quotas and budgets (limits/limiter.ts): before the call, the request is admitted through every counter
// that applies to it, reserving the most it can consume; after, the reservation is settled with what it really used.
// Runs after access, so a refused model costs no counter, and before the call, so a refused request costs no tokens.

import type { Limiter } from '../../limits/limiter.ts';
import type { Stage } from '../stages.ts';

export function limitsStage(limiter: Limiter): Stage {
  return {
    name: 'limits',
    before(ctx) {
      // Nothing to count for this caller: no promise, no allocation.
      if (!limiter.applies(ctx.identity)) return;
      return limiter.reserve(ctx);
    },
    after(ctx) {
      limiter.settle(ctx);
    },
  };
}
