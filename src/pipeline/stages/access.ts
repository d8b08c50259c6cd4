// What the caller may use, checked once the route is known: the surface (openai, anthropic, responses, gemini) and
// the model (identity/model-access.ts). A refusal is a 403 naming what the key may use, in the surface's error shape.

import { GatewayError } from '../../core/errors.ts';
import { checkModel } from '../../identity/model-access.ts';
import type { Stage } from '../stages.ts';

export function accessStage(): Stage {
  return {
    name: 'access',
    before(ctx) {
      const identity = ctx.identity;
      if (identity === undefined) return;
      const surfaces = identity.allowed_surfaces;
      if (surfaces.length > 0 && !surfaces.includes(ctx.surface)) {
        throw new GatewayError(403, 'permission_error', `This API key may not be used on the ${ctx.surface} surface. It may use: ${surfaces.join(', ')}.`, {
          code: 'surface_not_allowed',
        });
      }
      checkModel(identity, ctx.model, ctx.route);
    },
  };
}
