// A request's cost, worked out once: the OpenAI route needs it for a header before it sends the answer, and the usage
// stage needs it again for the record after.

import type { RequestContext } from '../pipeline/context.ts';
import type { Cost, Pricing } from './pricing.ts';

/** Undefined until a provider has answered with usage. */
export function costOf(ctx: RequestContext, pricing: Pricing): Cost | undefined {
  if (ctx.cost) return ctx.cost;
  if (!ctx.target || !ctx.usage) return undefined;
  // A request that shared another's provider call was not billed for it: the one that made the call was.
  if (ctx.coalesced) return (ctx.cost = { usd: 0, priced: true });
  ctx.cost = pricing.cost(ctx.target.provider, ctx.target.model, ctx.usage);
  return ctx.cost;
}
