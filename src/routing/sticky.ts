// Sticky routing: a conversation keeps going to the target that answered its first turn, so a provider's prompt cache
// stays warm and the model's style does not change mid-conversation. Pins are per route, keyed by a field of the
// request the operator names, and last ttl_ms after the latest answer; a pinned target that is not on the route's
// list this time (filtered out, circuit open) simply is not preferred. The table is bounded: pins are added in time
// order, so the oldest are dropped first once it is full.

import type { RequestContext } from '../pipeline/context.ts';
import type { Route } from './router.ts';
import { startingWith } from './strategies.ts';

/** Pins one route keeps at most; past it the oldest are dropped. */
const MAX_PINS = 100_000;

export class StickyTable {
  private readonly pins = new Map<string, { id: string; until: number }>();
  private readonly path: string[];
  private readonly from: 'headers' | 'params' | 'metadata';

  constructor(
    key: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    const [from, ...path] = key.split('.');
    this.from = from as 'headers' | 'params' | 'metadata';
    this.path = this.from === 'headers' ? [path.join('.').toLowerCase()] : path;
  }

  /** The conversation's key in the request, if it has one. */
  private keyOf(ctx: RequestContext): string | undefined {
    let v: unknown = this.from === 'headers' ? ctx.headers : this.from === 'params' ? ctx.body : (ctx.body as { metadata?: unknown } | undefined)?.metadata;
    for (const p of this.path) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    if (Array.isArray(v)) v = v[0];
    return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
  }

  /** `route` with the conversation's pinned target first, when it has one on the route. */
  apply(route: Route, ctx: RequestContext): Route {
    const key = this.keyOf(ctx);
    if (key === undefined) return route;
    const pin = this.pins.get(key);
    if (!pin || pin.until < this.now()) return route;
    const i = route.targets.findIndex((t) => t.id === pin.id);
    return i < 0 ? route : startingWith(route, i);
  }

  /** Pins the conversation of an answered request to the target that answered it. */
  remember(ctx: RequestContext, id: string): void {
    const key = this.keyOf(ctx);
    if (key === undefined) return;
    // Deleted first so the key moves to the end: insertion order is then the order of last use.
    this.pins.delete(key);
    if (this.pins.size >= MAX_PINS) this.pins.delete(this.pins.keys().next().value!);
    this.pins.set(key, { id, until: this.now() + this.ttlMs });
  }
}
