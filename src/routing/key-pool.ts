// Several API keys of one provider, spread by weight. A key the provider answered 429 (its own quota spent) rests while
// the others carry on; when every key rests, the provider is out of capacity and the caller moves to the next target.
// One pool per provider, shared by every target on it; keys are handed out by index, and each target keeps a provider
// copy per key (with its own timeouts), so drawing a key costs no allocation on the request path.

import type { ProviderConfig } from '../providers/types.ts';

interface PooledKey {
  weight: number;
  /** Date.now() until which the key rests; 0 when it is usable. */
  restUntil: number;
}

export interface KeyPoolSnapshot {
  /** The key's position in api_keys: keys themselves never leave the gateway. */
  index: number;
  weight: number;
  resting_until: string | null;
}

export class KeyPool {
  private readonly keys: PooledKey[];
  private readonly cooldownMs: number;

  constructor(
    provider: ProviderConfig,
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {
    this.keys = (provider.api_keys ?? []).map(({ weight }) => ({ weight, restUntil: 0 }));
    this.cooldownMs = provider.key_cooldown_ms ?? 60_000;
  }

  /** The index in api_keys of a usable key, drawn by weight; -1 when every key rests. */
  draw(): number {
    const at = this.now();
    let total = 0;
    for (const k of this.keys) if (k.restUntil <= at) total += k.weight;
    if (total === 0) return -1;
    let x = this.random() * total;
    let last = -1;
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i]!;
      if (k.restUntil > at) continue;
      last = i;
      x -= k.weight;
      if (x < 0) return i;
    }
    return last;
  }

  /** Rests key `index` for `ms`, or the configured cooldown. */
  rest(index: number, ms?: number): void {
    const key = this.keys[index];
    if (key) key.restUntil = Math.max(key.restUntil, this.now() + (ms ?? this.cooldownMs));
  }

  /** ms until the first resting key is usable again: what a client told "no capacity" should wait. */
  nextAvailableInMs(): number {
    const at = this.now();
    return Math.max(0, Math.min(...this.keys.map((k) => k.restUntil - at)));
  }

  snapshot(): KeyPoolSnapshot[] {
    const at = this.now();
    return this.keys.map((k, index) => ({ index, weight: k.weight, resting_until: k.restUntil > at ? new Date(k.restUntil).toISOString() : null }));
  }
}
