// This instance's traffic since its last flush, per minute and per (model, provider): requests, failures, cost and a
// latency histogram. record() runs on every request's path, so in the steady state it is two map lookups and a few
// numeric increments into buckets made when the pair was first seen; nothing is allocated. Each series keeps a small
// ring of minute slots, enough for the minutes one flush interval can span, and a slot is reused once its minute has
// been drained.

import type { UsageRecord } from '../../usage/record.ts';
import { LATENCY_BUCKETS, latencyBucket } from './histogram.ts';

export const MINUTE_MS = 60_000;

/**
 * Whether a request counts as failed: a 5xx (the provider's, a timeout, the gateway's own) or a 429 (the provider or a
 * limit turned it away). A client's own mistakes (other 4xx) say nothing about the health of the service.
 */
export function isFailure(status: number): boolean {
  return status >= 500 || status === 429;
}

/** One minute of one (model, provider) pair, as drained. */
export interface MinuteDelta {
  minute: number;
  model: string;
  provider: string;
  requests: number;
  errors: number;
  costUsd: number;
  /** Answered requests (status < 400) per latency bucket: failures are the error rate's business, and a burst of
   * instant errors must not hide slow answers. */
  latency: Uint32Array;
}

class Slot {
  minute = -1;
  requests = 0;
  errors = 0;
  costUsd = 0;
  readonly latency = new Uint32Array(LATENCY_BUCKETS);

  reset(minute: number): void {
    this.minute = minute;
    this.requests = 0;
    this.errors = 0;
    this.costUsd = 0;
    this.latency.fill(0);
  }
}

class Series {
  readonly slots: Slot[];
  constructor(
    readonly model: string,
    readonly provider: string,
    ring: number,
  ) {
    this.slots = Array.from({ length: ring }, () => new Slot());
  }
}

/** Traffic beyond this many (model, provider) pairs is counted under the model OTHER_MODEL: model names come from
 * clients, and memory and the shared buckets must stay bounded whatever they send. */
const MAX_SERIES = 1_000;
export const OTHER_MODEL = '(other)';

export class TrafficAccumulator {
  readonly #series = new Map<string, Map<string, Series>>();
  readonly #ring: number;
  #count = 0;

  /** `flushEveryMs`: how often drain() is called, which sets how many minutes a series must hold. */
  constructor(flushEveryMs: number) {
    this.#ring = Math.ceil(flushEveryMs / MINUTE_MS) + 2;
  }

  /** The usage stage's hook: one finished request. */
  observe(record: UsageRecord): void {
    this.record(record.model, record.provider, record.status, record.latency_ms, record.cost_usd, Date.now());
  }

  record(model: string, provider: string, status: number, latencyMs: number, costUsd: number, nowMs: number): void {
    const series = this.#series.get(model)?.get(provider) ?? this.#add(model, provider);
    const minute = Math.floor(nowMs / MINUTE_MS);
    const slot = series.slots[minute % this.#ring]!;
    if (slot.minute !== minute) slot.reset(minute);
    slot.requests++;
    if (isFailure(status)) slot.errors++;
    else if (status < 400) slot.latency[latencyBucket(latencyMs)]!++;
    slot.costUsd += costUsd;
  }

  /** Everything recorded since the last drain, which is then forgotten; series idle for a whole ring are dropped. */
  drain(nowMs: number): MinuteDelta[] {
    const deltas: MinuteDelta[] = [];
    const current = Math.floor(nowMs / MINUTE_MS);
    for (const [model, byProvider] of this.#series) {
      for (const [provider, series] of byProvider) {
        let latest = -1;
        for (const slot of series.slots) {
          latest = Math.max(latest, slot.minute);
          if (slot.requests === 0) continue;
          deltas.push({ minute: slot.minute, model, provider, requests: slot.requests, errors: slot.errors, costUsd: slot.costUsd, latency: slot.latency.slice() });
          slot.reset(slot.minute);
        }
        if (latest <= current - this.#ring) {
          byProvider.delete(provider);
          this.#count--;
        }
      }
      if (byProvider.size === 0) this.#series.delete(model);
    }
    return deltas;
  }

  #add(model: string, provider: string): Series {
    if (this.#count >= MAX_SERIES && model !== OTHER_MODEL) {
      return this.#series.get(OTHER_MODEL)?.get(provider) ?? this.#create(OTHER_MODEL, provider);
    }
    return this.#create(model, provider);
  }

  #create(model: string, provider: string): Series {
    let byProvider = this.#series.get(model);
    if (!byProvider) this.#series.set(model, (byProvider = new Map()));
    const series = new Series(model, provider, this.#ring);
    byProvider.set(provider, series);
    this.#count++;
    return series;
  }
}
