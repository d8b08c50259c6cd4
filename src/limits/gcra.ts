// The counting algorithms behind every limit backend, as pure functions over a counter's state: GCRA for rates,
// sums over time buckets for windows, expiring leases for concurrency. The memory backend calls these; the Redis
// backend's Lua script (redis.ts) mirrors them line for line, so both backends give the same answers to the same
// calls. All arithmetic is on integers below 2^53 (checked on the way in), which doubles in JavaScript and in Lua
// hold exactly, so the two agree to the unit and to the millisecond. The argument checks and the closed-backend error
// both backends share live here too.

import type { LimitOp, OpResult, Settlement } from './backend.ts';

/**
 * A rate counter's theoretical arrival time (TAT), kept exactly as `ms + rem / limit` milliseconds with
 * 0 <= rem < limit: the emission interval periodMs / limit is rarely a whole number of milliseconds, and rounding it
 * would let a rate drift. A limit changed by a config reload reads `rem` against the new limit, which moves the TAT by
 * under a millisecond.
 */
export interface Tat {
  ms: number;
  rem: number;
}

/**
 * How far the TAT is ahead of now, in units of 1/limit ms: the bucket's fill in unit-periods (a unit of cost is
 * periodMs of it; a full bucket is burst * periodMs). 0 when the bucket is empty.
 */
export function rateLevel(tat: Tat | undefined, limit: number, nowMs: number): number {
  if (tat === undefined || tat.ms < nowMs) return 0;
  return (tat.ms - nowMs) * limit + tat.rem;
}

/** The TAT for a fill of `level` at `nowMs`; undefined when the bucket is empty, so its counter can go. */
export function tatOf(level: number, limit: number, nowMs: number): Tat | undefined {
  if (level <= 0) return undefined;
  const q = Math.floor(level / limit);
  return { ms: nowMs + q, rem: level - q * limit };
}

/** Milliseconds from now until the TAT, rounded up: when the bucket is empty again and its counter can go. */
export function untilTat(tat: Tat, nowMs: number): number {
  return tat.ms - nowMs + (tat.rem > 0 ? 1 : 0);
}

/**
 * GCRA: `cost` units pass when max(TAT, now) + cost*T - now <= burst*T (T = periodMs / limit), and the TAT moves on
 * by cost*T. `next` is the TAT to store when the whole admission goes through.
 */
export function rateAdmit(tat: Tat | undefined, op: Extract<LimitOp, { kind: 'rate' }>, nowMs: number): { result: OpResult; next: Tat | undefined } {
  const level = rateLevel(tat, op.limit, nowMs);
  const need = op.cost * op.periodMs;
  const cap = op.burst * op.periodMs;
  const allowed = op.cost <= op.burst && level + need <= cap;
  const after = allowed ? level + need : level;
  // More than the bucket holds can never pass, however long the caller waits.
  const retryAfterMs = allowed || op.cost > op.burst ? 0 : Math.ceil((level + need - cap) / op.limit);
  return {
    result: {
      allowed,
      remaining: Math.max(0, Math.floor((cap - after) / op.periodMs)),
      resetMs: Math.ceil(after / op.limit),
      retryAfterMs,
      missing: false,
    },
    next: tatOf(after, op.limit, nowMs),
  };
}

/** TAT = max(TAT, now) + delta*T, never before now: a refund cannot fill the bucket past full; a charge may overdraw it. */
export function rateSettle(tat: Tat | undefined, s: Extract<Settlement, { kind: 'rate' }>, nowMs: number): Tat | undefined {
  return tatOf(rateLevel(tat, s.limit, nowMs) + s.delta * s.periodMs, s.limit, nowMs);
}

/** The total of the buckets that start at or after `windowStartMs`. */
export function windowValue(buckets: Iterable<readonly [number, number]>, windowStartMs: number): number {
  let value = 0;
  for (const [start, amount] of buckets) if (start >= windowStartMs) value += amount;
  return value;
}

/** The answer for a window counter that was never seeded: refused, so the limiter seeds it and asks again. */
export const MISSING: Readonly<OpResult> = Object.freeze({ allowed: false, remaining: 0, resetMs: 0, retryAfterMs: 0, missing: true });

/**
 * A window counter holding `value` in its window. When its oldest bucket leaves the window, and so when the counter
 * resets or could admit again, depends on the window's shape (calendar or rolling), which only the limiter knows:
 * resetMs and retryAfterMs are 0 here and the limiter works them out.
 */
