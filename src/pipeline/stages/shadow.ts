// Mirrors a sampled request to its model's shadow once it has ended (shadow/runner.ts): in `after`, so the client has
// had its whole answer, streamed or not, before the shadow call starts.

import type { ShadowRunner } from '../../shadow/runner.ts';
import type { Stage } from '../stages.ts';

export function shadowStage(runner: ShadowRunner): Stage {
  return {
    name: 'shadow',
    after(ctx) {
      if (ctx.shadow) runner.mirror(ctx);
    },
  };
}
