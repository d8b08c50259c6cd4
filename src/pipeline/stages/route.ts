// Resolves the client's model name into targets before anything else needs them.

import type { Router } from '../../routing/router.ts';
import type { Stage } from '../stages.ts';

export function routeStage(router: Router): Stage {
  return {
    name: 'route',
    before(ctx) {
      ctx.route = router.resolve(ctx.model);
    },
  };
}