export function windowAdmit(value: number, op: Extract<LimitOp, { kind: 'window' }>): OpResult {
  const allowed = value + op.cost <= op.limit;
  return { allowed, remaining: Math.max(0, op.limit - value - (allowed ? op.cost : 0)), resetMs: 0, retryAfterMs: 0, missing: false };
}

/** A refused concurrency slot is worth asking for again this soon at most, even when every lease is long. */
export const LEASE_RETRY_MS = 1000;

/**
 * `live`: unexpired leases other than this request's own (a lease admitted again refreshes its slot rather than
 * taking a second); `earliestExpiry`: the soonest expiry among unexpired leases.
 */
export function concurrencyAdmit(live: number, earliestExpiry: number | undefined, op: Extract<LimitOp, { kind: 'concurrency' }>, nowMs: number): OpResult {
  const allowed = live < op.limit;
  const retryAfterMs = allowed || earliestExpiry === undefined ? 0 : Math.min(earliestExpiry - nowMs, LEASE_RETRY_MS);
  return { allowed, remaining: Math.max(0, op.limit - live - (allowed ? 1 : 0)), resetMs: 0, retryAfterMs, missing: false };
}

// Both backends check their arguments here before counting: the Lua script trusts them, and a count that went past
// 2^53 would stop being exact in either language.

function whole(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be a whole number >= ${min}, got ${value}`);
}

function within(name: string, a: number, b: number): void {
  if (!Number.isSafeInteger(a * b)) throw new RangeError(`${name} is too large to count exactly (${a} * ${b})`);
}

function named(what: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new RangeError(`${what} must be a non-empty string`);
}

const ANY = Number.MIN_SAFE_INTEGER;

export function checkNow(nowMs: number): void {
  whole('nowMs', nowMs, 0);
}

/** Every op valid, and each key at most once: the ops of one admission are checked against the same state. */
export function checkOps(ops: readonly LimitOp[]): void {
  const keys = new Set<string>();
  for (const op of ops) {
    named('a limit key', op.key);
    if (keys.has(op.key)) throw new RangeError(`the key ${op.key} appears twice in one admission`);
    keys.add(op.key);
    switch (op.kind) {
      case 'rate':
        whole('limit', op.limit, 1);
        whole('periodMs', op.periodMs, 1);
        whole('burst', op.burst, 1);
        whole('cost', op.cost, 0);
        within('burst * periodMs', op.burst, op.periodMs);
        within('cost * periodMs', op.cost, op.periodMs);
        break;
      case 'window':
        whole('limit', op.limit, 0);
        whole('windowStartMs', op.windowStartMs, ANY);
        whole('bucketStartMs', op.bucketStartMs, ANY);
        whole('cost', op.cost, 0);
        whole('ttlMs', op.ttlMs, 1);
        break;
      case 'concurrency':
        whole('limit', op.limit, 1);
        named('a lease', op.lease);
        whole('ttlMs', op.ttlMs, 1);
        break;
      default:
        throw new RangeError(`unknown limit op kind ${(op as { kind: unknown }).kind}`);
    }
  }
}

export function checkSettlements(items: readonly Settlement[]): void {
  for (const s of items) {
    named('a limit key', s.key);
    switch (s.kind) {
      case 'rate':
        whole('limit', s.limit, 1);
        whole('periodMs', s.periodMs, 1);
        whole('burst', s.burst, 1);
        whole('delta', s.delta, ANY);
        within('delta * periodMs', s.delta, s.periodMs);
        break;
      case 'window':
        whole('bucketStartMs', s.bucketStartMs, ANY);
        whole('delta', s.delta, ANY);
        whole('ttlMs', s.ttlMs, 1);
        break;
      case 'release':
        named('a lease', s.lease);
        break;
      default:
        throw new RangeError(`unknown settlement kind ${(s as { kind: unknown }).kind}`);
    }
  }
}

export function checkSeed(key: string, buckets: ReadonlyMap<number, number>, ttlMs: number): void {
  named('a limit key', key);
  whole('ttlMs', ttlMs, 1);
  for (const [start, amount] of buckets) {
    whole('a bucket start', start, ANY);
    whole('a bucket total', amount, ANY);
  }
}

export class LimitBackendClosedError extends Error {
  constructor() {
    super('the limit backend is closed');
    this.name = 'LimitBackendClosedError';
  }
}
