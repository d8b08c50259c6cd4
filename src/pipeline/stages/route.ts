// Resolves the client's model name into targets, in the order the route's strategy picks for this request, before
// anything else needs them. Afterwards, the target that answered is no longer busy with this request.

import type { Router } from '../../routing/router.ts';
import type { Stage } from '../stages.ts';

export function routeStage(router: Router): Stage {
  return {
    name: 'route',
    before(ctx) {
      ctx.route = router.pick(ctx.model);
    },
    after(ctx) {
      const busy = ctx.busy;
      if (busy) {
        busy.inFlight--;
        ctx.busy = undefined;
      }
    },
  };
}
