// How a route with several targets picks the order it tries them in, per request. Each strategy returns the route
// itself when it keeps the configured order, so a single-target or fallback route costs no allocation; otherwise a
// copy with its targets reordered (ctx.route), whose first target is the pick and the rest its fallbacks.

import type { Strategy } from '../config/schema.ts';
import type { Pricing } from '../usage/pricing.ts';
import type { Route, Target } from './router.ts';

/** What the gateway has seen of a target, on the Target itself (tenant copies of it share the object). */
export interface TargetStats {
  /** Requests whose attempt on this target has started and not ended (streams until their last byte). */
  inFlight: number;
  /** Exponentially weighted mean of the time from sending to an accepted answer (first chunk for streams), ms. */
  latencyMs: number;
  /** Date.now() of the last latency sample; 0 before the first. */
  sampledAt: number;
}

export const newTargetStats = (): TargetStats => ({ inFlight: 0, latencyMs: 0, sampledAt: 0 });

/** Weight of a new latency sample in the mean: the last ~10 answers dominate. */
const LATENCY_ALPHA = 0.2;
/** A target not heard from for this long is sampled again, so a slow target that recovered gets traffic back. */
const LATENCY_STALE_MS = 30_000;

export function observeLatency(stats: TargetStats, ms: number, now = Date.now()): void {
  stats.latencyMs = stats.sampledAt === 0 || now - stats.sampledAt > LATENCY_STALE_MS ? ms : stats.latencyMs + LATENCY_ALPHA * (ms - stats.latencyMs);
  stats.sampledAt = now;
}

export type Orderer = (route: Route) => Route;

/** The route with target `index` tried first and the others after it in their order; the route itself for 0. */
export function startingWith(route: Route, index: number): Route {
  if (index === 0) return route;
  const targets = route.targets;
  return { ...route, targets: [targets[index]!, ...targets.slice(0, index), ...targets.slice(index + 1)] };
}

/** The index of the smallest `score`, the first one on ties (configured order breaks them). */
function argmin(targets: readonly Target[], score: (t: Target) => number): number {
  let best = 0;
  let bestScore = score(targets[0]!);
  for (let i = 1; i < targets.length; i++) {
    const s = score(targets[i]!);
    if (s < bestScore) {
      best = i;
      bestScore = s;
    }
  }
  return best;
}

export interface OrdererOptions {
  pricing: Pricing;
  random?: () => number;
  now?: () => number;
}

/** The orderer of one configured route, made once per configuration. */
export function orderer(strategy: Strategy, route: Route, weights: readonly number[], opts: OrdererOptions): Orderer {
  if (route.targets.length < 2) return (r) => r;
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  switch (strategy) {
    case 'fallback':
      return (r) => r;
    case 'weighted': {
      const total = weights.reduce((a, b) => a + b, 0);
      return (r) => {
        let x = random() * total;
        for (let i = 0; i < weights.length; i++) {
          x -= weights[i]!;
          if (x < 0) return startingWith(r, i);
        }
        return startingWith(r, weights.length - 1);
      };
    }
    case 'round-robin': {
      let next = 0;
      return (r) => {
        const i = next;
        next = (next + 1) % r.targets.length;
        return startingWith(r, i);
      };
    }
    case 'least-busy':
      return (r) => startingWith(r, argmin(r.targets, (t) => t.stats.inFlight));
    case 'latency':
      return (r) => {
        const at = now();
        // Never answered, or not for a while: tried before any measured one, so every target gets measured.
        return startingWith(r, argmin(r.targets, (t) => (t.stats.sampledAt === 0 || at - t.stats.sampledAt > LATENCY_STALE_MS ? -1 : t.stats.latencyMs)));
      };
    case 'cost': {
      // Prices do not change while a configuration runs: the order is worked out once. Unpriced targets go last.
      const probe = { prompt_tokens: 1_000_000, completion_tokens: 1_000_000, total_tokens: 2_000_000 };
      const price = (t: Target) => {
        const cost = opts.pricing.cost(t.provider, t.model, probe);
        return cost.priced ? cost.usd : Number.POSITIVE_INFINITY;
      };
      const sorted = route.targets.map((t, i) => ({ t, i, p: price(t) })).sort((a, b) => a.p - b.p || a.i - b.i);
      const cheapestFirst = { ...route, targets: sorted.map((s) => s.t) };
      return () => cheapestFirst;
    }
  }
}
