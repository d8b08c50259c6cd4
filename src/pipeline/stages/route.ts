// Resolves the client's model name into targets, in the order the route's rules and strategy pick for this request,
// before anything else needs them. Afterwards, the target that answered is no longer busy with this request, and a
// sticky route pins the conversation to it.

import type { Router } from '../../routing/router.ts';
import type { Stage } from '../stages.ts';

export function routeStage(router: Router): Stage {
  return {
    name: 'route',
    before(ctx) {
      ctx.route = router.pick(ctx.model, ctx);
    },
    after(ctx) {
      const busy = ctx.busy;
      if (busy) {
        busy.inFlight--;
        ctx.busy = undefined;
      }
      const sticky = ctx.route?.sticky;
      if (sticky && ctx.target && !ctx.error) sticky.remember(ctx, ctx.target.id);
    },
  };
}
